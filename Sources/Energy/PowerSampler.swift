import Foundation
import Support
import Synchronization

/// One sampler tick: the time (seconds on this rank's aligned clock) and each source's
/// cumulative joules since the sampler started.
public struct PowerSample: Sendable, Equatable {
    public var t: Double
    public var joules: [Double]
    public var total: Double { joules.reduce(0, +) }
}

/// A background thread per rank that reads its sources at `hz`, turning every source into a
/// cumulative-joules curve: counters by difference from their first reading (wraps are handled by
/// the source), power-only sources by the trapezoid rule between ticks.
///
/// Energy of any window [t0, t1] is the difference of that curve at its edges, linearly
/// interpolated between ticks (`joules(from:to:)`): the training loop only records timestamps at
/// phase edges, which costs nanoseconds, and never touches a counter itself.
public final class PowerSampler: Sendable {
    public let hz: Double
    /// Subtracted from the monotonic clock so that t = 0 is the same instant on every rank.
    public let epoch: Double
    public let descriptions: [(kind: SourceKind, domain: String, scope: SourceScope)]
    private let state: Mutex<State>
    private let running = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(true)

    struct State {
        var sources: [PowerSource]
        var baseline: [Double?]
        var cumulative: [Double]
        var lastPower: [Double?]
        var lastTime: Double?
        var samples: [PowerSample] = []
        var failures: [Int]
        var lastError: [String?]
        /// Background samples not kept because their reads took longer than `loosestTiming`.
        var looselyTimed = 0
    }

    public init(sources: [PowerSource], hz: Double, epoch: Double) {
        self.hz = hz
        self.epoch = epoch
        descriptions = sources.map { ($0.kind, $0.domain, $0.scope) }
        let n = sources.count
        state = Mutex(State(sources: sources, baseline: Array(repeating: nil, count: n),
                            cumulative: Array(repeating: 0, count: n), lastPower: Array(repeating: nil, count: n),
                            failures: Array(repeating: 0, count: n), lastError: Array(repeating: nil, count: n)))
    }

    public var isEmpty: Bool { descriptions.isEmpty }

    /// Takes one sample now (also called by the training loop before it closes windows, so the
    /// curve always reaches past the last phase edge).
    @discardableResult
    public func sampleNow() -> PowerSample { sample(mayDrop: false)! }

    /// A background sample whose reads took longer than this is not kept (cumulative counters
    /// lose nothing: the next sample covers the interval): its time is known only to within half
    /// of it, and a sample timed that loosely blurs the phase windows and fits it falls into.
    public static let loosestTiming = 0.001

    private func sample(mayDrop: Bool) -> PowerSample? {
        state.withLock { s in
            // Stamp the sample at the middle of its reads: if this thread is descheduled while
            // reading, the values belong somewhere inside [before, after], not at `before`.
            let before = monotonicSeconds()
            let readings: [Result<PowerReading, Error>] = s.sources.map { source in Result { try source.read() } }
            let after = monotonicSeconds()
            let t = (before + after) / 2 - epoch
            let countersOnly = readings.allSatisfy { if case .success(.energy) = $0 { true } else { false } }
            if mayDrop && countersOnly && after - before > Self.loosestTiming {
                s.looselyTimed += 1
                return nil
            }
            for (i, reading) in readings.enumerated() {
                switch reading {
                case let .success(.energy(joules)):
                    if let base = s.baseline[i] { s.cumulative[i] = max(s.cumulative[i], joules - base) }
                    else { s.baseline[i] = joules }
                case let .success(.power(watts)):
                    if let last = s.lastPower[i], let lastTime = s.lastTime {
                        s.cumulative[i] += 0.5 * (last + watts) * (t - lastTime)
                    }
                    s.lastPower[i] = watts
                case let .failure(error):
                    s.failures[i] += 1
                    s.lastError[i] = "\(error)"
                }
            }
            s.lastTime = t
            let sample = PowerSample(t: t, joules: s.cumulative)
            s.samples.append(sample)
            return sample
        }
    }

    /// Background samples dropped because their reads were timed too loosely (a busy machine).
    public var looselyTimed: Int { state.withLock { $0.looselyTimed } }

    /// Starts the background thread (one sample immediately).
    public func start() {
        sampleNow()
        guard !isEmpty, hz > 0 else { return }
        running.store(true, ordering: .releasing)
        finished.store(false, ordering: .releasing)
        let period = 1 / hz
        let thread = Thread { [self] in
            var next = monotonicSeconds() + period
            while running.load(ordering: .acquiring) {
                let wait = next - monotonicSeconds()
                if wait > 0 { usleep(UInt32(wait * 1e6)) }
                sample(mayDrop: true)
                next += period
                if next < monotonicSeconds() { next = monotonicSeconds() + period }  // fell behind: skip ticks
            }
            finished.store(true, ordering: .releasing)
        }
        thread.name = "ringwatt-sampler"
        thread.start()
    }

    /// Stops the thread and takes a last sample.
    public func stop() {
        running.store(false, ordering: .releasing)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
        sampleNow()
    }

    /// Joules of all this rank's sources in [t0, t1].
    public func joules(from t0: Double, to t1: Double) -> Double {
        state.withLock { s in Self.interpolate(s.samples, at: t1) - Self.interpolate(s.samples, at: t0) }
    }

    /// Joules in [t0, t1] split by scope: this process's own (estimate) and node-wide counters.
    public func joulesByScope(from t0: Double, to t1: Double) -> (process: Double, node: Double) {
        let nodeMask = descriptions.map { $0.scope == .node }
        return state.withLock { s in
            let p1 = Self.interpolate(s.samples, at: t1) { !nodeMask[$0] }
            let p0 = Self.interpolate(s.samples, at: t0) { !nodeMask[$0] }
            let n1 = Self.interpolate(s.samples, at: t1) { nodeMask[$0] }
            let n0 = Self.interpolate(s.samples, at: t0) { nodeMask[$0] }
            return (p1 - p0, n1 - n0)
        }
    }

    /// Removes and returns the ticks before `t`, keeping the last one before it so windows that
    /// start at or after `t` can still be interpolated.
    public func drain(before t: Double) -> [PowerSample] {
        state.withLock { s in
            guard let cut = s.samples.lastIndex(where: { $0.t <= t }), cut > 0 else { return [] }
            let drained = Array(s.samples[0..<cut])
            s.samples.removeFirst(cut)
            return drained
        }
    }

    /// Read failures per source and the last message, for the run summary.
    public var failures: [(count: Int, message: String?)] {
        state.withLock { s in s.failures.indices.map { (s.failures[$0], s.lastError[$0]) } }
    }

    static func interpolate(_ samples: [PowerSample], at t: Double,
                            including: (Int) -> Bool = { _ in true }) -> Double {
        func total(_ s: PowerSample) -> Double {
            var sum = 0.0
            for i in s.joules.indices where including(i) { sum += s.joules[i] }
            return sum
        }
        guard let first = samples.first, let last = samples.last else { return 0 }
        if t <= first.t { return total(first) }
        if t >= last.t { return total(last) }
        var lo = 0, hi = samples.count - 1  // binary search: samples[lo].t ≤ t < samples[hi].t
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if samples[mid].t <= t { lo = mid } else { hi = mid }
        }
        let a = samples[lo], b = samples[hi]
        let f = (t - a.t) / (b.t - a.t)
        return total(a) + f * (total(b) - total(a))
    }
}
