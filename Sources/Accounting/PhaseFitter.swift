import RunFiles
import Energy
import Foundation
import Support

/// Adds a flush's sample intervals to the machines' phase-power fits. A power row is one rank's
/// sample interval [t0, t1] with the mean watts of each of its sources; the phase times come from
/// the ranks' iteration records, which tile each rank's loop. The previous flush's records are
/// kept, since a flush's first interval began before its first record.
package struct PhaseFitter {
    private var previous: [[IterationRecord]] = []

    /// `rows[r]`: rank r's rows [t0, t1, watts per source…]; `records[r]`: its records this flush.
    package mutating func add(rows: [[Double]], records: [[IterationRecord]], plan: PowerPlan, into machines: inout [MachineTotals]) {
        let covering = records.indices.map { r in (r < previous.count ? previous[r] : []) + records[r] }
        for (r, flat) in rows.enumerated() {
            let m = plan.machineOf[r]
            guard m < machines.count else { continue }
            PowerRows.forEach(flat, sources: plan.allSourceNames[r].count) { t0, t1, watts in
                var machineWatts = 0.0, processWatts = 0.0
                for (j, w) in watts.enumerated() {
                    if plan.isMachineWide(rank: r, source: j) { machineWatts += w } else { processWatts += w }
                }
                guard t1 > t0 else { return }
                if processWatts != 0, let own = Self.phaseSeconds(covering[r], t0, t1) {
                    machines[m].processFit.add(joules: processWatts * (t1 - t0), seconds: own)
                }
                if machineWatts != 0 {
                    let ranks = plan.ranks(onMachine: m)
                    let each = ranks.compactMap { Self.phaseSeconds(covering[$0], t0, t1) }
                    guard each.count == ranks.count else { return }
                    let mean = (0..<3).map { k in each.map { $0[k] }.reduce(0, +) / Double(each.count) }
                    machines[m].machineFit.add(joules: machineWatts * (t1 - t0), seconds: mean)
                }
            }
        }
        previous = records
    }

    /// Seconds of [t0, t1] the records spend in compute, in comm, and in anything else; nil when
    /// they do not cover the whole window.
    package static func phaseSeconds(_ records: [IterationRecord], _ t0: Double, _ t1: Double) -> [Double]? {
        guard let first = records.first, let last = records.last, first.start <= t0, last.end >= t1 else { return nil }
        var compute = 0.0, comm = 0.0
        func overlap(_ record: IterationRecord, _ phase: Phase) -> Double {
            let a = record.phaseStart[phase], b = a + record.phaseSeconds[phase]
            return max(0, min(b, t1) - max(a, t0))
        }
        for record in records where record.end > t0 && record.start < t1 {
            compute += overlap(record, .compute)
            comm += overlap(record, .comm)
        }
        return [compute, comm, max(0, (t1 - t0) - compute - comm)]
    }
}
