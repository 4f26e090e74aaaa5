/// How gradient values travel between ranks. Sums always accumulate in Float32; 16-bit formats
/// halve the bytes on the wire at the cost of rounding each value sent.
///
/// Error bound (per element, sum over p ranks): every value is rounded at most once per hop it
/// travels, to a relative error of u (bf16: 2⁻⁸, 8 significant bits; f16: 2⁻¹¹), so |result − exact| ≤ (p+1)·u·Σ|x_r|
/// (in f16 also for values inside its range, |x| < 65504; smaller than 6·10⁻⁵ lose precision).
/// Every rank ends with the same bits: what a rank keeps of its own contribution is rounded the
/// same way as what it sends.
public enum WireFormat: String, CaseIterable, Sendable {
    case f32, bf16, f16

    public var bytes: Int { self == .f32 ? 4 : 2 }

    /// Unit roundoff of one encode.
    public var unitRoundoff: Double {
        switch self {
        case .f32: 0
        case .bf16: 0x1p-8
        case .f16: 0x1p-11
        }
    }

    @inline(__always)
    static func bf16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        let rounding: UInt32 = 0x7FFF + ((bits >> 16) & 1)  // round to nearest, ties to even
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    @inline(__always)
    static func float(bf16 h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

    /// src (Float32) → dst (this format), n values.
    func encode(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
        switch self {
        case .f32: dst.copyMemory(from: src, byteCount: n * 4)
        case .bf16:
            let d = dst.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { d[i] = Self.bf16(src[i]) }
        case .f16:
            let d = dst.assumingMemoryBound(to: Float16.self)
            for i in 0..<n { d[i] = Float16(src[i]) }
        }
    }

    /// dst += decode(src), n values.
    func decodeAdd(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .f32:
            let s = src.assumingMemoryBound(to: Float.self)
            for i in 0..<n { dst[i] += s[i] }
        case .bf16:
            let s = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { dst[i] += Self.float(bf16: s[i]) }
        case .f16:
            let s = src.assumingMemoryBound(to: Float16.self)
            for i in 0..<n { dst[i] += Float(s[i]) }
        }
    }

    /// dst = decode(src), n values.
    func decode(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
        case .bf16:
            let s = src.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n { dst[i] = Self.float(bf16: s[i]) }
        case .f16:
            let s = src.assumingMemoryBound(to: Float16.self)
            for i in 0..<n { dst[i] = Float(s[i]) }
        }
    }

    /// x = decode(encode(x)) in place: what the other ranks will see of these values.
    func round(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .f32: return
        case .bf16: for i in 0..<n { x[i] = Self.float(bf16: Self.bf16(x[i])) }
        case .f16: for i in 0..<n { x[i] = Float(Float16(x[i])) }
        }
    }
}
