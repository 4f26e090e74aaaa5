import RunFiles
import Collectives
import Energy
import Foundation
import Support

/// Every `--flush-every` iterations (and at epoch ends, checkpoints, stops): closes the pending
/// records' energy windows from this rank's sampled cumulative-joules curve, gathers every rank's
/// records and power samples, adds them to the run's totals (on every rank, so all take the same
/// decisions), and on rank 0 appends iterations.jsonl and power.csv.
package final class RecordFlusher {
    private let comm: Communicator
    private let plan: PowerPlan
    package let power: PowerSampler
    private let directory: RunDirectory?
    private let trace: TimelineRecorder
    private let energyBudget: Double?
    private let learningRate: (Int) -> Double
    package private(set) var pending: [IterationRecord] = []
    package var totals: RunTotals
    /// Rank 0's first failure to write the run directory: every rank stops at the next flush.
    package private(set) var writeError: String?
    private var lastPowerSample: PowerSample?
    private var fitter = PhaseFitter()
    private let metrics = MetricsExport()
    /// What a sample counts ("sample" or "token"), for the exported counters' names.
    package var unit = "sample"

    package init(comm: Communicator, plan: PowerPlan, power: PowerSampler, directory: RunDirectory?, trace: TimelineRecorder,
         totals: RunTotals, energyBudget: Double?, capacity: Int, learningRate: @escaping (Int) -> Double) {
        self.comm = comm; self.plan = plan; self.power = power; self.directory = directory; self.trace = trace
        self.totals = totals; self.energyBudget = energyBudget; self.learningRate = learningRate
        pending.reserveCapacity(capacity)  // a flush is due at --flush-every records at the latest: appends never grow it
    }

    package func append(_ record: IterationRecord) { pending.append(record) }

    /// The machines' accounts with their idle baseline (set once, before the first iteration).
    package func setMachines(_ machines: [MachineTotals]) { totals.machines = machines }

    /// Records rank 0's failure to write; the run stops, failed, at the next flush.
    package func failed(writing error: Error) { if writeError == nil { writeError = "\(error)" } }

    /// Flushes the pending records. Returns the signal every rank agrees on: carry on, or why to stop.
    package func flush() throws -> RankSignal {
        closeEnergyWindows()
        if let failure = directory?.writeFailure { failed(writing: RunError.runDirectory(failure)) }
        if writeError != nil, let last = pending.indices.last { pending[last].signal = .failed }
        let byRank = try gatherRecords()
        let powerRows = try comm.allGatherVariable(drainPowerRows())
        let lines = (0..<pending.count).map { k -> IterationLine in
            let records = byRank.map { $0[k] }
            return totals.add(records, machineOf: plan.machineOf, source: plan.sourceLabel,
                              learningRate: learningRate(records[0].iter))
        }
        fitter.add(rows: powerRows, records: byRank, plan: plan, into: &totals.machines)
        addSourceJoules(powerRows)
        if comm.isRoot, let directory, writeError == nil {
            directory.append(iterations: lines, power: csv(powerRows))
            directory.replace(MetricsExport.fileName, metrics.render(totals, plan: plan, unit: unit))
        }
        pending.removeAll(keepingCapacity: true)
        let signal = byRank.joined().map(\.signal).max() ?? .carryOn
        if signal == .carryOn, let energyBudget, totals.energyJoules >= energyBudget { return .energyBudget }
        return signal
    }

    /// Each phase's energy is the sampled curve's difference over the phase's window. Idle is the
    /// gap before the data phase less a checkpoint written inside it, so the phases tile the
    /// iteration's window exactly and phase energies add up to the iteration's.
    private func closeEnergyWindows() {
        power.sampleNow()
        for i in pending.indices {
            for phase in Phase.allCases where pending[i].seconds(phase) > 0 && phase != .idle {
                let t0 = pending[i].started(phase)
                let split = power.joulesByScope(from: t0, to: t0 + pending[i].seconds(phase))
                pending[i].processJoules[phase.rawValue] = split.process
                pending[i].nodeJoules[phase.rawValue] = split.node
            }
            let idle = Phase.idle.rawValue
            pending[i].processJoules[idle] = 0
            pending[i].nodeJoules[idle] = 0
            for span in pending[i].idleSpans {
                let split = power.joulesByScope(from: span.start, to: span.start + span.seconds)
                pending[i].processJoules[idle] += split.process
                pending[i].nodeJoules[idle] += split.node
            }
        }
    }

    /// Every rank's pending records, by rank (all ranks flush the same iterations).
    private func gatherRecords() throws -> [[IterationRecord]] {
        let count = pending.count, width = IterationRecord.width
        var mine: [Double] = []
        mine.reserveCapacity(count * width)
        for record in pending { record.append(to: &mine) }
        let gathered = try comm.allGather(mine)
        return (0..<comm.size).map { r in
            (0..<count).map { IterationRecord(flat: gathered[((r * count + $0) * width)..<((r * count + $0 + 1) * width)]) }
        }
    }

    /// Each source's joules in the flush's rows (mean watts × interval), by "kind,domain".
    private func addSourceJoules(_ rowsByRank: [[Double]]) {
        var joules = totals.sourceJoules ?? [:]
        for (r, rows) in rowsByRank.enumerated() {
            let names = plan.allSourceNames[r]
            PowerRows.forEach(rows, sources: names.count) { t0, t1, watts in
                for (name, w) in zip(names, watts) { joules[name, default: 0] += w * (t1 - t0) }
            }
        }
        totals.sourceJoules = joules
    }

    /// This rank's power samples since the last flush as [t0, t1, mean watts per source…] rows.
    private func drainPowerRows() -> [Double] {
        var rows: [Double] = []
        for sample in power.drain(before: pending.last?.end ?? monotonicSeconds() - power.epoch) {
            if let previous = lastPowerSample, sample.t > previous.t {
                trace.add(.power, 0, start: sample.t, duration: (sample.total - previous.total) / (sample.t - previous.t))
                rows.append(previous.t)
                rows.append(sample.t)
                for j in sample.joules.indices { rows.append((sample.joules[j] - previous.joules[j]) / (sample.t - previous.t)) }
            }
            lastPowerSample = sample
        }
        return rows
    }

    /// power.csv rows: rank, node, t_s, watts, source, domain.
    private func csv(_ rowsByRank: [[Double]]) -> String {
        var csv = ""
        for (r, names) in plan.allSourceNames.enumerated() {
            PowerRows.forEach(rowsByRank[r], sources: names.count) { _, t1, watts in
                for (name, w) in zip(names, watts) {
                    csv += "\(r),\(plan.nodeOf[r]),\(String(format: "%.4f", t1)),\(String(format: "%.3f", w)),\(name)\n"
                }
            }
        }
        return csv
    }
}

/// A rank's power rows as they travel to every rank: [t0, t1, mean watts of each source…] per
/// sample interval, flattened. Made by `RecordFlusher.drainPowerRows`, read here only.
package enum PowerRows {
    package static func forEach(_ flat: [Double], sources: Int, _ body: (_ t0: Double, _ t1: Double, _ watts: ArraySlice<Double>) -> Void) {
        guard sources > 0 else { return }
        let width = 2 + sources
        var i = 0
        while i + width <= flat.count {
            body(flat[i], flat[i + 1], flat[(i + 2)..<(i + width)])
            i += width
        }
    }
}
