import ArgumentParser
import Foundation
import CostModel
import RunFiles

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare run directories (e.g. a sweep over node counts): time, speed-up, energy split, J/sample or J/token, evaluation.",
        discussion: "Speed-up and efficiency are against the run with the fewest nodes, per epoch (the same data per epoch at every node count). The evaluation columns follow the runs' model: test accuracy and the energy and samples to reach --target-accuracy (mlp), or validation loss and the energy and tokens to reach --target-val-loss (gpt), at the first evaluation that does (--eval-every sets how often runs evaluate).")

    @Argument(help: "Run directories.") var runs: [String]
    @Option(help: "Write the table as CSV to this file.") var csv: String?
    @Option(help: "Write the sweep on one self-contained HTML page (table, energy and time against nodes, splits) to this file.")
    var html: String?
    @Option(help: "With --html: `predict --errors` JSON, drawn beside the measurements with its errors.") var predictions: String?
    @Option(help: "Accuracy for the 'energy to reach it' columns (mlp runs).") var targetAccuracy = 0.85
    @Option(help: "Validation loss in nats for the 'energy to reach it' columns (gpt runs).") var targetValLoss = 2.5

    func validate() throws {
        guard predictions == nil || html != nil else { throw ValidationError("--predictions draws on the --html page; give --html FILE too") }
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
        guard targetAccuracy > 0 && targetAccuracy <= 1 else { throw ValidationError("--target-accuracy must be in (0, 1]") }
        guard targetValLoss > 0 && targetValLoss.isFinite else { throw ValidationError("--target-val-loss must be positive") }
    }

    func run() throws {
        let loaded = try runs.map { try RunOnDisk(path: $0) }.sorted { ($0.nodes, $0.ranks) < ($1.nodes, $1.ranks) }
        let models = Set(loaded.map(\.summary.config.model))
        guard models.count == 1 else {
            throw ValidationError("these runs train different models (" + loaded.map { "\($0.path): \($0.summary.config.model.rawValue)" }
                                  .joined(separator: ", ") + "); speed-up and energy per sample compare runs of one model")
        }
        let base = loaded[0]
        // The first run's model decides the evaluation columns: accuracy up to a target, or loss down to one.
        let languageModel = base.summary.metricNames.first == "loss"
        let (metric, target, higher) = languageModel ? ("loss", targetValLoss, false) : ("accuracy", targetAccuracy, true)
        let unit = base.summary.sampleUnit ?? "sample"
        let header = ["run", "nodes", "ranks", "s_per_epoch", "\(unit)s_per_s", "speedup", "efficiency",
                      "energy_per_epoch_j", "compute_j", "comm_j", "other_j", "j_per_\(unit)", "comm_energy_share",
                      "busbw_GBps", languageModel ? "val_loss" : "test_accuracy", "energy_to_target_j", "\(unit)s_to_target", "edp_js"]
        var rows: [[String]] = []
        let scaling = loaded.map {
            ScalingFigures(secondsPerEpoch: $0.secondsPerEpoch, joulesPerEpoch: $0.joulesPerEpoch, nodes: $0.nodes,
                           baselineSecondsPerEpoch: base.secondsPerEpoch, baselineNodes: base.nodes)
        }
        for (r, scaling) in zip(loaded, scaling) {
            let s = r.summary, e = r.epochs, reached = r.reach(metric, target, higherIsBetter: higher)
            rows.append([r.path, "\(r.nodes)", "\(r.ranks)", f(r.secondsPerEpoch, 3), f(s.samplesPerS, 0),
                         f(scaling.speedup, 2), f(scaling.efficiency, 2), f(r.joulesPerEpoch, 1), f(s.energyComputeJ / e, 1),
                         f(s.energyCommJ / e, 1), f(s.energyOtherJ / e, 1),
                         String(format: "%.4g", s.joulesPerSample), f(s.commEnergyShare, 3),
                         f(s.busbwGBps, 3), f(s.lastMetric(metric) ?? .nan, 4),
                         reached.map { f($0.joules, 1) } ?? "-", reached.map { "\($0.samples)" } ?? "-",
                         f(scaling.energyDelay, 1)])
        }
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - s.count) + s }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
        let byEnergy = loaded.min { $0.joulesPerEpoch < $1.joulesPerEpoch }!
        let byEDP = zip(loaded, scaling).min { $0.1.energyDelay < $1.1.energyDelay }!
        var conclusions = ["lowest energy per epoch: \(byEnergy.nodes) node(s) (\(f(byEnergy.joulesPerEpoch, 1)) J, \(byEnergy.path))",
                           "lowest energy-delay product: \(byEDP.0.nodes) node(s) (\(f(byEDP.1.energyDelay, 1)) J·s, \(byEDP.0.path))"]
        let sources = Set(loaded.map(\.summary.energySource))
        if sources.contains(where: { $0.contains("estimate") }) { conclusions.append("note: energy is a model-based ESTIMATE on these runs") }
        let cores = loaded.map { r in r.summary.figures.metadata?.blas.map { "\($0.core) on \(r.summary.figures.metadata?.cpu ?? "?")" } ?? "unrecorded" }
        if Set(cores).count > 1 {
            conclusions.append("note: these runs used different BLAS cores or CPUs (" + zip(loaded, cores).map { "\($0.path): \($1)" }.joined(separator: "; ")
                               + "); their times differ for that reason too, and their parameter checksums are not comparable")
        }
        for line in conclusions { print(line) }
        if let csv { try writeCSV(csv, header: header, rows: rows) }
        if let html {
            var errors: [PredictionError] = []
            if let predictions {
                do { errors = try RunFileCoding.decode([PredictionError].self, String(contentsOfFile: predictions, encoding: .utf8)) } catch {
                    throw ValidationError("\(predictions): not a `predict --errors` file (\(error))")
                }
            }
            try RunDirectory.writeAtomically(path: html, SweepReport(runs: loaded, header: header, rows: rows, predictions: errors,
                                                                     conclusions: conclusions).html())
            print("report: \(html)")
        }
    }
}

func f(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "-" }
