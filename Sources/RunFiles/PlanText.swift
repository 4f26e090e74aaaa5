import Foundation
import CostModel
import Energy

/// `plan`'s printed output: the table of every configuration, measured runs against their rows,
/// and the picks.
public enum PlanText {
    public static func table(_ plan: Plan, unit: String, work: Double, model: ScalingPrediction, accounting: EnergyAccounting,
                             pairs: PlanInputs.Calibrations.Pairs = .init()) -> String {
        var lines = [String(format: "work: %.4g %@s; calibration: %.4g s compute + %.4g s other per step at %g %@s per rank, %.1f W (idle %.1f W)",
                            work, unit, model.computeSeconds, model.otherSeconds, model.batchPerRank, unit, model.calibrationWatts, model.idleWatts)
                     + String(format: "; PUE %.2f, %.0f gCO₂e/kWh", accounting.pue, accounting.carbonGramsPerKWh)]
        for k in model.sharedMachine.map(\.ranks).sorted() {
            let c = model.contention(ranksPerMachine: k)
            lines.append(String(format: "contention: %d ranks on one machine compute %.3f× and run the rest of a step %.3f× as long as one alone, beyond time-slicing (machines with %d or more ranks priced so)",
                                k, c.compute, c.other, k) + spread(pairs.contention[k]) { String(format: "%.3f×", $0 / model.timeSlicing(ranks: k)) })
        }
        for calibration in model.overlapMachine.sorted(by: { $0.ranks < $1.ranks }) {
            let k = calibration.ranks, buckets = Double(calibration.buckets)
            let cost = model.threadCost(ranksPerMachine: k, buckets: 1)
            lines.append(cost.map { String(format: "overlap: on %d ranks sharing a machine the communication thread costs each rank's compute %.1f µs a bucket (machines whose cores all compute, %d ranks or more, priced so)", k, 1e6 * $0.seconds, k)
                                    + spread(pairs.overlap[k]) { String(format: "%.1f µs", 1e6 * $0 / buckets) } }
                         ?? "note: the overlap calibration on \(k) ranks is unused: it had spare cores, or the cores per machine are unknown (--cores-per-node, --shared-cores)")
        }
        let cores = model.machineCores
        if model.overlapMachine.isEmpty, cores > 0,
           plan.rows.contains(where: { $0.configuration.overlap && $0.point.ranksPerMachine(sharedCores: model.sharedCores) >= cores }) {
            lines.append("note: no calibration with overlap on: on machines whose cores all compute, what the communication thread costs compute is derived from its CPU, not measured")
        }
        if model.networkWithoutSpin != nil {
            lines.append(cores > 0 ? "waits: machines with more ranks than their \(cores) cores are priced at the fits whose waits did not spin (as the trainer's --comm-spin-us auto runs them)"
                                   : "note: fits without spinning waits unused: the cores per machine are unknown (--cores-per-node, --shared-cores)")
        }
        if model.sharedMachine.isEmpty, plan.rows.contains(where: { $0.point.ranksPerMachine(sharedCores: model.sharedCores) > 1 }) {
            lines.append("note: no calibration on one node with more than one rank: ranks sharing a machine are priced as not slowing each other beyond time-slicing")
        }
        lines += plan.notes.map { "note: \($0)" }
        lines.append("  configuration                  batch/rank  t_iter_ms   time_to_finish   energy_kWh   J/\(unit)      CO2_g   comm%  dominant")
        for r in plan.rows.sorted(by: { ($0.seconds, $0.joules) < ($1.seconds, $1.joules) }) {
            let label = r.configuration.label.padding(toLength: 30, withPad: " ", startingAt: 0)
            let finish = String(repeating: " ", count: max(0, 16 - Plan.duration(r.seconds).count)) + Plan.duration(r.seconds)
            lines.append(String(format: "%@ %@ %10.4g %10.2f %@ %12.4g %10.4g %10.4g %6.1f  %@", r.onFrontier ? "*" : " ", label,
                                r.batchPerRank, r.point.iterationSeconds * 1e3, finish, r.facility.kWh, r.joulesPerSample, r.facility.co2Grams,
                                100 * r.commJoules / max(1e-300, r.computeJoules + r.commJoules + r.idleJoules), r.dominantTerm))
        }
        let bases = Set(plan.rows.map(\.computeBasis.rawValue)).sorted()
        lines.append("* on the time–energy frontier; compute time per rank: \(bases.joined(separator: ", "))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// "; 3 pairs from 1.001× to 1.539×": how far repeated calibrations' pairs agree (nothing for one).
    static func spread(_ values: [Double]?, _ format: (Double) -> String) -> String {
        guard let values, values.count > 1, let low = values.min(), let high = values.max() else { return "" }
        return "; \(values.count) pairs from \(format(low)) to \(format(high))"
    }

    /// Each measured run against its configuration's row: the lines, and the errors.
    public static func measured(_ plan: Plan, runs paths: [String], unit: String) throws -> (text: String, errors: [PredictionError]) {
        guard !paths.isEmpty else { return ("", []) }
        var lines = ["measured (per training iteration; evaluation and checkpoints left out):"], errors: [PredictionError] = []
        for path in paths {
            let run = try RunOnDisk(path: path)
            guard let row = plan.rows.first(where: { $0.configuration == run.jobConfiguration }) else {
                lines.append("  \(path): \(run.jobConfiguration.label) is not in the grid")
                continue
            }
            let e = PredictionError(measured: run, row: row)
            lines.append(String(format: "  %@  t_iter %.2f ms vs %.2f ms (%+.1f %%), %.4g vs %.4g J/%@ (%+.1f %%)  %@",
                                row.configuration.label.padding(toLength: 28, withPad: " ", startingAt: 0), e.tIterPredictedS * 1e3,
                                e.tIterMeasuredS * 1e3, 100 * e.tIterError, e.joulesPerSamplePredicted, e.joulesPerSampleMeasured, unit,
                                100 * e.energyError, path))
            errors.append(e)
        }
        return (lines.joined(separator: "\n") + "\n", errors)
    }

    /// "plan (what): configuration — time, kWh, J/unit, CO₂; dominated by …; next best … by …".
    public static func pick(_ pick: Plan.Pick, deadline: Double?, what: String, unit: String) -> String {
        let r = pick.row
        var line = "plan (\(what)): \(r.configuration.label) — \(Plan.duration(r.seconds)), \(Plan.kWh(r.joules)), "
            + String(format: "%.4g J/%@, %.4g gCO₂e; dominated by %@", r.joulesPerSample, unit, r.facility.co2Grams, r.dominantTerm)
        if let next = pick.runnerUp, let m = pick.margin {
            line += String(format: "; next best %@ by %.1f %%", next.configuration.label, 100 * m)
        }
        if let deadline { line += String(format: " (deadline %@, %.0f %% of it used)", Plan.duration(deadline), 100 * r.seconds / deadline) }
        return line
    }
}
