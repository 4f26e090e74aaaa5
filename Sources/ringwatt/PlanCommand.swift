import ArgumentParser
import Collectives
import CostModel
import Energy
import Foundation
import RunFiles
import Trainer

/// `ringwatt plan`: for this much work, which configuration — nodes, ranks per node, wire format,
/// overlap, bucket size — costs least, meets the deadline, and by how much.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Price every configuration of a grid for a given amount of work: time, energy, CO₂, the time–energy frontier and the pick.",
        discussion: """
            Each configuration (N nodes × k ranks, wire format, overlap, bucket size) is priced with predict's model on a two-level network (`ringwatt predict --help`; the all-reduce's cost per level in the docs, docs/scaling.md): the per-rank compute time and power from the calibration run(s) (1 node, 1 rank; runs on 1 node with k ranks price how much ranks sharing a machine slow each other), the all-reduce from the fits — `bench-allreduce --fit` on one node with k ranks (intra-node) and on 2 nodes of one rank each (inter-node); a fit on N nodes of k ranks each also prices the rings of N·k ranks and more (a ring of 4 runs differently from a ring of 2 on the same link).

            Energy at the facility as a run's summary counts it: (IT energy + network J/B × bytes) × PUE; CO₂ = kWh × grid intensity. A configuration is on the frontier (*) when no other is both faster and cheaper. The pick: the least energy that meets --deadline (and the fastest within --energy-budget-kwh), with the margin to the runner-up and the term that dominates its energy (compute: the ranks' dynamic power; communication: all power while communication is exposed; idle: the machines' idle power otherwise).
            """)

    @Option(help: "A 1-node, 1-rank run to calibrate compute time and power; repeat with runs at other batch sizes for strong scaling (interpolated between them), at the same one on a noisy machine (the median run stands for it), and with 1-node runs of k ranks (overlap off, the same batch per rank): how much ranks sharing a machine slow each other; beside each, one with overlap on: what the communication thread costs compute (the i-th overlap-on run of k ranks paired with the i-th overlap-off one).")
    var calibration: [String] = []
    @Option(help: "A `bench-allreduce --fit` file: fitted on one node (intra-node level) or on N nodes (inter-node: on nodes of one rank each, pairs and rings; on N nodes of k ranks, rings of N·k ranks and more). Repeat for both levels (a level fitted more than once, as on a noisy machine, is priced at the median of its fits); give them again fitted with --comm-spin-us 0 and machines with more ranks than cores are priced at those (the trainer's waits do not spin there).")
    var fit: [String] = []
    @Option(help: "Work: tokens to train on (the language model).") var tokens: Double?
    @Option(help: "Work: samples to train on.") var samples: Double?
    @Option(help: "Work: epochs of the calibration's training set.") var epochs: Double?
    @Option(help: "Finish within this long: seconds, or with a unit (90s, 45min, 36h).") var deadline: String?
    @Option(help: "Energy budget at the facility, kWh: also pick the fastest configuration within it.") var energyBudgetKwh: Double?
    @Option(help: "Largest node count (powers of two from 1).") var maxNodes = 64
    @Option(help: "Ranks per node to consider, comma-separated.") var ranksPerNode = "1,2"
    @Option(help: "Wire formats to consider, comma-separated: f32, bf16, f16.") var wire = "f32,bf16"
    @Option(help: "Overlap settings to consider: off, on, or off,on.") var overlap = "off,on"
    @Option(help: "Bucket sizes to consider, comma-separated: MB (10⁶ bytes, as train's --bucket-mb), 'auto' (the trainer's own choice when overlap is set, \(GradientBuckets.automaticBytes / 1000) kB) or 'whole' (one bucket).")
    var bucketMb = "auto,whole"
    @Option(help: "Strong scaling: this many samples (tokens) per step over all ranks; default: weak scaling at the calibration's batch per rank.")
    var globalBatch: Double?
    @Option(help: "All hosts share this many cores (the emulated cluster: this machine's); 0: dedicated nodes.") var sharedCores = 0
    @Option(help: "Power while communicating: measured (the CPU share the fits measured in their ring; busy where they did not), busy (spinning waits) or idle (sleeping waits).")
    var commPower = ScalingPrediction.CommPower.measured
    @Option(help: "Cores of a dedicated node (for the communication thread's share of them with overlap); 0: a spare core per rank.")
    var coresPerNode = 0
    @Option(help: "Idle power of a node in W (default: the calibration's estimate parameter, else 0).") var idleWatts: Double?
    @Option(help: "Inter-node link rate to plan for; replaces the fit's wire time per byte.") var linkGbit: Double?
    @Option(help: "Link rate the inter-node fit ran at (default: the one it recorded).") var fitLinkGbit: Double?
    @Option(help: "Power usage effectiveness (default: the calibration's).") var pue: Double?
    @Option(help: "Grid intensity, gCO₂e per kWh (default: the calibration's).") var carbonGPerKwh: Double?
    @Option(help: "Measured runs of configurations in the grid: each compared with its row (time per training iteration, energy per sample or token).")
    var measured: [String] = []
    @Option(help: "Write every configuration, the frontier and the picks as JSON to this file.") var json: String?
    @Option(help: "Draw energy against time to finish, frontier and picks marked, as SVG to this file.") var svg: String?

    func validate() throws {
        let work = [tokens, samples, epochs].compactMap { $0 }
        guard work.count == 1 else { throw ValidationError("give the work as exactly one of --tokens, --samples, --epochs") }
        guard work[0] > 0, work[0].isFinite else { throw ValidationError("the work must be positive, got \(work[0])") }
        guard !calibration.isEmpty else { throw ValidationError("--calibration: give at least one 1-node, 1-rank run") }
        guard !fit.isEmpty else { throw ValidationError("--fit: give the bench-allreduce --fit file(s) of the levels to plan over") }
        guard maxNodes >= 1, maxNodes <= 1 << 20 else { throw ValidationError("--max-nodes must be in 1…1048576") }
        guard sharedCores >= 0, coresPerNode >= 0 else { throw ValidationError("--shared-cores and --cores-per-node must be ≥ 0") }
        if let deadline { _ = try Self.seconds(deadline) }
        if let b = energyBudgetKwh { guard b > 0, b.isFinite else { throw ValidationError("--energy-budget-kwh must be positive") } }
        if let g = globalBatch { guard g >= 1, g.isFinite, g == g.rounded() else { throw ValidationError("--global-batch must be a positive whole number") } }
        if let l = linkGbit { guard l > 0 else { throw ValidationError("--link-gbit must be positive") } }
        if let l = fitLinkGbit { guard l > 0 else { throw ValidationError("--fit-link-gbit must be positive") } }
        if let pue { guard pue >= 1 else { throw ValidationError("--pue must be ≥ 1, got \(pue)") } }
        if let c = carbonGPerKwh { guard c >= 0 else { throw ValidationError("--carbon-g-per-kwh must be ≥ 0") } }
        _ = try grid(algorithm: .ring)
    }

    /// "90s", "45min", "36h", or plain seconds.
    static func seconds(_ text: String) throws -> Double {
        let units: [(String, Double)] = [("min", 60), ("s", 1), ("h", 3600), ("d", 86400)]
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let v = Double(number.trimmingCharacters(in: .whitespaces)), v > 0, v.isFinite else {
            throw ValidationError("--deadline must be a positive duration (e.g. 3600, 90s, 45min, 36h), got '\(text)'")
        }
        return v * scale
    }

    /// Every configuration of the grid (`PlanInputs.grid`).
    func grid(algorithm: AllReduceAlgorithm) throws -> [JobConfiguration] {
        try PlanInputs.grid(ranksPerNode: ranksPerNode, wire: wire, overlap: overlap, bucketMb: bucketMb, maxNodes: maxNodes, algorithm: algorithm)
    }

    func run() throws {
        let calibrations = try PlanInputs.calibrations(calibration), base = calibrations.base
        let unit = base.summary.sampleUnit ?? "sample"
        if tokens != nil && unit != "token" { throw ValidationError("--tokens: \(base.path) counts samples, not tokens; give --samples or --epochs") }
        if samples != nil && unit == "token" { throw ValidationError("--samples: \(base.path) is the language model, which counts tokens; give --tokens or --epochs") }
        let networks = try PlanInputs.networks(fits: fit, linkGbit: linkGbit, fitLinkGbit: fitLinkGbit,
                                               cores: sharedCores > 0 ? sharedCores : coresPerNode)
        var model = ScalingPrediction(calibration: base, network: networks.network,
                                      idleWatts: idleWatts, ranksPerNode: 1, sharedCores: sharedCores, commPower: commPower)
        model.computeByBatch = calibrations.byBatch.values.map(\.computeAtBatch)
        model.sharedMachine = Array(calibrations.byRanks.values)
        model.overlapMachine = calibrations.overlap
        model.coresPerNode = coresPerNode
        model.networkWithoutSpin = networks.withoutSpin
        let configurations = try grid(algorithm: base.summary.config.algorithm)
        // The buckets the trainer forms at each size, from the model's layers.
        for size in Set(configurations.compactMap(\.bucketBytes)) where size.isFinite {
            model.bucketLayouts[size] = CommPlan.bucketLayout(base.summary.config, bucketBytes: Int(size)).map(Double.init)
        }
        var accounting = base.summary.config.accounting
        if let pue { accounting.pue = pue }
        if let carbonGPerKwh { accounting.carbonGramsPerKWh = carbonGPerKwh }
        let work = tokens ?? samples ?? epochs! * model.samplesPerEpoch
        let plan: Plan
        do {
            plan = try Plan(prediction: model, configurations: configurations, work: work, globalBatch: globalBatch, accounting: accounting)
        } catch let missing as ClusterCostModel.MissingLevel {
            throw ValidationError("\(missing); or leave such configurations out (--ranks-per-node, --max-nodes)")
        }
        let deadlineSeconds = try deadline.map(Self.seconds)
        print(PlanText.table(plan, unit: unit, work: work, model: model, accounting: accounting, pairs: calibrations.pairs), terminator: "")
        let checks = try PlanText.measured(plan, runs: measured, unit: unit)
        print(checks.text, terminator: "")
        let least = Result { try plan.leastEnergy(deadline: deadlineSeconds) }
        let fastest = energyBudgetKwh.map { budget in Result { try plan.fastest(energyBudget: budget * 3.6e6) } }
        if let json { try RunDirectory.writeAtomically(path: json, try RunFileCoding.document(PlanFile(plan, unit: unit, work: work,
            deadline: deadlineSeconds, least: try? least.get(), fastest: try? fastest?.get(), measured: checks.errors))) }
        if let svg { try PlanPlot(plan: plan, pick: try? least.get(), unit: unit, deadline: deadlineSeconds).write(to: svg) }
        print(PlanText.pick(try least.get(), deadline: deadlineSeconds, what: "least energy" + (deadlineSeconds == nil ? "" : " within the deadline"), unit: unit))
        if let fastest { print(PlanText.pick(try fastest.get(), deadline: nil, what: "fastest within \(Plan.kWh(energyBudgetKwh! * 3.6e6))", unit: unit)) }
    }
}
