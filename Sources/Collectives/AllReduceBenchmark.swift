import Support

/// The nccl-tests-style all-reduce harness `ringwatt bench-allreduce` runs: every candidate (ours,
/// and MPI's own under mpirun) checked against the exact sum and timed at each size, interleaved.
///
/// Rank r contributes (r+1)·v(i) with v(i) = ((i mod 13) + 1)/4, so the exact sum is
/// v(i)·p(p+1)/2. A call's time is the slowest rank's; calls run in rounds of up to 5
/// back-to-back calls that start at a barrier (its exit skew is not latency), rounds interleaved
/// across candidates so drifting noise hits all alike. Each candidate gets at least `iters`
/// calls, and as many more as fill `minSeconds` at the warm-up's median call time.
public struct AllReduceBenchmark {
    public struct Candidate {
        public let name: String
        /// Exact here (MPI's sums of small integers); ours may round on a 16-bit wire.
        public let exact: Bool
        public let call: (UnsafeMutableBufferPointer<Float>) throws -> Void

        public init(name: String, exact: Bool, call: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void) {
            self.name = name; self.exact = exact; self.call = call
        }
    }

    /// One candidate at one size: the slowest rank's seconds per call (mean, min, max) and the
    /// largest error against the exact sum.
    public struct Row: Equatable, Sendable {
        public var algorithm: String
        public var count: Int, iters: Int
        public var mean: Double, min: Double, max: Double
        public var error: Double
        public var bytes: Int { count * 4 }
    }

    public var counts: [Int]
    public var iters = 20
    public var minSeconds = 0.05
    public var warmup = 5
    public var wire = WireFormat.f32
    /// Seconds every rank spins before each timed call (after a barrier), as training leaves the
    /// network idle while it computes; 0: calls back to back. A link that buffers or shapes
    /// traffic (a token bucket, an emulated link) answers a call after a pause differently from
    /// one in a stream, and training's calls come after pauses. Spinning, not sleeping: a rank
    /// that computes keeps its core awake, and a call made from a sleeping core pays its wake-up.
    public var pauseSeconds = 0.0

    public init(counts: [Int]) { self.counts = counts }

    /// Every rank runs this together. Returns the rows (the same on every rank) and whether any
    /// result was outside its bound.
    public func run(_ comm: Communicator, _ candidates: [Candidate]) throws -> (rows: [Row], failed: Bool) {
        var rows: [Row] = [], failed = false
        for (sizeIndex, count) in counts.enumerated() {
            let pristine = (0..<count).map { Float(comm.rank + 1) * Float($0 % 13 + 1) / 4 }
            var buffer = pristine
            // The first size also warms the job up (connections, page faults, scheduler placement
            // of oversubscribed ranks), which otherwise lands on its timings.
            let warmupCalls = sizeIndex == 0 ? Swift.max(warmup, 50) : warmup
            var errors: [Double] = [], perCall: [Double] = []
            for candidate in candidates {
                let (error, bad) = try check(candidate, pristine, &buffer, comm)
                errors.append(error)
                failed = failed || bad
                perCall.append(try warmUp(candidate, pristine, &buffer, calls: warmupCalls))
            }
            // Decided from the slowest rank's estimate, so every rank agrees.
            let estimates = try comm.max(perCall)
            // With a pause every call costs the pause too: the minimum time bounds the size's wall time.
            let calls = estimates.map { Self.timedCalls(iters: iters, minSeconds: minSeconds, perCall: $0 + pauseSeconds) }
            let times = try timeInRounds(candidates, calls: calls, pristine, &buffer, comm)
            for (a, candidate) in candidates.enumerated() {
                let slowest = try comm.max(times[a])
                rows.append(Row(algorithm: candidate.name, count: count, iters: calls[a],
                                mean: slowest.reduce(0, +) / Double(slowest.count), min: slowest.min()!, max: slowest.max()!,
                                error: errors[a]))
            }
        }
        return (rows, failed)
    }

    /// One call on a fresh buffer against the exact sum; the worst error over ranks and whether
    /// any rank was outside the bound ((p+1)·u·Σ|x| for ours on a 16-bit wire, 0 for MPI's).
    private func check(_ candidate: Candidate, _ pristine: [Float], _ buffer: inout [Float], _ comm: Communicator) throws -> (Double, Bool) {
        let p = comm.size, scale = Double(p * (p + 1) / 2)
        buffer = pristine
        try buffer.withUnsafeMutableBufferPointer { try candidate.call($0) }
        var error = 0.0
        for i in buffer.indices { error = Swift.max(error, abs(Double(buffer[i]) - Double(i % 13 + 1) / 4 * scale)) }
        let bound = candidate.exact ? 0 : Double(p + 1) * wire.unitRoundoff * 13.0 / 4 * scale
        let worst = try comm.max([error, error > bound ? 1 : 0])
        return (worst[0], worst[1] > 0)
    }

    /// This rank's median warm-up call (0 with --warmup 0: no estimate asked for; the first
    /// size's job warm-up does not count).
    private func warmUp(_ candidate: Candidate, _ pristine: [Float], _ buffer: inout [Float], calls: Int) throws -> Double {
        var times: [Double] = []
        for _ in 0..<calls {
            Self.restore(&buffer, pristine)
            let t0 = monotonicSeconds()
            try buffer.withUnsafeMutableBufferPointer { try candidate.call($0) }
            times.append(monotonicSeconds() - t0)
        }
        return warmup == 0 ? 0 : median(times) ?? 0
    }

    /// Rounds of up to 5 back-to-back calls from a barrier, interleaved across candidates (every
    /// call sums: a round starts from a fresh buffer, so values grow at most p^5).
    private func timeInRounds(_ candidates: [Candidate], calls: [Int], _ pristine: [Float], _ buffer: inout [Float],
                              _ comm: Communicator) throws -> [[Double]] {
        var times = [[Double]](repeating: [], count: candidates.count)
        while zip(times, calls).contains(where: { $0.count < $1 }) {
            for (a, candidate) in candidates.enumerated() where times[a].count < calls[a] {
                Self.restore(&buffer, pristine)
                try comm.barrier()
                for _ in 0..<Swift.min(5, calls[a] - times[a].count) {
                    if pauseSeconds > 0 {
                        try comm.barrier()
                        let until = monotonicSeconds() + pauseSeconds
                        while monotonicSeconds() < until {}
                    }
                    let t0 = monotonicSeconds()
                    try buffer.withUnsafeMutableBufferPointer { try candidate.call($0) }
                    times[a].append(monotonicSeconds() - t0)
                }
            }
        }
        return times
    }

    /// Copies `pristine` into `buffer`'s own storage. (`buffer = pristine` shares the storage, and
    /// the call's first write then copies it into a fresh allocation inside the timed region: at
    /// 16 MB, page faults and a copy on the first call of every round, where training reuses its
    /// gradient's warm pages.)
    static func restore(_ buffer: inout [Float], _ pristine: [Float]) {
        precondition(buffer.count == pristine.count, "restore: \(buffer.count) values from \(pristine.count)")
        buffer.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: pristine) }
    }

    /// Timed calls for one candidate at one size: `iters`, or enough to last `minSeconds` at
    /// `perCall` seconds a call, capped at 100 000 (a 4-byte call takes a few µs).
    public static func timedCalls(iters: Int, minSeconds: Double, perCall: Double) -> Int {
        guard minSeconds > 0, perCall > 0 else { return iters }
        return Swift.max(iters, Swift.min(100_000, Int((minSeconds / perCall).rounded(.up))))
    }

    /// The share of a core each rank keeps busy while `candidate` all-reduces `count` floats,
    /// call after call: process CPU seconds over wall seconds, the mean over ranks (every rank
    /// gets it). What a rank draws while it communicates lies between idle (sleeping waits, no
    /// copies) and busy (spinning); this measures where.
    public func cpuShare(_ comm: Communicator, _ candidate: Candidate, count: Int, calls: Int = 5) throws -> Double {
        var buffer = (0..<count).map { Float(comm.rank + 1) * Float($0 % 13 + 1) / 4 }
        try comm.barrier()
        let cpu0 = processCPUSeconds(), t0 = monotonicSeconds()
        for _ in 0..<calls { try buffer.withUnsafeMutableBufferPointer { try candidate.call($0) } }
        let share = (processCPUSeconds() - cpu0) / Swift.max(1e-9, monotonicSeconds() - t0)
        return try comm.sum([share])[0] / Double(comm.size)
    }

    /// `cpuShare` at every size `rows` timed for `candidate`, each over enough calls to last about
    /// 50 ms (3 to 200, from the row's mean call): (bytes, share) per size.
    public func cpuShares(_ comm: Communicator, _ candidate: Candidate, rows: [Row]) throws -> [(bytes: Int, share: Double)] {
        try rows.filter { $0.algorithm == candidate.name && $0.count > 0 }.map { row in
            let calls = Swift.min(200, Swift.max(3, Int((0.05 / Swift.max(1e-9, row.mean)).rounded(.up))))
            return (row.bytes, try cpuShare(comm, candidate, count: row.count, calls: calls))
        }
    }

    /// Our algorithms as candidates: each call sets the algorithm, then sums.
    public static func ours(_ names: [AllReduceAlgorithm], _ comm: Communicator) -> [Candidate] {
        names.map { algorithm in
            Candidate(name: algorithm.rawValue, exact: false) { comm.allReduce.options.algorithm = algorithm; try comm.allReduce.sum($0) }
        }
    }
}
