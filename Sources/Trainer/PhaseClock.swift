import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

/// One iteration's phase edges: each phase closes where the next opens, so an iteration's phases
/// tile its window (and phase energies add up to the iteration's); the watchdog (and an activity
/// listener, such as a meter that follows the ranks) hears of each activity at the very edge the
/// record holds, not a moment later, so what a listener sees and what the record says agree.
struct PhaseClock {
    private(set) var record = IterationRecord()
    private var phaseStart: Double
    private let watchdog: Watchdog
    /// The aligned clock's zero on the monotonic clock (edges are on the aligned clock).
    private let clockEpoch: Double

    /// The iteration starts at the previous one's end; until `now` the rank was idle (gathering,
    /// writing, waiting), less a checkpoint written in that gap.
    init(iteration: Int, epoch: Int, previousEnd: Double, now: Double,
         checkpoint: (start: Double, seconds: Double)?, watchdog: Watchdog, clockEpoch: Double) {
        record.iter = iteration
        record.epoch = epoch
        record.openGap(from: previousEnd, to: now, checkpoint: checkpoint)
        phaseStart = now
        self.watchdog = watchdog
        self.clockEpoch = clockEpoch
        watchdog.beat(.data, iteration: iteration, at: now + clockEpoch)
    }

    var now: Double { phaseStart }

    /// Closes `phase` at `t`; the rank goes on to `next`.
    mutating func close(_ phase: Phase, at t: Double, next: Activity) {
        record.close(phase, from: phaseStart, to: t)
        phaseStart = t
        watchdog.beat(next, iteration: record.iter, at: t + clockEpoch)
    }

    /// The finished record; the iteration ends where its last phase closed.
    mutating func finish() -> IterationRecord {
        record.end = phaseStart
        return record
    }
}
