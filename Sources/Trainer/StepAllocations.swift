import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

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
