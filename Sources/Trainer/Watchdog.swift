import Foundation
import Support
import Synchronization

/// Set from signal handlers (SIGINT, SIGTERM): the training loop stops at the next iteration
/// edge, every rank at the same one (the request travels in the gradient all-reduce).
public let stopRequested = Atomic<Int32>(0)

/// Installs SIGINT/SIGTERM handlers that only record the signal (async-signal-safe: one atomic store).
public func installStopSignalHandlers() {
    for sig in [SIGINT, SIGTERM] {
        signal(sig) { number in stopRequested.store(number, ordering: .relaxed) }
    }
}

/// A per-rank stall detector, in the spirit of Horovod's stall inspector. The training loop
/// beats at every phase edge; if no beat comes for `stallSeconds`, this rank says where it is
/// stuck (a rank waiting in `comm` is waiting for the ranks that are not there; a rank that is
/// gone says nothing) and `onStall` aborts the job (MPI_Abort) instead of waiting forever.
public final class Watchdog: Sendable {
    public let stallSeconds: Double
    private let lastBeat = Atomic<UInt64>(monotonicSeconds().bitPattern)
    private let phase = Atomic<Int>(0)
    private let iteration = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)

    public init(stallSeconds: Double, rank: Int, onStall: @escaping @Sendable (String) -> Void) {
        self.stallSeconds = stallSeconds
        guard stallSeconds > 0 else { return }
        let thread = Thread { [self] in
            let period = min(0.5, stallSeconds / 4)
            while running.load(ordering: .acquiring) {
                usleep(UInt32(period * 1e6))
                let age = monotonicSeconds() - Double(bitPattern: lastBeat.load(ordering: .acquiring))
                if age > stallSeconds && running.load(ordering: .acquiring) {
                    let where_ = Phase(rawValue: phase.load(ordering: .relaxed))?.name ?? "set-up"
                    onStall(String(format: "rank %d: no progress for %.1f s (in phase '%@' of iteration %d; a rank waiting in 'comm' "
                                   + "waits for ranks that have not arrived); aborting the job (--stall-seconds %.0f)",
                                   rank, age, where_, iteration.load(ordering: .relaxed), stallSeconds))
                    return
                }
            }
        }
        thread.name = "ringwatt-watchdog"
        thread.start()
    }

    @inline(__always)
    public func beat(_ p: Phase, iteration i: Int) {
        lastBeat.store(monotonicSeconds().bitPattern, ordering: .releasing)
        phase.store(p.rawValue, ordering: .relaxed)
        iteration.store(i, ordering: .relaxed)
    }

    public func stop() { running.store(false, ordering: .releasing) }
}
