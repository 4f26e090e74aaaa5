import Collectives
import Foundation
import Model
import Support

/// One iteration's phase edges: each phase closes where the next opens, so an iteration's phases
/// tile its window (and phase energies add up to the iteration's); the watchdog hears of each
/// activity as it starts.
struct PhaseClock {
    private(set) var record = IterationRecord()
    private var phaseStart: Double
    private let watchdog: Watchdog

    /// The iteration starts at the previous one's end; until `now` the rank was idle (gathering,
    /// writing, waiting), less a checkpoint written in that gap.
    init(iteration: Int, epoch: Int, previousEnd: Double, now: Double,
         checkpoint: (start: Double, seconds: Double)?, watchdog: Watchdog) {
        record.iter = iteration
        record.epoch = epoch
        record.start = previousEnd
        record.close(.idle, from: previousEnd, to: now)
        if let c = checkpoint {
            record.close(.checkpoint, from: c.start, to: c.start + c.seconds)
            record.phaseSeconds[Phase.idle.rawValue] -= c.seconds
        }
        phaseStart = now
        self.watchdog = watchdog
        watchdog.beat(.data, iteration: iteration)
    }

    var now: Double { phaseStart }

    /// Closes `phase` at `t`; the rank goes on to `next`.
    mutating func close(_ phase: Phase, at t: Double, next: Activity) {
        record.close(phase, from: phaseStart, to: t)
        phaseStart = t
        watchdog.beat(next, iteration: record.iter)
    }

    /// The finished record; the iteration ends where its last phase closed.
    mutating func finish() -> IterationRecord {
        record.end = phaseStart
        return record
    }
}

/// What backward reports during a step: hands finished gradient pieces to the buckets, stamps the
/// end of backward, and (with --timeline) records forward and each layer's backward. Made once
/// before the loop; its closures capture only itself, so a step allocates nothing for them.
final class StepObserver {
    private let buckets: GradientBuckets
    private let trace: TimelineRecorder
    private let clock: () -> Double
    /// Backward ends with the hand-over of its last piece (offset 0), stamped before the
    /// hand-over: the woken communication thread may take this core at once, and its all-reduce
    /// must count as communication, not as compute.
    private(set) var backwardEnd = 0.0
    private var lastMark = 0.0
    private var backwardOver = false
    private(set) var events = StepEvents()

    /// `backwardDone` is told when backward hands over its last piece: from then on the rank
    /// communicates (with overlap off, the rest of the all-reduce runs inside that hand-over).
    init(buckets: GradientBuckets, trace: TimelineRecorder, clock: @escaping () -> Double, backwardDone: @escaping () -> Void) {
        self.buckets = buckets
        self.trace = trace
        self.clock = clock
        events = StepEvents(forwardDone: { [unowned self] in
            guard trace.enabled else { return }
            let t = clock()
            trace.add(.forward, 0, start: lastMark, duration: t - lastMark)
            lastMark = t
        }, gradientsFinal: { [unowned self] offset in
            if offset == 0 { backwardEnd = clock(); backwardOver = true; backwardDone() }
            buckets.gradientsFinal(from: offset)
        }, layerDone: { [unowned self] layer in
            guard trace.enabled else { return }
            let t = backwardOver ? backwardEnd : clock()
            trace.add(.backward, layer, start: lastMark, duration: t - lastMark)
            lastMark = t
        })
    }

    /// A step's compute starts at `t`.
    func begin(at t: Double) {
        lastMark = t
        backwardEnd = t
        backwardOver = false
    }
}

/// The trainer's float after the gradients: it travels through every all-reduce, so a stop
/// request on any rank reaches every rank in the same step, at no extra collective.
struct ControlSlot {
    let pointer: UnsafeMutablePointer<Float>

    func send(stop: Bool) { pointer[0] = stop ? 1 : 0 }
    /// After the all-reduce: some rank asked to stop (the average of 0s and 1s is above 0).
    var stopRequested: Bool { pointer[0] > 0 }
}

/// Heap allocations on the training thread inside the steps (evaluation excluded), counted only
/// when a counting allocator is preloaded (`AllocationProbe`): the first step of a run may set
/// things up, every later one should allocate nothing. Reported on stderr at the end of the run.
struct StepAllocations {
    private let counter = AllocationProbe.threadAllocations
    private var stepStart: UInt64 = 0, pausedAt: UInt64 = 0
    private(set) var steps = 0, allocations: UInt64 = 0

    mutating func begin() { stepStart = counter?() ?? 0 }
    /// Evaluation runs inside some steps; it is not part of the training step.
    mutating func pause() { pausedAt = counter?() ?? 0 }
    mutating func resume() { if let counter { stepStart += counter() - pausedAt } }

    /// The step ended; steps after the first count.
    mutating func end(first: Bool) {
        guard let counter, !first else { return }
        allocations += counter() - stepStart
        steps += 1
    }

    func report(rank: Int) {
        guard counter != nil else { return }
        FileHandle.standardError.write(Data("ringwatt: rank \(rank): \(allocations) heap allocations in \(steps) training steps after the first (counted by the preloaded allocator)\n".utf8))
    }
}

/// Faults the tests inject through the environment, read once before the loop.
/// RINGWATT_FAULT_PERTURB=RANK:ITERATION: that rank nudges the first parameter of group 1 (layer 1
/// of the MLP) after that iteration's update, so replicas diverge.
struct FaultInjection {
    let perturb: (rank: Int, iteration: Int)?

    init(environment: [String: String]) {
        let p = environment["RINGWATT_FAULT_PERTURB"]?.split(separator: ":").compactMap { Int($0) } ?? []
        perturb = p.count == 2 ? (p[0], p[1]) : nil
    }

    func afterUpdate<M: TrainableModel>(_ model: M, rank: Int, iteration: Int) {
        guard let perturb, perturb == (rank, iteration), model.parameterGroups.count > 1 else { return }
        model.parameters.pointer[model.parameterGroups[1].lowerBound] += 1e-3
    }
}
