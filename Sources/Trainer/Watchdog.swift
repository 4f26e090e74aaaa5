import Accounting
import RunFiles
import Foundation
import Support
import Synchronization

/// Set from signal handlers (SIGINT, SIGTERM): the training loop stops at the next iteration
/// edge, every rank at the same one (the request travels in the gradient all-reduce).
public let stopRequested = Atomic<Int32>(0)

/// Installs SIGINT/SIGTERM handlers that only record the signal (async-signal-safe: one atomic store).
public func installStopSignalHandlers() {
    for sig in [SIGINT, SIGTERM, SIGUSR1] {
        signal(sig) { number in stopRequested.store(number, ordering: .relaxed) }
    }
}

/// Where a rank is, as the watchdog reports it: a phase of the iteration, or one of the
/// collectives outside the gradient all-reduce. A rank stuck in a collective is waiting for ranks
/// that have not arrived; naming which one tells a user where the missing rank is not.
public enum Activity: Int, Sendable {
    case setUp, idle, data, compute, comm, optimizer
    /// Gathering every rank's records to rank 0 (every --flush-every iterations and at epoch ends).
    case recordGather
    /// Evaluating on the held-out data and summing over ranks.
    case evaluation
    /// Comparing per-layer parameter checksums across ranks (--verify-every).
    case verification
    /// Rank 0 writing a checkpoint (the others go on to the next collective and wait there).
    case checkpoint
    /// The end of the run: the final replica check, totals, summary.
    case finishing
    /// Asleep for the idle baseline, then gathering its joules (--idle-seconds).
    case idleBaseline

    public var name: String {
        switch self {
        case .setUp: "set-up"
        case .idle: "idle"
        case .data: "data"
        case .compute: "compute"
        case .comm: "comm"
        case .optimizer: "optimizer"
        case .recordGather: "record gather"
        case .evaluation: "eval"
        case .verification: "verification"
        case .checkpoint: "checkpoint"
        case .finishing: "finish"
        case .idleBaseline: "idle baseline"
        }
    }

    /// Activities in which a rank waits for every other rank.
    public var isCollective: Bool { [.comm, .recordGather, .evaluation, .verification, .finishing].contains(self) }
}

/// Told of every activity a rank starts, on the training thread, with the monotonic time: for
/// live displays, and for test fixtures whose counters follow what the rank does.
public typealias ActivityListener = @Sendable (Activity, Double) -> Void

/// A per-rank stall detector, in the spirit of Horovod's stall inspector. The training loop
/// beats whenever it starts an activity; if no beat comes for `stallSeconds`, this rank says where
/// it is stuck (a rank waiting in a collective waits for the ranks that are not there; a rank that
/// is gone says nothing) and `onStall` aborts the job (MPI_Abort) instead of waiting forever.
public final class Watchdog: Sendable {
    public let stallSeconds: Double
    private let lastBeat = Atomic<UInt64>(monotonicSeconds().bitPattern)
    private let activity = Atomic<Int>(Activity.setUp.rawValue)
    private let iteration = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private let listener: ActivityListener?

    public init(stallSeconds: Double, rank: Int, listener: ActivityListener? = nil, onStall: @escaping @Sendable (String) -> Void) {
        self.stallSeconds = stallSeconds
        self.listener = listener
        guard stallSeconds > 0 else { return }
        let thread = Thread { [self] in
            let period = min(0.5, stallSeconds / 4)
            while running.load(ordering: .acquiring) {
                usleep(UInt32(period * 1e6))
                let age = monotonicSeconds() - Double(bitPattern: lastBeat.load(ordering: .acquiring))
                if age > stallSeconds && running.load(ordering: .acquiring) {
                    onStall(Self.message(rank: rank, age: age, activity: Activity(rawValue: activity.load(ordering: .relaxed)) ?? .setUp,
                                         iteration: iteration.load(ordering: .relaxed), stallSeconds: stallSeconds))
                    return
                }
            }
        }
        thread.name = "ringwatt-watchdog"
        thread.start()
    }

    static func message(rank: Int, age: Double, activity: Activity, iteration: Int, stallSeconds: Double) -> String {
        let waiting = activity.isCollective ? "a collective: this rank waits for ranks that have not arrived"
            : "this rank's own work"
        return String(format: "rank %d: no progress for %.1f s (in phase '%@' of iteration %d, %@); aborting the job (--stall-seconds %.0f)",
                      rank, age, activity.name, iteration, waiting, stallSeconds)
    }

    @inline(__always)
    /// `at`: when the activity started on the monotonic clock (now if nil), as the listener hears it.
    public func beat(_ a: Activity, iteration i: Int, at start: Double? = nil) {
        iteration.store(i, ordering: .relaxed)
        beat(a, at: start)
    }

    /// A beat within the iteration last named.
    public func beat(_ a: Activity, at start: Double? = nil) {
        let t = start ?? monotonicSeconds()
        listener?(a, t)
        lastBeat.store(t.bitPattern, ordering: .releasing)
        activity.store(a.rawValue, ordering: .relaxed)
    }

    public func stop() { running.store(false, ordering: .releasing) }
}
