import Dispatch
import Foundation
import Support

/// The gradient all-reduce of one training step, bucket by bucket.
///
/// Buckets are contiguous ranges of the flat gradient buffer, formed from whole layers in reverse
/// layer order (the order backward finishes them), each at least `bucketBytes` unless it is the
/// last. With `overlap`, a communication thread all-reduces a bucket as soon as backward reports
/// its layers done, while earlier layers are still computing; without it, the same buckets run
/// one after another once backward is over. Either way each bucket is averaged by the same
/// algorithm over the same range, so overlap on and off give bit-identical gradients.
///
/// Open MPI has no asynchronous progress thread: a non-blocking transfer advances only while
/// some thread is inside MPI, which is why overlap needs a thread that drives the collective
/// rather than non-blocking calls posted from the compute thread. Only one thread calls MPI at a
/// time (the compute thread makes no MPI calls between `beginStep` and `finishStep`), so
/// MPI_THREAD_SERIALIZED suffices.
public final class GradientBuckets: @unchecked Sendable {
    /// Timing of one bucket's all-reduce on the aligned clock (seconds since `clockEpoch`).
    public struct BucketTiming: Sendable, Equatable {
        public var range: Range<Int>
        public var start: Double
        public var end: Double
        public var bytesSent: Int
    }

    public let ranges: [Range<Int>]
    /// Index into `ranges` of the bucket each layer completes (nil when it completes none).
    public let completesBucket: [Int?]
    public let overlap: Bool
    public let allReduce: AllReduce
    public var clockEpoch = 0.0
    private let buffer: UnsafeMutablePointer<Float>
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var stopping = false
    private var threadError: Error?
    private var threadDone = DispatchSemaphore(value: 0)
    private var posted = 0
    /// Bucket timings of the last step (valid after `finishStep`).
    public private(set) var timings: [BucketTiming] = []

    /// - layers: each layer's range in the flat buffer, in layer order (layer 0 first).
    public init(layers: [Range<Int>], buffer: UnsafeMutableBufferPointer<Float>, bucketBytes: Int,
                overlap: Bool, allReduce: AllReduce) {
        precondition(!layers.isEmpty)
        var ranges: [Range<Int>] = []
        var completes = [Int?](repeating: nil, count: layers.count)
        var upper = layers.last!.upperBound
        var lower = upper
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            lower = layers[l].lowerBound
            if (upper - lower) * 4 >= bucketBytes || l == 0 {
                completes[l] = ranges.count
                ranges.append(lower..<upper)
                upper = lower
            }
        }
        self.ranges = ranges
        self.completesBucket = completes
        self.overlap = overlap
        self.allReduce = allReduce
        self.buffer = buffer.baseAddress!
        timings = ranges.map { BucketTiming(range: $0, start: 0, end: 0, bytesSent: 0) }
        if overlap {
            let thread = Thread { [self] in communicationLoop() }
            thread.name = "ringwatt-comm"
            thread.start()
        }
    }

    /// Stops the communication thread (idempotent).
    public func shutdown() {
        guard overlap, !stopping else { return }
        stopping = true
        ready.signal()
        threadDone.wait()
    }

    deinit { shutdown() }

    /// Backward reports that layer `layer`'s gradients are final.
    public func layerDone(_ layer: Int) {
        guard overlap, let bucket = completesBucket[layer] else { return }
        precondition(bucket == posted, "buckets must complete in order")
        posted += 1
        ready.signal()
    }

    /// Completes the step's all-reduce: waits for the communication thread (overlap), or runs
    /// every bucket now. Returns when the whole gradient is averaged.
    public func finishStep() throws {
        if overlap {
            precondition(posted == ranges.count, "backward reported \(posted) of \(ranges.count) buckets")
            finished.wait()
            posted = 0
            if let error = threadError { threadError = nil; throw error }
        } else {
            for i in ranges.indices { try reduce(i) }
        }
    }

    private func reduce(_ i: Int) throws {
        let before = allReduce.stats.bytesSent
        timings[i].start = monotonicSeconds() - clockEpoch
        try allReduce.average(UnsafeMutableBufferPointer(start: buffer + ranges[i].lowerBound, count: ranges[i].count))
        timings[i].end = monotonicSeconds() - clockEpoch
        timings[i].bytesSent = allReduce.stats.bytesSent - before
    }

    private func communicationLoop() {
        defer { threadDone.signal() }
        while true {
            var failed = false
            for i in ranges.indices {
                ready.wait()
                if stopping { return }
                if failed { continue }
                do { try reduce(i) } catch {
                    threadError = error
                    failed = true
                }
            }
            finished.signal()
        }
    }
}
