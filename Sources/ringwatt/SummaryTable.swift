import Foundation
import Energy
import Model
import RunFiles

/// The end-of-run table printed by rank 0 (and by `ringwatt report`).
enum SummaryTable {
    /// "estimate", "estimate on all 4 nodes", or "rapl on node 0, estimate on node 1".
    static func sourcesByNode(_ s: RunSummary) -> String {
        let names = s.energySourceByNode
        guard names.count > 1 else { return s.energySource }
        if Set(names).count == 1 { return "\(names[0]) on all \(names.count) nodes" }
        return names.enumerated().map { "\($0.element) on node \($0.offset)" }.joined(separator: ", ")
    }

    static func render(_ s: RunSummary, directory: String) -> String {
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        let energy = s.energyJ, unit = s.sampleUnit ?? "sample"
        func perUnit(_ category: String) -> String {
            s.joulesPerSampleByCategory?[category].map { String(format: ", %.3g J/%@", $0, unit) } ?? ""
        }
        func share(_ joules: Double) -> String { energy > 0 ? f(100 * joules / energy, 1) + " %" : "-" }
        var rows: [(String, String)] = [
            ("status", s.status.rawValue),
            ("ranks / nodes", "\(s.ranks) / \(s.nodes)"),
            ("epochs / iterations", "\(s.epochs) / \(s.iterations)"),
            ("time", f(s.seconds, 2) + " s (training loop), " + f(s.trainSeconds, 2) + " s without data/eval"),
            ("throughput", f(s.samplesPerS, 0) + " \(unit)s/s"),
            ("final loss", s.finalLoss.map { f($0, 4) } ?? "-"),
            ("evaluation", s.evaluations.last.map { $0.metrics.map(\.display).joined(separator: ", ") } ?? "-"),
            ("energy", f(energy, 1) + " J = " + String(format: "%.3g", s.energyKwh) + " kWh, "
                + String(format: "%.4g", s.joulesPerSample) + " J/\(unit)"
                + (s.joulesPerParameter.map { String(format: ", %.3g J/parameter", $0) } ?? "")),
            ("  compute", f(s.energyComputeJ, 1) + " J (" + share(s.energyComputeJ) + ")" + perUnit("compute")),
            ("  comm", f(s.energyCommJ, 1) + " J (" + share(s.energyCommJ) + ")" + perUnit("comm")),
            ("  other", f(s.energyOtherJ, 1) + " J (" + share(s.energyOtherJ) + ")" + perUnit("other")),
            ("mean power", f(s.meanPowerW, 1) + " W"),
            ("energy source", sourcesByNode(s)),
            ("communication", String(format: "%.1f MB sent per rank, %.3f s, busbw %.2f GB/s (%@)",
                                     s.commBytes / 1e6, s.commS, s.busbwGBps, s.commAlgorithm)),
            ("CO2", f(s.co2G, 3) + " g"),
            ("peak RSS per rank", f(s.peakRssMib, 1) + " MiB" + (s.memoryEstimateMib.map { " (the configuration's buffers: " + f($0, 1) + " MiB estimated)" } ?? "")),
            ("BLAS", s.figures.metadata?.blas.map { $0.line + ($0.note.map { "; " + $0 } ?? "") } ?? "not recorded (a run before 0.7)"),
            ("run directory", directory),
        ]
        if let faults = s.faults {
            rows.insert(("faults", "\(faults.restarts) restart(s), \(faults.iterationsRedone) iteration(s) redone, goodput "
                         + f(100 * faults.goodput, 1) + " %; wasted " + f(faults.wastedJ, 1) + " J (" + f(faults.redoneJ, 1)
                         + " J redone + " + f(faults.gapJ, 1) + " J in " + f(faults.gapS, 1) + " s of restart gaps), "
                         + f(faults.energyWithWasteJ, 1) + " J with them"), at: rows.firstIndex { $0.0 == "mean power" } ?? rows.count)
        }
        if let cost = s.cost { rows.insert(("cost", f(cost, 6)), at: rows.count - 2) }
        rows.insert(contentsOf: energyDetail(s.figures, f), at: rows.firstIndex { $0.0 == "energy source" }.map { $0 + 1 } ?? rows.count)
        if s.energySource.contains("estimate") {
            rows.append(("note", "energy is a model-based ESTIMATE (no counter on this machine); see summary.json 'estimate'"))
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }

    /// Idle versus dynamic, the machines, the fitted phase powers and what the windows resolve.
    static func energyDetail(_ s: RunFigures, _ f: (Double, Int) -> String) -> [(String, String)] {
        var rows: [(String, String)] = []
        if let idle = s.idlePowerW, let idleJ = s.energyIdleJ, let dynamic = s.energyDynamicJ {
            rows.append(("idle / dynamic", f(idleJ, 1) + " J idle (" + f(idle, 1) + " W × the loop) + " + f(dynamic, 1) + " J dynamic"))
        }
        for (m, machine) in (s.machines ?? []).enumerated() {
            let idle = machine.idlePowerW.map { ", idle " + f($0, 1) + " W (\(machine.idleSource ?? "?"))" } ?? ""
            rows.append(("machine \(m) " + machine.hostname, f(machine.energyJ, 1) + " J, ranks \(machine.ranks.map(String.init).joined(separator: ","))"
                         + ", MPI nodes \(machine.nodes.map(String.init).joined(separator: ","))" + idle))
        }
        if let fit = s.phasePowerW, !fit.isEmpty {
            let text = PhaseRegression.phases.compactMap { phase in
                fit[phase].map { phase + " " + f($0.watts, 1) + ($0.standardError.map { " ± " + f($0, 1) } ?? "") + " W" }
            }.joined(separator: ", ")
            rows.append(("phase power (fitted)", text + " over \((s.machines ?? []).map(\.fitIntervals).reduce(0, +)) sample intervals"))
        }
        if let resolution = s.energyResolution, !resolution.shorterThanMeasured.isEmpty {
            rows.append(("resolution", resolution.shorterThanMeasured.joined(separator: "; ")
                         + ": per-phase joules are apportioned, the fit tells phases apart"))
        }
        return rows
    }
}
