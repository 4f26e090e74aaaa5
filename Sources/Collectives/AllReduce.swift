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
    var wire: WireFormat { options.wire }
    var scratch: UnsafeMutablePointer<Float>
    var scratchCount: Int
    var wireOut = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    var wireIn = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    var wireBytes = 16
    var lengths: [Int64]
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
        return fastestPassSecondsPerByte(floats: n) { addInPlace(dst, src, n) }
    }

    /// Seconds per Float32 byte of the fastest of five passes of `pass` over `n` floats: the
    /// cost model's per-byte terms (γ, c_w), timed on this machine.
    static func fastestPassSecondsPerByte(floats n: Int, _ pass: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            pass()
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

    func reduce(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws {
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
    func run(_ algorithm: AllReduceAlgorithm, _ buffer: UnsafeMutableBufferPointer<Float>, scale: Float) throws -> Int {
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

    func ensureScratch(_ count: Int) {
        guard count > scratchCount else { return }
        scratch.deallocate()
        scratch = UnsafeMutablePointer<Float>.allocate(capacity: count)
        scratchCount = count
    }

    func ensureWire(_ bytes: Int) {
        guard bytes > wireBytes else { return }
        wireOut.deallocate(); wireIn.deallocate()
        wireOut = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        wireIn = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        wireBytes = bytes
    }

    /// Scratch for receiving `count` values (floats, or their wire encoding) in `slots` slots.
    func reserve(values count: Int, slots: Int = 1) {
        if wire == .f32 { ensureScratch(count * slots) } else { ensureWire(count * slots * wire.bytes) }
    }

    /// What goes on the wire for src[0..<n]: the floats themselves, or their encoding in slot `slot`.
    @inline(__always)
    func outgoing(_ src: UnsafePointer<Float>, _ n: Int, slot: Int = 0, slotValues: Int = 0) -> UnsafeRawBufferPointer {
        if wire == .f32 { return UnsafeRawBufferPointer(start: src, count: n * 4) }
        let at = wireOut + slot * slotValues * wire.bytes
        wire.encode(src, at, n)
        return UnsafeRawBufferPointer(start: at, count: n * wire.bytes)
    }

    /// Where n incoming values land before `land`: float scratch or wire scratch, slot `slot`.
    @inline(__always)
    func incoming(_ n: Int, slot: Int = 0, slotValues: Int = 0) -> UnsafeMutableRawBufferPointer {
        if wire == .f32 { return UnsafeMutableRawBufferPointer(start: scratch + slot * slotValues, count: n * 4) }
        return UnsafeMutableRawBufferPointer(start: wireIn + slot * slotValues * wire.bytes, count: n * wire.bytes)
    }

    /// dst += the n values received into `from` (an `incoming` buffer).
    @inline(__always)
    func landAdding(_ from: UnsafeMutableRawBufferPointer, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        wire.decodeAdd(from.baseAddress!, dst, n)  // f32: the plain add
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
