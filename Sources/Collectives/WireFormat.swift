import CKernels

/// How gradient values travel between ranks. Sums always accumulate in Float32; 16-bit formats
/// halve the bytes on the wire at the cost of rounding each value sent.
///
/// Error bound (per element, sum over p ranks): every value is rounded at most once per hop it
/// travels, to a relative error of u (bf16: 2⁻⁸, 8 significant bits; f16: 2⁻¹¹), so |result − exact| ≤ (p+1)·u·Σ|x_r|
/// (in f16 also for values inside its range, |x| < 65504; smaller than 6·10⁻⁵ lose precision).
/// Every rank ends with the same bits: what a rank keeps of its own contribution is rounded the
/// same way as what it sends.
public enum WireFormat: String, CaseIterable, Sendable, Codable {
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

    // The element-wise work is in CKernels (vectorised for the CPU the binary runs on; the same
    // bits on every CPU). Pointers are raw on the wire side: a segment of 16-bit values.

    /// src (Float32) → dst (this format), n values.
    func encode(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
        switch self {
        case .f32: dst.copyMemory(from: src, byteCount: n * 4)
        case .bf16: rw_bf16_encode(src, dst.assumingMemoryBound(to: UInt16.self), n)
        case .f16: rw_f16_encode(src, dst.assumingMemoryBound(to: UInt16.self), n)
        }
    }

    /// dst += decode(src), n values.
    func decodeAdd(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .f32: rw_add_f32(dst, src.assumingMemoryBound(to: Float.self), n)
        case .bf16: rw_bf16_decode_add(src.assumingMemoryBound(to: UInt16.self), dst, n)
        case .f16: rw_f16_decode_add(src.assumingMemoryBound(to: UInt16.self), dst, n)
        }
    }

    /// dst = decode(src), n values.
    func decode(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
        case .bf16: rw_bf16_decode(src.assumingMemoryBound(to: UInt16.self), dst, n)
        case .f16: rw_f16_decode(src.assumingMemoryBound(to: UInt16.self), dst, n)
        }
    }

    /// x = decode(encode(x)) in place: what the other ranks will see of these values.
    func round(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        switch self {
        case .f32: return
        case .bf16: rw_bf16_round(x, n)
        case .f16: rw_f16_round(x, n)
        }
    }
}

extension WireFormat {
    /// c_w of the cost model: seconds per Float32 byte to encode to this format and decode back
    /// (0 for f32, which sends the values as they are), over 16 MiB buffers out of cache as in a
    /// large ring step; the best of five passes.
    public func conversionSecondsPerByte() -> Double {
        guard self != .f32 else { return 0 }
        let n = 4 << 20
        let values = UnsafeMutablePointer<Float>.allocate(capacity: n), wire = UnsafeMutableRawPointer.allocate(byteCount: n * 2, alignment: 64)
        defer { values.deallocate(); wire.deallocate() }
        for i in 0..<n { values[i] = Float(i % 1013) * 0.001 }
        return AllReduce.fastestPassSecondsPerByte(floats: n) {
            encode(values, wire, n)
            decode(wire, values, n)
        }
    }
}
