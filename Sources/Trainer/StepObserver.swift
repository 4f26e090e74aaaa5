import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

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

    /// `backwardDone` is told when backward hands over its last piece, with backward's end on the
    /// aligned clock: from then on the rank communicates (with overlap off, the rest of the
    /// all-reduce runs inside that hand-over).
    init(buckets: GradientBuckets, trace: TimelineRecorder, clock: @escaping () -> Double, backwardDone: @escaping (Double) -> Void) {
        self.buckets = buckets
        self.trace = trace
        self.clock = clock
        events = StepEvents(forwardDone: { [unowned self] in
            guard trace.enabled else { return }
            let t = clock()
            trace.add(.forward, 0, start: lastMark, duration: t - lastMark)
            lastMark = t
        }, gradientsFinal: { [unowned self] offset in
            if offset == 0 { backwardEnd = clock(); backwardOver = true; backwardDone(backwardEnd) }
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
