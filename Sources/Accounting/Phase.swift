import RunFiles
/// The phases of an iteration. Energy windows open and close at their edges; an iteration's
/// phases tile its window exactly, so phase energies add up to the iteration's energy.
public enum Phase: Int, CaseIterable, Sendable {
    /// From the end of the previous iteration to this one's first phase: gathering records,
    /// writing files, waiting for other ranks.
    case idle
    /// Drawing the batch: indices to normalised floats.
    case data
    /// Forward and backward (cblas_sgemm).
    case compute
    /// Gradient all-reduce.
    case comm
    /// The optimizer step.
    case optimizer
    /// Evaluation on held-out data: at each epoch's end and every --eval-every steps.
    case eval
    /// Writing a checkpoint.
    case checkpoint

    public var name: String {
        switch self {
        case .idle: "idle"
        case .data: "data"
        case .compute: "compute"
        case .comm: "comm"
        case .optimizer: "optimizer"
        case .eval: "eval"
        case .checkpoint: "checkpoint"
        }
    }

    /// The three-way split reported everywhere: compute, comm, and other (all the rest).
    public var category: String {
        switch self {
        case .compute: "compute"
        case .comm: "comm"
        default: "other"
        }
    }
}

/// What a rank's record tells every rank at a flush: carry on, or stop (the highest wins).
package enum RankSignal: Int, Comparable {
    case carryOn = 0
    /// Rank 0 could not write the run directory.
    case failed = 1
    /// A stop was requested (signal), seen by every rank in the same step.
    case interrupted = 2
    /// The energy budget is used up.
    case energyBudget = 3
    /// Some rank was warned of preemption (SIGUSR1): stop now, to be resumed.
    case preempted = 4

    package static func < (a: RankSignal, b: RankSignal) -> Bool { a.rawValue < b.rawValue }

    /// The status a run that stops on this signal ends with.
    package var status: RunStatus? {
        switch self {
        case .carryOn: nil
        case .failed: .failed
        case .interrupted: .interrupted
        case .energyBudget: .energyBudget
        case .preempted: .preempted
        }
    }
}

/// One figure per phase, stored inline: an iteration's record is made every step, and a step
/// allocates nothing.
package struct PhaseValues {
    private var storage = InlineArray<7, Double>(repeating: 0)

    package init() { precondition(Phase.allCases.count == storage.count, "PhaseValues holds one value per Phase") }

    package init(_ values: ArraySlice<Double>) {
        self.init()
        for (i, v) in zip(storage.indices, values) { storage[i] = v }
    }

    package subscript(_ i: Int) -> Double {
        get { storage[i] }
        set { storage[i] = newValue }
    }

    package subscript(_ phase: Phase) -> Double {
        get { storage[phase.rawValue] }
        set { storage[phase.rawValue] = newValue }
    }

    package var sum: Double {
        var total = 0.0
        for i in storage.indices { total += storage[i] }
        return total
    }

}

/// One rank's account of one iteration, flattened to Doubles so ranks can all-gather them.
package struct IterationRecord {
    package static let phaseCount = Phase.allCases.count
    package static let width = 10 + 4 * phaseCount

    package var iter = 0, epoch = 0, samples = 0
    /// This rank's batch-mean loss.
    package var loss = 0.0
    /// What this rank sent in the gradient all-reduce, and the seconds its buckets took.
    package var commBytes = 0, commSeconds = 0.0
    package var signal = RankSignal.carryOn
    /// The iteration's window on the aligned clock: from the previous iteration's end to this one's.
    package var start = 0.0, end = 0.0
    /// This process's CPU time (all its threads) in the iteration: how a machine's shared
    /// counters are attributed to its ranks.
    package var cpuSeconds = 0.0
    package var phaseStart = PhaseValues()
    package var phaseSeconds = PhaseValues()
    package var processJoules = PhaseValues()
    package var nodeJoules = PhaseValues()

    /// Appends the record's `width` values to `out` (the layout `init(flat:)` reads).
    package func append(to out: inout [Double]) {
        out.append(contentsOf: [Double(iter), Double(epoch), loss, Double(samples), Double(commBytes), commSeconds,
                                Double(signal.rawValue), start, end, cpuSeconds])
        for values in [phaseStart, phaseSeconds, processJoules, nodeJoules] {
            for i in 0..<Self.phaseCount { out.append(values[i]) }
        }
    }

    package init() {}

    package init(flat f: ArraySlice<Double>) {
        let b = f.startIndex
        iter = Int(f[b]); epoch = Int(f[b + 1]); loss = f[b + 2]; samples = Int(f[b + 3])
        commBytes = Int(f[b + 4]); commSeconds = f[b + 5]; signal = RankSignal(rawValue: Int(f[b + 6])) ?? .failed
        start = f[b + 7]; end = f[b + 8]; cpuSeconds = f[b + 9]
        let n = Self.phaseCount, p = b + 10
        phaseStart = PhaseValues(f[p..<(p + n)])
        phaseSeconds = PhaseValues(f[(p + n)..<(p + 2 * n)])
        processJoules = PhaseValues(f[(p + 2 * n)..<(p + 3 * n)])
        nodeJoules = PhaseValues(f[(p + 3 * n)..<(p + 4 * n)])
    }

    package var joules: Double { processJoules.sum + nodeJoules.sum }

    /// Phase `phase` ran from its start to `end`.
    package mutating func close(_ phase: Phase, from start: Double, to end: Double) {
        phaseStart[phase] = start
        phaseSeconds[phase] = end - start
    }

    package func seconds(_ phase: Phase) -> Double { phaseSeconds[phase.rawValue] }
    package func started(_ phase: Phase) -> Double { phaseStart[phase.rawValue] }

    /// The gap before the first phase, from the previous iteration's end to `now`: the rank was
    /// idle (gathering, writing, waiting) except while it wrote a checkpoint, which sits inside
    /// the gap. The one place that rule is written: `idleSpans` and the energy windows read it.
    package mutating func openGap(from previousEnd: Double, to now: Double, checkpoint: (start: Double, seconds: Double)?) {
        start = previousEnd
        close(.idle, from: previousEnd, to: now)
        if let c = checkpoint {
            close(.checkpoint, from: c.start, to: c.start + c.seconds)
            phaseSeconds[Phase.idle.rawValue] -= c.seconds
        }
    }

    /// Where the idle phase ran: the gap before the first phase, less the checkpoint inside it.
    package var idleSpans: [(start: Double, seconds: Double)] {
        let gapEnd = started(.data)
        guard seconds(.checkpoint) > 0 else { return [(start, gapEnd - start)] }
        let cs = started(.checkpoint), ce = cs + seconds(.checkpoint)
        return [(start, cs - start), (ce, gapEnd - ce)]
    }
}
