import RunFiles
import Energy
import Foundation
import Support

/// One physical machine's running account: its joules (its counters' and its ranks' estimates),
/// its idle power, and the sufficient statistics of its phase-power fits. Checkpoints carry it.
package struct MachineTotals: Codable, Equatable {
    package var energyJ = 0.0
    /// By phase (Phase order): its ranks' process joules and its counters' (apportioned to phases).
    package var phaseJoules = [Double](repeating: 0, count: Phase.allCases.count)
    /// Watts with every rank asleep (nil: not measured, e.g. --idle-seconds 0).
    package var idleWatts: Double?
    /// "measured" (counters read while idle), "estimate" (the model's node idle watts), or both joined by "+".
    package var idleSource: String?
    /// Fits of the machine-wide counters' curve against the mean phase time of the machine's ranks,
    /// and of every rank's own (estimated) curve against its own phase time, pooled over the ranks.
    package var machineFit = PhaseRegression()
    package var processFit = PhaseRegression()

    package enum CodingKeys: String, CodingKey {
        case energyJ = "energy_j", phaseJoules = "phase_joules", idleWatts = "idle_watts", idleSource = "idle_source"
        case machineFit = "machine_fit", processFit = "process_fit"
    }

    /// The machine's phase powers: the counters' fit plus `ranks` × the per-rank estimate fit
    /// (standard errors combined as independent).
    package func phasePower(ranks: Int) -> [String: PhaseRegression.Estimate]? {
        let a = machineFit.intervals > 0 ? machineFit.fit() : nil, b = processFit.intervals > 0 ? processFit.fit() : nil
        guard a != nil || b != nil else { return nil }
        var result: [String: PhaseRegression.Estimate] = [:]
        for phase in PhaseRegression.phases {
            let terms = [a?[phase].map { (k: 1.0, estimate: $0) }, b?[phase].map { (k: Double(ranks), estimate: $0) }].compactMap { $0 }
            guard !terms.isEmpty else { continue }
            result[phase] = .sum(terms)
        }
        return result
    }
}
