import CKernels
import Support

extension AllReduce {
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
    func pipelined(_ count: Int, post: (Int) throws -> Exchange, land: (Int) -> Void) throws {
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
    func ring(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
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
    func reduceScatter(_ base: UnsafeMutablePointer<Float>, _ n: Int) throws -> Int {
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
    func allGather(_ base: UnsafeMutablePointer<Float>, _ n: Int) throws -> Int {
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
}
