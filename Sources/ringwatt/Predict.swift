import ArgumentParser
import Foundation
import Trainer

/// Extrapolates time and energy per epoch to many nodes from a one-node calibration run and the
/// ring's fitted cost model.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict time and energy per epoch for 1…N nodes from a calibration run and a fitted all-reduce model.",
        discussion: """
            Weak scaling (fixed per-rank batch), p = nodes × ranks-per-node ranks, n = gradient bytes:
              steps(N)  = ceil(samples per epoch / (p · batch))
              t_iter(N) = s(N) · (t_compute + t_other) + t_comm(N),   from the calibration run (1 node, 1 rank)
              t_comm(N) = Σ over gradient buckets of 2(p−1)α + 2((p−1)/p)·n_b·β + ((p−1)/p)·n_b·γ
                          (α, β, γ from bench-allreduce --fit; the ring, as trained with --algorithm ring)
              s(N)      = max(1, p / shared-cores) when all hosts share that many cores (the emulated
                          cluster), else 1: ranks that share a core take turns, so their work stretches
              P_node    = P_idle + r · (P_1 − P_idle) / s(N), with P_1 the calibration's mean power
                          (during communication P_idle only, with --comm-power idle)
              E_epoch   = nodes · P_node · steps · t_iter, split compute / comm / other by time
            """)

    @Option(help: "A one-node, one-rank run directory to calibrate compute time and power.") var calibration: String
    @Option(help: "JSON written by `bench-allreduce --fit` (alpha_s, beta_s_per_byte, gamma_s_per_byte).") var fit: String
    @Option(help: "Link rate the prediction assumes; replaces the fit's wire time per byte (8 / rate) if given.") var linkGbit: Double?
    @Option(help: "Link rate the fit was measured at (to separate wire from per-byte CPU cost).") var fitLinkGbit: Double?
    @Option(help: "All hosts share this many cores (the emulated cluster: this machine's); 0: dedicated nodes.") var sharedCores = 0
    @Option(help: "Ranks per node.") var ranksPerNode = 1
    @Option(help: "Idle power of a node in W (default: the calibration's estimate parameter, else 0).") var idleWatts: Double?
    @Option(help: "Largest node count (powers of two from 1).") var maxNodes = 1024
    @Option(help: "Power of a rank while it waits in communication: busy (spinning waits, the default) or idle (sleeping waits, --comm-wait-us > 0 as on the emulated cluster).")
    var commPower = CommPower.busy

    enum CommPower: String, ExpressibleByArgument { case busy, idle }
    @Option(help: "Measured run directories to report the prediction's error on.") var measured: [String] = []
    @Option(help: "Write the predictions as CSV to this file.") var csv: String?
    @Option(help: "Write the errors on measured runs as JSON to this file.") var errors: String?

    func validate() throws {
        guard maxNodes >= 1, ranksPerNode >= 1, sharedCores >= 0 else { throw ValidationError("--max-nodes and --ranks-per-node must be ≥ 1, --shared-cores ≥ 0") }
        if let l = linkGbit { guard l > 0 else { throw ValidationError("--link-gbit must be positive") } }
    }

    struct Point { var nodes: Int; var steps: Double; var tIter, tEpoch, eCompute, eComm, eOther: Double; var samples: Double
        var energy: Double { eCompute + eComm + eOther } }

    func run() throws {
        let cal = try RunOnDisk(path: calibration)
        guard cal.ranks == 1 else { throw ValidationError("--calibration must be a 1-rank run (it has \(cal.ranks))") }
        guard let fitText = try? String(contentsOfFile: fit, encoding: .utf8), let model = try? JSON.parse(fitText),
              let alpha = model["alpha_s"]?.double, var beta = model["beta_s_per_byte"]?.double,
              let gamma = model["gamma_s_per_byte"]?.double else {
            throw ValidationError("\(fit): not a bench-allreduce --fit file (alpha_s, beta_s_per_byte, gamma_s_per_byte)")
        }
        if let rate = linkGbit {
            let wireNow = 8 / (rate * 1e9)
            let wireFit = fitLinkGbit.map { 8 / ($0 * 1e9) } ?? 0
            beta = max(wireNow, beta - wireFit + wireNow)
        }
        let iterations = cal.iterations
        guard case let .object(phases)? = cal.summary["seconds_by_phase"], iterations > 0 else {
            throw ValidationError("\(calibration): summary lacks seconds_by_phase")
        }
        let phase = Dictionary(phases.map { ($0.0, $0.1.double ?? 0) }, uniquingKeysWith: { a, _ in a })
        let tCompute = (phase["compute"] ?? 0) / iterations
        // Everything but compute (with one rank, "comm" is only the local averaging of the buckets).
        let tOther = (cal.number("seconds") - (phase["compute"] ?? 0)) / iterations
        let samplesPerEpoch = cal.number("samples") / cal.epochs
        let batch = cal.summary["config"]?["batch_size"]?.double ?? 64
        let gradientBytes = cal.number("parameters") * 4
        // One all-reduce per gradient bucket per step: each pays the latency terms.
        var buckets: [Double] = [gradientBytes]
        if case let .array(b)? = cal.summary["comm_buckets_bytes"], !b.isEmpty { buckets = b.compactMap(\.double) }
        let p1 = cal.number("mean_power_w")
        let idle = idleWatts ?? cal.summary["estimate"]?["node_idle_watts"]?.double ?? 0
        let busy = max(0, p1 - idle)

        func predict(_ nodes: Int) -> Point {
            let p = Double(nodes * ranksPerNode)
            let steps = (samplesPerEpoch / (p * batch)).rounded(.up)
            let stretch = sharedCores > 0 ? max(1, p / Double(sharedCores)) : 1
            let q = (p - 1) / p
            let tComm = p > 1 ? buckets.map { 2 * (p - 1) * alpha + 2 * q * $0 * beta + q * $0 * gamma }.reduce(0, +) : 0
            let tIter = stretch * (tCompute + tOther) + tComm
            let nodePower = idle + Double(ranksPerNode) * busy / stretch
            let commPowerNode = commPower == .busy ? nodePower : idle
            let n = Double(nodes)
            return Point(nodes: nodes, steps: steps, tIter: tIter, tEpoch: steps * tIter,
                         eCompute: n * nodePower * steps * stretch * tCompute, eComm: n * commPowerNode * steps * tComm,
                         eOther: n * nodePower * steps * stretch * tOther, samples: samplesPerEpoch)
        }
        var nodes: [Int] = []
        var n = 1
        while n <= maxNodes { nodes.append(n); n *= 2 }
        let points = nodes.map(predict)
        print("model: t_iter = s·(\(String(format: "%.3g", tCompute)) s compute + \(String(format: "%.3g", tOther)) s other) + t_comm; "
              + "α = \(String(format: "%.3g", alpha)) s, β = \(String(format: "%.3g", beta)) s/B, γ = \(String(format: "%.3g", gamma)) s/B, "
              + "n = \(Int(gradientBytes)) B; P_1 = \(String(format: "%.1f", p1)) W, P_idle = \(String(format: "%.1f", idle)) W"
              + (sharedCores > 0 ? "; hosts share \(sharedCores) cores" : ""))
        print("nodes    steps    t_iter_ms   t_epoch_s   energy_epoch_j   compute_j    comm_j   other_j   j_per_sample")
        for pt in points {
            print(String(format: "%5d %8.0f %12.3f %11.3f %16.1f %11.1f %9.1f %9.1f %14.5f", pt.nodes, pt.steps, pt.tIter * 1e3,
                         pt.tEpoch, pt.energy, pt.eCompute, pt.eComm, pt.eOther, pt.energy / pt.samples))
        }
        let best = points.min { $0.energy < $1.energy }!
        print("predicted lowest energy per epoch: \(best.nodes) node(s)")
        if let csv {
            var text = "nodes,steps,t_iter_s,t_epoch_s,energy_epoch_j,compute_j,comm_j,other_j,j_per_sample\n"
            for pt in points {
                text += "\(pt.nodes),\(pt.steps),\(pt.tIter),\(pt.tEpoch),\(pt.energy),\(pt.eCompute),\(pt.eComm),\(pt.eOther),\(pt.energy / pt.samples)\n"
            }
            try RunDirectory.writeAtomically(path: csv, text)
        }
        var errorRows: [JSON] = []
        if !measured.isEmpty {
            print("error on measured points (predicted vs measured):")
            for path in measured {
                let m = try RunOnDisk(path: path)
                guard m.ranks == m.nodes * ranksPerNode else { continue }
                let pt = predict(m.nodes)
                let tMeasured = m.number("seconds") / m.iterations
                let eMeasured = m.joulesPerEpoch
                let tErr = (pt.tIter - tMeasured) / tMeasured, eErr = (pt.energy - eMeasured) / eMeasured
                print(String(format: "  %d node(s): time/iteration %.3f ms vs %.3f ms (%+.1f %%), energy/epoch %.1f J vs %.1f J (%+.1f %%)",
                             m.nodes, pt.tIter * 1e3, tMeasured * 1e3, 100 * tErr, pt.energy, eMeasured, 100 * eErr))
                errorRows.append(.object([("nodes", .int(m.nodes)), ("t_iter_predicted_s", .number(pt.tIter)),
                                          ("t_iter_measured_s", .number(tMeasured)), ("t_iter_error", .number(tErr)),
                                          ("energy_predicted_j", .number(pt.energy)), ("energy_measured_j", .number(eMeasured)),
                                          ("energy_error", .number(eErr))]))
            }
        }
        if let errors { try RunDirectory.writeAtomically(path: errors, JSON.array(errorRows).serialized(pretty: true) + "\n") }
    }
}
