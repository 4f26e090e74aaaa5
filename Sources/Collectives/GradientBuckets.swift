import Dispatch
import Foundation
import Support

/// The gradient all-reduce of one training step, bucket by bucket.
///
/// Buckets are contiguous ranges of the flat gradient buffer, formed from the pieces backward
/// finishes (whole layers, or row blocks of a layer's weight gradient) in the order it finishes
/// them — from the end of the buffer down — each at least `bucketBytes` unless it is the last.
/// With `overlap`, a communication thread all-reduces a bucket as soon as backward reports its
/// pieces final, while earlier ones are still computing; without it, the same buckets run one
/// after another once backward is over. Either way each bucket is averaged by the same
/// algorithm over the same range, so overlap on and off give bit-identical gradients.
///
/// Open MPI has no asynchronous progress thread: a non-blocking transfer advances only while
/// some thread is inside MPI, which is why overlap needs a thread that drives the collective
/// rather than non-blocking calls posted from the compute thread. Only one thread calls MPI at a
/// time (the compute thread makes no MPI calls between the step's first `gradientsFinal` and
/// `finishStep`), so
/// MPI_THREAD_SERIALIZED suffices.
public final class GradientBuckets: @unchecked Sendable {
    /// Timing of one bucket's all-reduce on the aligned clock (seconds since `clockEpoch`).
    public struct BucketTiming: Sendable, Equatable {
        public var range: Range<Int>
        public var start: Double
        public var end: Double
        public var bytesSent: Int
    }

    /// The bucket size the trainer picks by itself when overlap is on or chosen either way:
    /// small enough that the first buckets leave early in backward, large enough that the
    /// latency terms of a hundred or so all-reduces per step stay a small share.
    public static let automaticBytes = 100_000

    /// The buckets in the order they are reduced (descending offsets).
    public let ranges: [Range<Int>]
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

    /// Seconds the last step's buckets spent in their all-reduces, summed (valid after `finishStep`).
    public var busySeconds: Double {
        var total = 0.0
        for t in timings { total += t.end - t.start }
        return total
    }

    /// - boundaries: the offsets backward reports final, in its order: strictly descending,
    ///   ending with 0 (after k, everything from k to the end of the buffer is final).
    public init(boundaries: [Int], buffer: UnsafeMutableBufferPointer<Float>, bucketBytes: Int,
                overlap: Bool, allReduce: AllReduce) {
        precondition(boundaries.last == 0 && zip(boundaries, boundaries.dropFirst()).allSatisfy { $0 > $1 }
                     && boundaries[0] < buffer.count, "boundaries must descend from inside the buffer to 0")
        self.ranges = Self.ranges(boundaries: boundaries, count: buffer.count, bucketBytes: bucketBytes)
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

    /// The buckets, in the order they are reduced, that `boundaries` (as for `init`) make of a
    /// buffer of `count` floats with buckets of at least `bucketBytes`.
    public static func ranges(boundaries: [Int], count: Int, bucketBytes: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var upper = count
        for lower in boundaries where (upper - lower) * 4 >= bucketBytes || lower == 0 {
            ranges.append(lower..<upper)
            upper = lower
        }
        return ranges
    }

    /// Stops the communication thread (idempotent).
    public func shutdown() {
        guard overlap, !stopping else { return }
        stopping = true
        ready.signal()
        threadDone.wait()
    }

    deinit { shutdown() }

    /// Backward reports that every gradient from `offset` to the end of the buffer is final:
    /// the buckets now complete go to the communication thread.
    public func gradientsFinal(from offset: Int) {
        guard overlap else { return }
        while posted < ranges.count && ranges[posted].lowerBound >= offset {
            posted += 1
            ready.signal()
        }
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
