import CKernels
import Support

extension AllReduce {
    // MARK: Recursive doubling and halving-doubling

    /// The largest power of two ≤ `p` (p ≥ 1): the ranks the doubling algorithms run on once a
    /// non-power of two has folded the rest in.
    public static func foldedRanks(_ p: Int) -> Int {
        var p2 = 1
        while p2 * 2 <= p { p2 *= 2 }
        return p2
    }

    /// Non-powers of two: the first 2·rem ranks pair up; the even one hands its buffer to the odd
    /// one and sits out until the result comes back. Returns the virtual rank among the p2 that
    /// take part (with p2, the largest power of two ≤ p, and rem = p − p2) to `body`.
    func fold(_ base: UnsafeMutablePointer<Float>, _ n: Int,
                      during body: (_ virtualRank: Int, _ p2: Int, _ rem: Int) throws -> Int) throws -> Int {
        let p = transport.size, r = transport.rank, p2 = Self.foldedRanks(p)
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
    func recursiveDoubling(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
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
