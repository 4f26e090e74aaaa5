import CKernels
import Support

/// Which all-reduce algorithm to run.
public enum AllReduceAlgorithm: String, CaseIterable, Sendable, Codable {
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

/// Cumulative communication statistics of one `AllReduce` instance (callers time the calls they
/// care about — `GradientBuckets` does — so the latency-bound path reads no clock).
public struct CommStats: Sendable, Equatable {
    public var calls = 0
    /// Bytes this rank sent.
    public var bytesSent = 0
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
    /// How an all-reduce runs: algorithm, pipelining, thresholds, wire format, checks. One value,
    /// set at once (the trainer's configuration and the benchmark's options fill the same fields).
    public struct Options: Sendable, Equatable {
        public var algorithm: AllReduceAlgorithm
        /// The ring's reduce-scatter sends each step's chunk in segments of this many bytes, two in
        /// flight: while one segment is added in, the next is on the wire. (The all-gather sends
        /// each chunk whole: it has nothing to overlap the transfer with.)
        public var segmentBytes: Int
        /// `auto` uses recursive doubling for buffers of fewer bytes than this.
        public var smallMessageBytes: Int
        /// `auto` uses halving-doubling (more than two ranks) for buffers of fewer bytes than this.
        public var largeMessageBytes: Int
        /// Recursive doubling sends in pieces of at most this many bytes, below Open MPI's shared-
        /// memory eager limit (4 KiB including its header), so no piece waits for a rendezvous.
        public var eagerBytes: Int
        /// Values on the wire: Float32, or bf16/f16 (half the bytes; sums still in Float32).
        public var wire: WireFormat
        /// Check before each call that every rank passes the same length (one small all-gather:
        /// a clear error instead of a hang). Callers that have established the length once (the
        /// trainer checks its gradient layout at start) or benchmarks comparing with MPI_Allreduce,
        /// which does not check, may turn it off.
        public var verifyLengths: Bool

        public init(algorithm: AllReduceAlgorithm = .auto, segmentBytes: Int = 1 << 20, smallMessageBytes: Int = 16 << 10,
                    largeMessageBytes: Int = 512 << 10, eagerBytes: Int = 4000, wire: WireFormat = .f32,
                    verifyLengths: Bool = true) {
            precondition(segmentBytes >= 4 && eagerBytes >= 4)
            self.algorithm = algorithm; self.segmentBytes = segmentBytes; self.smallMessageBytes = smallMessageBytes
            self.largeMessageBytes = largeMessageBytes; self.eagerBytes = eagerBytes; self.wire = wire
            self.verifyLengths = verifyLengths
        }
    }

    public let transport: any Transport
    public var options: Options
    public private(set) var stats = CommStats()
    private var wire: WireFormat { options.wire }
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchCount: Int
    private var wireOut = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    private var wireIn = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    private var wireBytes = 16
    private var lengths: [Int64]
    let tag: Int32 = 7001

    public init(transport: any Transport, options: Options = Options()) {
        self.transport = transport
        self.options = options
        scratchCount = 0
        scratch = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        lengths = [Int64](repeating: 0, count: transport.size)
    }

    deinit { scratch.deallocate(); wireOut.deallocate(); wireIn.deallocate() }

    public func resetStats() { stats = CommStats() }

    /// γ of the cost model: seconds per byte of the reduction (dst += src) over 16 MiB buffers, out
    /// of cache as in a large ring step; the best of five passes.
    public static func reductionSecondsPerByte() -> Double {
        let n = 4 << 20
        let dst = UnsafeMutablePointer<Float>.allocate(capacity: n), src = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { dst.deallocate(); src.deallocate() }
        dst.initialize(repeating: 1, count: n)
        src.initialize(repeating: 2, count: n)
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            addInPlace(dst, src, n)
            best = min(best, monotonicSeconds() - t0)
        }
        return best / Double(n * 4)
    }

    /// The algorithm `auto` resolves to for a buffer of `count` floats.
    public func resolvedAlgorithm(count: Int) -> AllReduceAlgorithm {
        switch options.algorithm {
        case .auto:
            let bytes = count * 4
            if bytes < options.smallMessageBytes { return .recursiveDoubling }
            if transport.size > 2 && bytes < options.largeMessageBytes { return .halvingDoubling }
            return .ring
        default: return options.algorithm
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
        if options.verifyLengths { try checkLengthsAgree(buffer.count) }
        var sent = 0
        if transport.size == 1 {
            if scale != 1 && buffer.count > 0 { scaleInPlace(buffer.baseAddress!, buffer.count, scale) }
        } else if buffer.count > 0 {
            sent = try run(resolvedAlgorithm(count: buffer.count), buffer, scale: scale)
        }
        stats.calls += 1
        stats.bytesSent += sent
        stats.bytesReduced += buffer.count * 4
    }

    /// One algorithm on p > 1 ranks and a non-empty buffer.
    private func run(_ algorithm: AllReduceAlgorithm, _ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        switch algorithm {
        case .recursiveDoubling: return try recursiveDoubling(buffer, scale: scale)
        case .halvingDoubling: return try halvingDoubling(buffer, scale: scale)
        default: return try ring(buffer, scale: scale)
        }
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

    private func ensureScratch(_ count: Int) {
        guard count > scratchCount else { return }
        scratch.deallocate()
        scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        scratchCount = count
    }

    private func ensureWire(_ bytes: Int) {
        guard bytes > wireBytes else { return }
        wireOut.deallocate(); wireIn.deallocate()
        wireOut = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        wireIn = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        wireBytes = bytes
    }

    /// Scratch for receiving `count` values (floats, or their wire encoding) in `slots` slots.
    private func reserve(values count: Int, slots: Int = 1) {
        if wire == .f32 { ensureScratch(count * slots) } else { ensureWire(count * slots * wire.bytes) }
    }

    /// What goes on the wire for src[0..<n]: the floats themselves, or their encoding in slot `slot`.
    @inline(__always)
    private func outgoing(_ src: UnsafePointer<Float>, _ n: Int, slot: Int = 0, slotValues: Int = 0) -> UnsafeRawBufferPointer {
        if wire == .f32 { return UnsafeRawBufferPointer(start: src, count: n * 4) }
        let at = wireOut + slot * slotValues * wire.bytes
        wire.encode(src, at, n)
        return UnsafeRawBufferPointer(start: at, count: n * wire.bytes)
    }

    /// Where n incoming values land before `land`: float scratch or wire scratch, slot `slot`.
    @inline(__always)
    private func incoming(_ n: Int, slot: Int = 0, slotValues: Int = 0) -> UnsafeMutableRawBufferPointer {
        if wire == .f32 { return UnsafeMutableRawBufferPointer(start: scratch + slot * slotValues, count: n * 4) }
        return UnsafeMutableRawBufferPointer(start: wireIn + slot * slotValues * wire.bytes, count: n * wire.bytes)
    }

    /// dst += the n values received into `from` (an `incoming` buffer).
    @inline(__always)
    private func landAdding(_ from: UnsafeMutableRawBufferPointer, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        wire.decodeAdd(from.baseAddress!, dst, n)  // f32: the plain add
    }

    // MARK: Ring

    /// Chunk i of a buffer of n elements split over p ranks: [i·n/p, (i+1)·n/p). Sizes differ by at
    /// most one; with n < p some chunks are empty.
    @inline(__always)
    static func chunk(_ i: Int, count n: Int, ranks p: Int) -> Range<Int> {
        (i * n / p)..<((i + 1) * n / p)
    }

    /// Posts exchange 0, then for each k: posts k+1, waits for k, lands k — so landing (adding)
    /// piece k overlaps the transfer of piece k+1. The pipeline the segmented algorithms share.
    @inline(__always)
    private func pipelined(_ count: Int, post: (Int) throws -> Exchange, land: (Int) -> Void) throws {
        guard count > 0 else { return }
        var inFlight = try post(0)
        for k in 0..<count {
            var next: Exchange? = nil
            if k + 1 < count { next = try post(k + 1) }
            try transport.wait(&inFlight)
            land(k)
            if let next { inFlight = next }
        }
    }

    /// The ring: reduce-scatter, scale and round this rank's finished chunk, all-gather.
    /// Returns the bytes this rank sent.
    private func ring(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        let p = transport.size, r = transport.rank, n = buffer.count
        let base = buffer.baseAddress!
        var sent = try reduceScatter(base, n)
        let owned = Self.chunk((r + 1) % p, count: n, ranks: p)
        if scale != 1 && !owned.isEmpty { scaleInPlace(base + owned.lowerBound, owned.count, scale) }
        wire.round(base + owned.lowerBound, owned.count)  // keep what the others will receive
        sent += try allGather(base, n)
        return sent
    }

    /// Ring reduce-scatter: at step s rank r sends chunk r−s to its right neighbour and adds chunk
    /// r−s−1 from its left into its own copy. After p−1 steps it holds the full sum of chunk r+1.
    /// Each step's chunk goes in segments of `segmentBytes` (two slots of scratch alternate), so the
    /// add of one segment overlaps the transfer of the next.
    private func reduceScatter(_ base: UnsafeMutablePointer<Float>, _ n: Int) throws -> Int {
        let p = transport.size, r = transport.rank
        let right = (r + 1) % p, left = (r + p - 1) % p
        let segment = max(1, options.segmentBytes / 4)
        let slot = min(segment, n / p + 1)
        reserve(values: max(2 * slot, n / p + 1))
        var sent = 0
        for s in 0..<(p - 1) {
            let sendRange = Self.chunk((r - s + 2 * p) % p, count: n, ranks: p)
            let recvRange = Self.chunk((r - s - 1 + 2 * p) % p, count: n, ranks: p)
            let sendSegments = (sendRange.count + segment - 1) / segment
            let recvSegments = (recvRange.count + segment - 1) / segment
            try pipelined(max(sendSegments, recvSegments), post: { k in
                var send: UnsafeRawBufferPointer? = nil
                var recv: UnsafeMutableRawBufferPointer? = nil
                if k < sendSegments {
                    let lo = sendRange.lowerBound + k * segment
                    send = outgoing(base + lo, min(segment, sendRange.upperBound - lo), slot: k & 1, slotValues: slot)
                }
                if k < recvSegments {
                    let lo = recvRange.lowerBound + k * segment
                    recv = incoming(min(segment, recvRange.upperBound - lo), slot: k & 1, slotValues: slot)
                }
                return try transport.post(send: send, to: right, receive: recv, from: left, tag: tag)
            }, land: { k in
                guard k < recvSegments else { return }
                let lo = recvRange.lowerBound + k * segment
                let len = min(segment, recvRange.upperBound - lo)
                landAdding(incoming(len, slot: k & 1, slotValues: slot), into: base + lo, len)
            })
            sent += sendRange.count * wire.bytes
        }
        return sent
    }

    /// Ring all-gather: at step s rank r sends chunk r+1−s (finished) to its right neighbour and
    /// receives chunk r−s from its left into place (through scratch when the wire is 16-bit).
    /// One message per step, not segmented.
    private func allGather(_ base: UnsafeMutablePointer<Float>, _ n: Int) throws -> Int {
        let p = transport.size, r = transport.rank
        let right = (r + 1) % p, left = (r + p - 1) % p
        var sent = 0
        for s in 0..<(p - 1) {
            let sendRange = Self.chunk((r + 1 - s + 2 * p) % p, count: n, ranks: p)
            let recvRange = Self.chunk((r - s + 2 * p) % p, count: n, ranks: p)
            if sendRange.isEmpty && recvRange.isEmpty { continue }
            let send = sendRange.isEmpty ? nil : outgoing(base + sendRange.lowerBound, sendRange.count)
            let recv: UnsafeMutableRawBufferPointer? = recvRange.isEmpty ? nil : wire == .f32
                ? UnsafeMutableRawBufferPointer(start: base + recvRange.lowerBound, count: recvRange.count * 4)
                : incoming(recvRange.count)
            var exchange = try transport.post(send: send, to: right, receive: recv, from: left, tag: tag)
            try transport.wait(&exchange)
            if wire != .f32, let recv { wire.decode(recv.baseAddress!, base + recvRange.lowerBound, recvRange.count) }
            sent += sendRange.count * wire.bytes
        }
        return sent
    }

    // MARK: Recursive doubling and halving-doubling

    /// Non-powers of two: the first 2·rem ranks pair up; the even one hands its buffer to the odd
    /// one and sits out until the result comes back. Returns the virtual rank among the p2 that
    /// take part (with p2, the largest power of two ≤ p, and rem = p − p2) to `body`.
    private func fold(_ base: UnsafeMutablePointer<Float>, _ n: Int,
                      during body: (_ virtualRank: Int, _ p2: Int, _ rem: Int) throws -> Int) throws -> Int {
        let p = transport.size, r = transport.rank
        var p2 = 1
        while p2 * 2 <= p { p2 *= 2 }
        let rem = p - p2
        var sent = 0
        if r < 2 * rem && r % 2 == 0 {
            var out = try transport.post(send: outgoing(base, n), to: r + 1, receive: nil, from: r + 1, tag: tag)
            try transport.wait(&out)
            sent += n * wire.bytes
            let landing = wire == .f32 ? UnsafeMutableRawBufferPointer(start: base, count: n * 4) : incoming(n)
            var back = try transport.post(send: nil, to: r + 1, receive: landing, from: r + 1, tag: tag)
            try transport.wait(&back)
            if wire != .f32 { wire.decode(landing.baseAddress!, base, n) }
            return sent
        }
        if r < 2 * rem {
            let landing = incoming(n)
            var e = try transport.post(send: nil, to: r - 1, receive: landing, from: r - 1, tag: tag)
            try transport.wait(&e)
            landAdding(landing, into: base, n)
        }
        sent += try body(r < 2 * rem ? r / 2 : r - rem, p2, rem)
        if r < 2 * rem {  // hand the result back (already rounded to the wire format, so exact)
            var e = try transport.post(send: outgoing(base, n), to: r - 1, receive: nil, from: r - 1, tag: tag)
            try transport.wait(&e)
            sent += n * wire.bytes
        }
        return sent
    }

    /// Latency-optimal all-reduce: log2 p exchanges of the whole buffer, each in pieces of at most
    /// `eagerBytes` pipelined as the ring's segments are. Every pairwise sum is
    /// computed as `mine + theirs` on both sides from values rounded alike; IEEE addition is
    /// commutative, so both partners hold the same bits at every level.
    private func recursiveDoubling(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        let n = buffer.count, base = buffer.baseAddress!
        reserve(values: n)
        let piece = max(1, options.eagerBytes / wire.bytes)
        let pieces = (n + piece - 1) / piece
        return try fold(base, n) { virtualRank, p2, rem in
            var sent = 0
            var mask = 1
            while mask < p2 {
                let vp = virtualRank ^ mask
                let partner = vp < rem ? vp * 2 + 1 : vp + rem
                wire.round(base, n)  // my contribution as my partner will see it
                if pieces == 1 && wire == .f32 {
                    try transport.exchange(send: UnsafeRawBufferPointer(start: base, count: n * 4), to: partner,
                                           receive: incoming(n), from: partner, tag: tag)
                    addInPlace(base, scratch, n)
                } else {
                    // Pieces below the eager limit, pipelined: piece k+1 in flight while piece k is added.
                    // With a 16-bit wire the whole buffer is encoded first, so adds never race the sends.
                    if wire != .f32 { _ = outgoing(base, n) }
                    try pipelined(pieces, post: { k in
                        let lo = k * piece, len = min(piece, n - lo)
                        let send = wire == .f32 ? UnsafeRawBufferPointer(start: base + lo, count: len * 4)
                            : UnsafeRawBufferPointer(start: wireOut + lo * wire.bytes, count: len * wire.bytes)
                        return try transport.post(send: send, to: partner, receive: incoming(len, slot: k, slotValues: piece),
                                                  from: partner, tag: tag)
                    }, land: { k in
                        let lo = k * piece, len = min(piece, n - lo)
                        landAdding(incoming(len, slot: k, slotValues: piece), into: base + lo, len)
                    })
                }
                sent += n * wire.bytes
                mask <<= 1
            }
            if scale != 1 { scaleInPlace(base, n, scale) }
            wire.round(base, n)
            return sent
        }
    }

    /// Rabenseifner's all-reduce. Each block's sum is computed by one rank in a fixed order and
    /// its bits (rounded to the wire format) are what every rank receives, so replicas are identical.
    func halvingDoubling(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
        let n = buffer.count, base = buffer.baseAddress!
        reserve(values: n)
        return try fold(base, n) { virtualRank, p2, rem in
            var sent = 0
            func real(_ vp: Int) -> Int { vp < rem ? vp * 2 + 1 : vp + rem }
            // Reduce-scatter by recursive halving: keep one half, send the other, add the partner's.
            var lo = 0, hi = n
            var levels = InlineArray<64, (lo: Int, hi: Int)>(repeating: (0, 0)), depth = 0  // a stack of log2(p2) ranges, kept off the heap
            var mask = p2 / 2
            while mask >= 1 {
                let partner = real(virtualRank ^ mask)
                let mid = lo + (hi - lo) / 2
                levels[depth] = (lo, hi)
                depth += 1
                let (keepLo, keepHi, sendLo, sendHi) = virtualRank & mask == 0 ? (lo, mid, mid, hi) : (mid, hi, lo, mid)
                let landing = incoming(keepHi - keepLo)
                try transport.exchange(send: outgoing(base + sendLo, sendHi - sendLo), to: partner,
                                       receive: landing, from: partner, tag: tag)
                landAdding(landing, into: base + keepLo, keepHi - keepLo)
                sent += (sendHi - sendLo) * wire.bytes
                lo = keepLo; hi = keepHi
                mask /= 2
            }
            if scale != 1 && hi > lo { scaleInPlace(base + lo, hi - lo, scale) }
            wire.round(base + lo, hi - lo)

            // All-gather by recursive doubling: undo the halving, level by level.
            mask = 1
            while mask < p2 {
                let partner = real(virtualRank ^ mask)
                depth -= 1
                let level = levels[depth]
                let (otherLo, otherHi) = lo == level.lo ? (hi, level.hi) : (level.lo, lo)
                let landing = wire == .f32
                    ? UnsafeMutableRawBufferPointer(start: base + otherLo, count: (otherHi - otherLo) * 4)
                    : incoming(otherHi - otherLo)
                try transport.exchange(send: outgoing(base + lo, hi - lo), to: partner, receive: landing, from: partner, tag: tag)
                if wire != .f32 { wire.decode(landing.baseAddress!, base + otherLo, otherHi - otherLo) }
                sent += (hi - lo) * wire.bytes
                lo = level.lo; hi = level.hi
                mask *= 2
            }
            return sent
        }
    }
}

/// dst[i] += src[i], vectorised for this CPU (CKernels).
@inline(__always)
func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ count: Int) {
    rw_add_f32(dst, src, count)
}

@inline(__always)
func scaleInPlace(_ dst: UnsafeMutablePointer<Float>, _ count: Int, _ scale: Float) {
    rw_scale_f32(dst, count, scale)
}
