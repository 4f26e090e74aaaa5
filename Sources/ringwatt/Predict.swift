import ArgumentParser
import Foundation
import CostModel
import RunFiles

/// Extrapolates time and energy per epoch to many nodes from a one-node calibration run and the
/// ring's fitted cost model.
extension ScalingPrediction.CommPower: ExpressibleByArgument {}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict time and energy per epoch for 1…N nodes from a calibration run and a fitted all-reduce model.",
        discussion: """
            Weak scaling (a fixed batch per rank); p = nodes × ranks per node; n_b = bytes of gradient bucket b.

              steps(N)  = ceil(samples per epoch / (p · batch))
              t_iter(N) = s(N) · (t_compute + t_other) + t_comm(N)
              t_comm(N) = Σ_b 2(p−1)α + 2((p−1)/p)·n_b·β + ((p−1)/p)·n_b·γ
              s(N)      = max(1, p / shared cores), or 1 without --shared-cores
              P(N)      = M · P_idle + nodes · r · (P_1 − P_idle) / s(N)
              M         = 1 with --shared-cores (one machine), else nodes
              P_comm    = M · P_idle + min(p · u, cores) · (P_1 − P_idle)
              E_epoch   = steps · (P(N)·s(N)·(t_compute + t_other) + P_comm·t_comm(N))

            t_compute, t_other and P_1 come from the calibration run (1 node, 1 rank), its median training iteration (iterations with evaluation left out; measured points are read the same way); α, β, γ from bench-allreduce --fit (the ring, as trained with --algorithm ring). s(N) stretches the work of ranks that share cores (the emulated cluster). While communicating a rank keeps u of a core busy: 1 with --comm-power busy, 0 with idle, the fit's measured share with measured; a machine's idle power counts once however many emulated hosts it carries, as the measurement counts it. Energy is split compute / comm / other by time. `ringwatt plan` prices many configurations (ranks per node, wire format, overlap, bucket size) on a two-level network.
            """)

    @Option(help: "A one-node, one-rank run directory to calibrate compute time and power.") var calibration: String
    @Option(help: "JSON written by `bench-allreduce --fit` (alpha_s, beta_s_per_byte, gamma_s_per_byte).") var fit: String
    @Option(help: "Link rate the prediction assumes; replaces the fit's wire time per byte (8 / rate) if given.") var linkGbit: Double?
    @Option(help: "Link rate the fit was measured at (to separate wire from per-byte CPU cost).") var fitLinkGbit: Double?
    @Option(help: "All hosts share this many cores (the emulated cluster: this machine's); 0: dedicated nodes.") var sharedCores = 0
    @Option(help: "Ranks per node.") var ranksPerNode = 1
    @Option(help: "Idle power of a node in W (default: the calibration's estimate parameter, else 0).") var idleWatts: Double?
    @Option(help: "Largest node count (powers of two from 1).") var maxNodes = 1024
    @Option(help: "Power of a rank while it communicates: busy (spinning waits, the default), idle (sleeping waits, --comm-wait-us > 0 as on the emulated cluster), or measured (the CPU share the fit measured in its ring).")
    var commPower = ScalingPrediction.CommPower.busy
    @Option(help: "Measured run directories to report the prediction's error on.") var measured: [String] = []
    @Option(help: "Write the predictions as CSV to this file.") var csv: String?
    @Option(help: "Write the errors on measured runs as JSON to this file.") var errors: String?

    func validate() throws {
        guard maxNodes >= 1, ranksPerNode >= 1, sharedCores >= 0 else { throw ValidationError("--max-nodes and --ranks-per-node must be ≥ 1, --shared-cores ≥ 0") }
        if let l = linkGbit { guard l > 0 else { throw ValidationError("--link-gbit must be positive") } }
    }

    func run() throws {
        let cal = try RunOnDisk.calibration(path: calibration)
        let fitted = try RingFitFile.read(path: fit)
        let ring = linkGbit.map { fitted.ring.atLink(gbit: $0, fitLinkGbit: fitLinkGbit) } ?? fitted.ring
        // One level (one network) on its fitted line, with the CPU shares the fit measured.
        let level = LevelCost(ring, cpuShare: fitted.commCpuShare, cpuShares: fitted.cpuShareRows)
        let model = ScalingPrediction(calibration: cal, network: ClusterCostModel(intra: level, inter: level), idleWatts: idleWatts, ranksPerNode: ranksPerNode,
                                      sharedCores: sharedCores, commPower: commPower)
        let compute = model.computeSeconds, other = model.otherSeconds, gradientBytes = Double(cal.summary.parameters * 4)
        var nodes: [Int] = []
        var n = 1
        while n <= maxNodes { nodes.append(n); n *= 2 }
        let points = try nodes.map(model.point(nodes:))
        print("model: t_iter = s·(\(String(format: "%.3g", compute)) s compute + \(String(format: "%.3g", other)) s other) + t_comm; "
              + "α = \(String(format: "%.3g", ring.alpha)) s, β = \(String(format: "%.3g", ring.beta)) s/B, "
              + "γ = \(String(format: "%.3g", ring.gamma)) s/B, n = \(Int(gradientBytes)) B; "
              + "P_1 = \(String(format: "%.1f", model.calibrationWatts)) W, P_idle = \(String(format: "%.1f", model.idleWatts)) W"
              + (sharedCores > 0 ? "; hosts share \(sharedCores) cores" : ""))
        print("nodes    steps    t_iter_ms   t_epoch_s   energy_epoch_j   compute_j    comm_j   other_j   j_per_sample")
        for pt in points {
            print(String(format: "%5d %8.0f %12.3f %11.3f %16.1f %11.1f %9.1f %9.1f %14.5f", pt.nodes, pt.steps, pt.iterationSeconds * 1e3,
                         pt.epochSeconds, pt.joules, pt.computeJoules, pt.commJoules, pt.otherJoules, pt.joulesPerSample))
        }
        print("predicted lowest energy per epoch: \(points.min { $0.joules < $1.joules }!.nodes) node(s)")
        if let csv {
            try writeCSV(csv, header: ["nodes", "steps", "t_iter_s", "t_epoch_s", "energy_epoch_j", "compute_j", "comm_j", "other_j",
                                       "j_per_sample"], rows: points.map {
                [$0.nodes, $0.steps, $0.iterationSeconds, $0.epochSeconds, $0.joules, $0.computeJoules, $0.commJoules,
                 $0.otherJoules, $0.joulesPerSample]
            })
        }
        if !measured.isEmpty { print("error on measured points (predicted vs measured):") }
        let rows = try measured.compactMap { try errorOnMeasured(RunOnDisk(path: $0), model) }
        if let errors { try RunDirectory.writeAtomically(path: errors, try RunFileCoding.document(rows)) }
    }

    /// The prediction's error on one measured run, printed (nil for another ranks-per-node).
    func errorOnMeasured(_ m: RunOnDisk, _ model: ScalingPrediction) throws -> PredictionError? {
        guard let e = try PredictionError(measured: m, model: model, ranksPerNode: ranksPerNode) else { return nil }
        let unit = m.summary.sampleUnit ?? "sample"
        print(String(format: "  %d node(s): time/iteration %.3f ms vs %.3f ms (%+.1f %%), energy per %@ %.4g J vs %.4g J (%+.1f %%)",
                     m.nodes, e.tIterPredictedS * 1e3, e.tIterMeasuredS * 1e3, 100 * e.tIterError, unit,
                     e.joulesPerSamplePredicted, e.joulesPerSampleMeasured, 100 * e.energyError))
        return e
    }
}
