import Support

/// Which all-reduce algorithm to run.
public enum AllReduceAlgorithm: String, CaseIterable, Sendable {
    /// Ring: reduce-scatter then all-gather, 2(p−1) steps, each moving n/p elements.
    /// Bandwidth-optimal: every rank sends 2(p−1)/p·n elements.
    case ring
    /// Recursive doubling (with a fold for non-powers of two): ⌈log2 p⌉ (+2) steps, each moving
    /// all n elements. Latency-optimal, for small buffers.
    case recursiveDoubling = "recursive-doubling"
    /// Rabenseifner's: reduce-scatter by recursive halving, all-gather by recursive doubling.
    /// 2·⌈log2 p⌉ (+2) steps moving 2(p−1)/p·n in all: fewer steps than the ring, the same bytes.
    case halvingDoubling = "halving-doubling"
    /// By size and rank count: recursive doubling below `smallMessageBytes`; then, for more than
    /// two ranks, halving-doubling below `largeMessageBytes` (fewer sequential steps than the
    /// ring, which matters most when ranks share cores); the ring above.
    case auto
}

/// Cumulative communication statistics of one `AllReduce` instance.
public struct CommStats: Sendable, Equatable {
    public var calls = 0
    /// Bytes this rank sent.
    public var bytesSent = 0
    /// Seconds spent inside all-reduce calls.
    public var seconds = 0.0
    /// Bytes of the user buffers reduced (n × 4 per call): the "size" of nccl-tests.
    public var bytesReduced = 0
    public init() {}
}

/// All-reduce (sum or average) of `Float` buffers, written against `Transport`.
///
/// Determinism: the order of additions is a fixed function of (rank count, buffer length), and
/// every rank ends with the bits the owner of each chunk computed, so all ranks hold bit-identical
/// results and a rerun with the same inputs gives the same bits.
///
/// No allocation per call once the scratch buffers have grown to the largest segment seen.
public final class AllReduce {
    public let transport: any Transport
    public var algorithm: AllReduceAlgorithm
    /// Ring steps are split into segments of this many bytes: while one segment is being reduced,
    /// the next is in flight.
    public var segmentBytes: Int
    /// `auto` uses recursive doubling for buffers of fewer bytes than this.
    public var smallMessageBytes: Int
    /// `auto` uses halving-doubling (more than two ranks) for buffers of fewer bytes than this.
    public var largeMessageBytes: Int
    /// Recursive doubling sends in pieces of at most this many bytes, below Open MPI's shared-
    /// memory eager limit (4 KiB including its header), so no piece waits for a rendezvous.
    public var eagerBytes = 4000
    /// Check before each call that every rank passes the same length (one small all-gather:
    /// a clear error instead of a hang). Callers that have established the length once (the
    /// trainer checks its gradient layout at start) or benchmarks comparing with MPI_Allreduce,
    /// which does not check, may turn it off.
    public var verifyLengths = true
    public private(set) var stats = CommStats()
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchCount: Int
    private var lengths: [Int64]
    let tag: Int32 = 7001

    public init(transport: any Transport, algorithm: AllReduceAlgorithm = .auto,
                segmentBytes: Int = 1 << 20, smallMessageBytes: Int = 16 << 10, largeMessageBytes: Int = 2 << 20) {
        precondition(segmentBytes >= 4)
        self.transport = transport
        self.algorithm = algorithm
        self.segmentBytes = segmentBytes
        self.smallMessageBytes = smallMessageBytes
        self.largeMessageBytes = largeMessageBytes
        scratchCount = 0
        scratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        lengths = [Int64](repeating: 0, count: transport.size)
    }

    deinit { scratch.deallocate() }

    public func resetStats() { stats = CommStats() }

    /// The algorithm `auto` resolves to for a buffer of `count` floats.
    public func resolvedAlgorithm(count: Int) -> AllReduceAlgorithm {
        switch algorithm {
        case .auto:
            let bytes = count * 4
            if bytes < smallMessageBytes { return .recursiveDoubling }
            if transport.size > 2 && bytes < largeMessageBytes { return .halvingDoubling }
            return .ring
        default: return algorithm
        }
    }

    /// In place: every rank's `buffer` becomes the element-wise mean over ranks.
    public func average(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reduce(buffer, scale: 1 / Float(transport.size))
    }

    /// In place: every rank's `buffer` becomes the element-wise sum over ranks.
    public func sum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reduce(buffer, scale: 1)
    }

    private func reduce(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws {
        let start = monotonicSeconds()
        if verifyLengths { try checkLengthsAgree(buffer.count) }
        let sent: Int
        switch resolvedAlgorithm(count: buffer.count) {
        case .recursiveDoubling: sent = try recursiveDoubling(buffer, scale: scale)
        case .halvingDoubling: sent = try halvingDoubling(buffer, scale: scale)
        default: sent = try ring(buffer, scale: scale)
        }
        stats.calls += 1
        stats.bytesSent += sent
        stats.bytesReduced += buffer.count * 4
        stats.seconds += monotonicSeconds() - start
    }

    /// Ranks must enter with equal lengths; a mismatch is a clear error on every rank, never a
    /// hang. One small all-gather into a buffer allocated once.
    public func checkLengthsAgree(_ count: Int, operation: String = "all-reduce") throws {
        guard transport.size > 1 else { return }
        var mine = Int64(count)
        try withUnsafeBytes(of: &mine) { m in
            try lengths.withUnsafeMutableBytes { try transport.allGather(m, into: $0) }
        }
        if lengths.contains(where: { $0 != mine }) {
            throw CollectiveError.lengthMismatch(operation: operation, lengths: lengths.map(Int.init))
        }
    }

    func ensureScratchPublic(_ count: Int) { ensureScratch(count) }
    var scratchPointer: UnsafeMutablePointer<Float> { scratch }

    private func ensureScratch(_ count: Int) {
        guard count > scratchCount else { return }
        scratch.deallocate()
        scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        scratchCount = count
    }

    // MARK: Ring

    /// Chunk i of a buffer of n elements split over p ranks: [i·n/p, (i+1)·n/p). Sizes differ by at
    /// most one; with n < p some chunks are empty.
    @inline(__always)
    static func chunk(_ i: Int, count n: Int, ranks p: Int) -> Range<Int> {
        (i * n / p)..<((i + 1) * n / p)
    }

    /// Reduce-scatter then all-gather. Returns the bytes this rank sent.
    private func ring(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        let p = transport.size, r = transport.rank, n = buffer.count
        guard p > 1 else {
            if scale != 1 { scaleInPlace(buffer.baseAddress!, n, scale) }
            return 0
        }
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        let right = (r + 1) % p, left = (r + p - 1) % p
        let segment = max(1, segmentBytes / 4)
        ensureScratch(2 * min(segment, n / p + 1))
        var sent = 0

        // Reduce-scatter: at step s, send chunk r−s, receive chunk r−s−1 and add it into ours.
        // After p−1 steps this rank holds the full sum of chunk r+1.
        for s in 0..<(p - 1) {
            let sendRange = Self.chunk((r - s + 2 * p) % p, count: n, ranks: p)
            let recvRange = Self.chunk((r - s - 1 + 2 * p) % p, count: n, ranks: p)
            let sendSegments = (sendRange.count + segment - 1) / segment
            let recvSegments = (recvRange.count + segment - 1) / segment
            let steps = max(sendSegments, recvSegments)
            guard steps > 0 else { continue }

            func postSegment(_ k: Int) throws -> Exchange {
                var send: UnsafeRawBufferPointer? = nil
                var recv: UnsafeMutableRawBufferPointer? = nil
                if k < sendSegments {
                    let lo = sendRange.lowerBound + k * segment
                    let len = min(segment, sendRange.upperBound - lo)
                    send = UnsafeRawBufferPointer(start: base + lo, count: len * 4)
                }
                if k < recvSegments {
                    let lo = recvRange.lowerBound + k * segment
                    let len = min(segment, recvRange.upperBound - lo)
                    recv = UnsafeMutableRawBufferPointer(start: scratch + (k & 1) * segment, count: len * 4)
                }
                return try transport.post(send: send, to: right, receive: recv, from: left, tag: tag)
            }

            var inFlight = try postSegment(0)
            for k in 0..<steps {
                var next: Exchange? = nil
                if k + 1 < steps { next = try postSegment(k + 1) }
                try transport.wait(&inFlight)
                if k < recvSegments {
                    let lo = recvRange.lowerBound + k * segment
                    let len = min(segment, recvRange.upperBound - lo)
                    addInPlace(base + lo, scratch + (k & 1) * segment, len)
                }
                if let next { inFlight = next }
            }
            sent += sendRange.count * 4
        }

        let owned = Self.chunk((r + 1) % p, count: n, ranks: p)
        if scale != 1 && !owned.isEmpty { scaleInPlace(base + owned.lowerBound, owned.count, scale) }

        // All-gather: at step s, send chunk r+1−s (complete), receive chunk r−s straight into place.
        for s in 0..<(p - 1) {
            let sendRange = Self.chunk((r + 1 - s + 2 * p) % p, count: n, ranks: p)
            let recvRange = Self.chunk((r - s + 2 * p) % p, count: n, ranks: p)
            if sendRange.isEmpty && recvRange.isEmpty { continue }
            var exchange = try transport.post(
                send: sendRange.isEmpty ? nil : UnsafeRawBufferPointer(start: base + sendRange.lowerBound, count: sendRange.count * 4),
                to: right,
                receive: recvRange.isEmpty ? nil : UnsafeMutableRawBufferPointer(start: base + recvRange.lowerBound, count: recvRange.count * 4),
                from: left, tag: tag)
            try transport.wait(&exchange)
            sent += sendRange.count * 4
        }
        return sent
    }

    // MARK: Recursive doubling

    /// Latency-optimal all-reduce. Non-powers of two fold the first 2·rem ranks in pairs first
    /// (even ranks hand their buffer to the odd neighbour and receive the result at the end).
    /// Every pairwise sum is computed as `mine + theirs` on both sides; IEEE addition is
    /// commutative, so both partners hold the same bits at every level.
    private func recursiveDoubling(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        let p = transport.size, r = transport.rank, n = buffer.count
        guard p > 1 else {
            if scale != 1 && n > 0 { scaleInPlace(buffer.baseAddress!, n, scale) }
            return 0
        }
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        ensureScratch(n)
        let bytes = n * 4
        let whole = UnsafeRawBufferPointer(start: base, count: bytes)
        let wholeMut = UnsafeMutableRawBufferPointer(start: base, count: bytes)
        let into = UnsafeMutableRawBufferPointer(start: scratch, count: bytes)  // the fold's receive
        var p2 = 1
        while p2 * 2 <= p { p2 *= 2 }
        let rem = p - p2
        var sent = 0

        // Fold: ranks below 2·rem pair up; the even one sits out the doubling.
        var virtualRank: Int
        if r < 2 * rem {
            if r % 2 == 0 {
                var e = try transport.post(send: whole, to: r + 1, receive: nil, from: r + 1, tag: tag)
                try transport.wait(&e)
                sent += bytes
                var back = try transport.post(send: nil, to: r + 1, receive: wholeMut, from: r + 1, tag: tag)
                try transport.wait(&back)
                return sent
            }
            var e = try transport.post(send: nil, to: r - 1, receive: into, from: r - 1, tag: tag)
            try transport.wait(&e)
            addInPlace(base, scratch, n)
            virtualRank = r / 2
        } else {
            virtualRank = r - rem
        }

        var mask = 1
        let piece = max(1, eagerBytes / 4)
        let pieces = (n + piece - 1) / piece
        while mask < p2 {
            let vp = virtualRank ^ mask
            let partner = vp < rem ? vp * 2 + 1 : vp + rem
            // Pieces pipelined: piece k+1 is in flight while piece k is added.
            func post(_ k: Int) throws -> Exchange {
                let lo = k * piece, len = min(piece, n - lo)
                return try transport.post(send: UnsafeRawBufferPointer(start: base + lo, count: len * 4), to: partner,
                                          receive: UnsafeMutableRawBufferPointer(start: scratch + lo, count: len * 4),
                                          from: partner, tag: tag)
            }
            if pieces == 1 {
                try transport.exchange(send: whole, to: partner, receive: into, from: partner, tag: tag)
                addInPlace(base, scratch, n)
            } else {
                var inFlight = try post(0)
                for k in 0..<pieces {
                    var next: Exchange? = nil
                    if k + 1 < pieces { next = try post(k + 1) }
                    try transport.wait(&inFlight)
                    let lo = k * piece
                    addInPlace(base + lo, scratch + lo, min(piece, n - lo))
                    if let next { inFlight = next }
                }
            }
            sent += bytes
            mask <<= 1
        }
        if scale != 1 { scaleInPlace(base, n, scale) }

        if r < 2 * rem {  // odd partner of a folded rank: hand back the result
            var e = try transport.post(send: whole, to: r - 1, receive: nil, from: r - 1, tag: tag)
            try transport.wait(&e)
            sent += bytes
        }
        return sent
    }
}

extension AllReduce {
    /// Rabenseifner's all-reduce. Non-powers of two fold pairs first, as recursive doubling does.
    /// Each block's sum is computed by one rank in a fixed order and its bits are what every rank
    /// receives, so replicas are identical.
    func halvingDoubling(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        let p = transport.size, r = transport.rank, n = buffer.count
        guard p > 1 else {
            if scale != 1 && n > 0 { scaleInPlace(buffer.baseAddress!, n, scale) }
            return 0
        }
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        ensureScratchPublic(n)
        let scratch = scratchPointer
        func raw(_ lo: Int, _ hi: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + lo, count: (hi - lo) * 4) }
        func rawMut(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: p, count: count * 4)
        }
        var p2 = 1
        while p2 * 2 <= p { p2 *= 2 }
        let rem = p - p2
        var sent = 0
        let virtualRank: Int
        if r < 2 * rem {
            if r % 2 == 0 {
                var out = try transport.post(send: raw(0, n), to: r + 1, receive: nil, from: r + 1, tag: tag)
                try transport.wait(&out)
                sent += n * 4
                var back = try transport.post(send: nil, to: r + 1, receive: rawMut(base, n), from: r + 1, tag: tag)
                try transport.wait(&back)
                return sent
            }
            var e = try transport.post(send: nil, to: r - 1, receive: rawMut(scratch, n), from: r - 1, tag: tag)
            try transport.wait(&e)
            addInPlace(base, scratch, n)
            virtualRank = r / 2
        } else {
            virtualRank = r - rem
        }
        func real(_ vp: Int) -> Int { vp < rem ? vp * 2 + 1 : vp + rem }

        // Reduce-scatter by recursive halving: keep one half, send the other, add the partner's.
        var lo = 0, hi = n
        var levels: [(lo: Int, hi: Int)] = []
        var mask = p2 / 2
        while mask >= 1 {
            let partner = real(virtualRank ^ mask)
            let mid = lo + (hi - lo) / 2
            levels.append((lo, hi))
            let (keepLo, keepHi, sendLo, sendHi) = virtualRank & mask == 0 ? (lo, mid, mid, hi) : (mid, hi, lo, mid)
            try transport.exchange(send: raw(sendLo, sendHi), to: partner,
                                   receive: rawMut(scratch, keepHi - keepLo), from: partner, tag: tag)
            addInPlace(base + keepLo, scratch, keepHi - keepLo)
            sent += (sendHi - sendLo) * 4
            lo = keepLo; hi = keepHi
            mask /= 2
        }
        if scale != 1 && hi > lo { scaleInPlace(base + lo, hi - lo, scale) }

        // All-gather by recursive doubling: undo the halving, level by level.
        mask = 1
        while mask < p2 {
            let partner = real(virtualRank ^ mask)
            let level = levels.removeLast()
            let (otherLo, otherHi) = lo == level.lo ? (hi, level.hi) : (level.lo, lo)
            try transport.exchange(send: raw(lo, hi), to: partner,
                                   receive: rawMut(base + otherLo, otherHi - otherLo), from: partner, tag: tag)
            sent += (hi - lo) * 4
            lo = level.lo; hi = level.hi
            mask *= 2
        }

        if r < 2 * rem {
            var e = try transport.post(send: raw(0, n), to: r - 1, receive: nil, from: r - 1, tag: tag)
            try transport.wait(&e)
            sent += n * 4
        }
        return sent
    }
}

/// dst[i] += src[i]. A plain loop over raw pointers, which the optimiser vectorises.
@inline(__always)
func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    for i in 0..<count { dst[i] += src[i] }
}

@inline(__always)
func scaleInPlace(_ dst: UnsafeMutablePointer<Float>, _ count: Int, _ scale: Float) {
    for i in 0..<count { dst[i] *= scale }
}
