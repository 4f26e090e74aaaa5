import Foundation
import CostModel

/// A set of runs of one model side by side, as `compare` prints it: per run the time, speed-up
/// and efficiency against the run with the fewest nodes (per epoch: the same data per epoch at
/// every node count), the energy split, J per sample or token, bus bandwidth and the evaluation
/// up to a target; then what the set concludes (lowest energy, lowest energy-delay product,
/// estimated energy, runs on different BLAS cores).
public struct SweepComparison {
    public let runs: [RunOnDisk]
    public let header: [String]
    public let rows: [[String]]
    public let conclusions: [String]

    /// `targetAccuracy` applies to MLP runs, `targetValLoss` (nats) to language-model runs.
    public init(runs unsorted: [RunOnDisk], targetAccuracy: Double, targetValLoss: Double) throws {
        let runs = unsorted.sorted { ($0.nodes, $0.ranks) < ($1.nodes, $1.ranks) }
        guard let base = runs.first else { throw RunError.configuration("give at least one run directory") }
        guard Set(runs.map(\.summary.config.model)).count == 1 else {
            throw RunError.configuration("these runs train different models (" + runs.map { "\($0.path): \($0.summary.config.model.rawValue)" }
                                         .joined(separator: ", ") + "); speed-up and energy per sample compare runs of one model")
        }
        // The first run's model decides the evaluation columns: accuracy up to a target, or loss down to one.
        let languageModel = base.summary.metricNames.first == "loss"
        let (metric, target, higher) = languageModel ? ("loss", targetValLoss, false) : ("accuracy", targetAccuracy, true)
        let unit = base.summary.sampleUnit ?? "sample"
        header = ["run", "nodes", "ranks", "s_per_epoch", "\(unit)s_per_s", "speedup", "efficiency",
                  "energy_per_epoch_j", "compute_j", "comm_j", "other_j", "j_per_\(unit)", "comm_energy_share",
                  "busbw_GBps", languageModel ? "val_loss" : "test_accuracy", "energy_to_target_j", "\(unit)s_to_target", "edp_js"]
        let scaling = runs.map {
            ScalingFigures(secondsPerEpoch: $0.secondsPerEpoch, joulesPerEpoch: $0.joulesPerEpoch, nodes: $0.nodes,
                           baselineSecondsPerEpoch: base.secondsPerEpoch, baselineNodes: base.nodes)
        }
        let f = Self.f
        rows = zip(runs, scaling).map { r, scaling in
            let s = r.summary, e = r.epochs, reached = r.reach(metric, target, higherIsBetter: higher)
            return [r.path, "\(r.nodes)", "\(r.ranks)", f(r.secondsPerEpoch, 3), f(s.samplesPerS, 0),
                    f(scaling.speedup, 2), f(scaling.efficiency, 2), f(r.joulesPerEpoch, 1), f(s.energyComputeJ / e, 1),
                    f(s.energyCommJ / e, 1), f(s.energyOtherJ / e, 1),
                    String(format: "%.4g", s.joulesPerSample), f(s.commEnergyShare, 3),
                    f(s.busbwGBps, 3), f(s.lastMetric(metric) ?? .nan, 4),
                    reached.map { f($0.joules, 1) } ?? "-", reached.map { "\($0.samples)" } ?? "-",
                    f(scaling.energyDelay, 1)]
        }
        self.runs = runs
        conclusions = Self.conclusions(runs, scaling)
    }

    private static func conclusions(_ runs: [RunOnDisk], _ scaling: [ScalingFigures]) -> [String] {
        let byEnergy = runs.min { $0.joulesPerEpoch < $1.joulesPerEpoch }!
        let byEDP = zip(runs, scaling).min { $0.1.energyDelay < $1.1.energyDelay }!
        var lines = ["lowest energy per epoch: \(byEnergy.nodes) node(s) (\(f(byEnergy.joulesPerEpoch, 1)) J, \(byEnergy.path))",
                     "lowest energy-delay product: \(byEDP.0.nodes) node(s) (\(f(byEDP.1.energyDelay, 1)) J·s, \(byEDP.0.path))"]
        if runs.contains(where: { $0.summary.energySource.contains("estimate") }) {
            lines.append("note: energy is a model-based ESTIMATE on these runs")
        }
        let cores = runs.map { r in r.summary.figures.metadata?.blas.map { "\($0.core) on \(r.summary.figures.metadata?.cpu ?? "?")" } ?? "unrecorded" }
        if Set(cores).count > 1 {
            lines.append("note: these runs used different BLAS cores or CPUs (" + zip(runs, cores).map { "\($0.path): \($1)" }.joined(separator: "; ")
                         + "); their times differ for that reason too, and their parameter checksums are not comparable")
        }
        return lines
    }

    /// The table, columns aligned (the run's path left, figures right), then the conclusions.
    public func text() -> String {
        let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, s in c == 0 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - s.count) + s }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line) + conclusions).joined(separator: "\n") + "\n"
    }

    /// The sweep's self-contained page, `predict --errors` rows drawn beside the measurements.
    public func html(predictions: [PredictionError]) -> String {
        SweepReport(runs: runs, header: header, rows: rows, predictions: predictions, conclusions: conclusions).html()
    }

    static func f(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "-" }
}
