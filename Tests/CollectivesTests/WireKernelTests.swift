import Testing
import Foundation
import Support
@testable import Collectives

/// The vectorised kernels (CKernels, one variant per x86-64 level) against scalar references
/// written from the definitions: IEEE binary16 by Swift's own Float16 conversion, bfloat16 as the
/// top half of the float rounded to nearest-even, f32 addition element by element. Bits must match
/// for special values, rounding ties, both ends of every range, and random values over all
/// exponents, at lengths and offsets that exercise the vector bodies and their scalar tails.
@Suite struct WireKernelTests {
    static func bf16Reference(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    static var samples: [Float] {
        var values: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               .leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                               65504, 65519.99, 65520, -65520, 6.1e-5, 5.96e-8, 2.98e-8, 1e-9,
                               1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-9 + 0x1p-23]
        var rng = SplitMix64(seed: 42)
        for _ in 0..<4000 {  // every exponent, both signs, random mantissas
            values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7F7F_FFFF | (rng.next() & 1 == 0 ? 0 : 0x8000_0000)))
        }
        for _ in 0..<2000 { values.append(Float(Double(rng.next() % 2_000_000) / 1000 - 1000)) }  // typical gradient-like range
        return values
    }

    @Test(arguments: [WireFormat.bf16, .f16])
    func encodeDecodeRoundMatchTheReference(_ wire: WireFormat) {
        let xs = Self.samples
        for (offset, n) in [(0, 0), (0, 1), (1, 7), (3, 33), (1, 1000), (0, xs.count)] where offset + n <= xs.count {
            let src = Array(xs[offset..<(offset + n)])
            var encoded = [UInt16](repeating: 0, count: n)
            src.withUnsafeBufferPointer { s in encoded.withUnsafeMutableBytes { wire.encode(s.baseAddress!, $0.baseAddress!, n) } }
            let expected: [UInt16] = src.map { wire == .bf16 ? Self.bf16Reference($0) : Float16($0).bitPattern }
            for i in 0..<n where encoded[i] != expected[i] && !(src[i].isNaN) {
                Issue.record("\(wire) encode(\(src[i])) = \(encoded[i]), reference \(expected[i])"); break
            }
            let decodedReference: [Float] = encoded.map {
                wire == .bf16 ? Float(bitPattern: UInt32($0) << 16) : Float(Float16(bitPattern: $0))
            }
            var decoded = [Float](repeating: 7, count: n)
            encoded.withUnsafeBytes { e in decoded.withUnsafeMutableBufferPointer { wire.decode(e.baseAddress!, $0.baseAddress!, n) } }
            var rounded = src
            rounded.withUnsafeMutableBufferPointer { wire.round($0.baseAddress!, n) }
            var accumulated = [Float](repeating: 0.5, count: n)
            encoded.withUnsafeBytes { e in accumulated.withUnsafeMutableBufferPointer { wire.decodeAdd(e.baseAddress!, $0.baseAddress!, n) } }
            for i in 0..<n where !src[i].isNaN {
                #expect(decoded[i].bitPattern == decodedReference[i].bitPattern, "\(wire) decode of \(encoded[i])")
                #expect(rounded[i].bitPattern == decodedReference[i].bitPattern, "\(wire) round(\(src[i]))")
                #expect(accumulated[i].bitPattern == (0.5 + decodedReference[i]).bitPattern, "\(wire) decodeAdd of \(encoded[i])")
            }
            for i in 0..<n where src[i].isNaN { #expect(decoded[i].isNaN && rounded[i].isNaN, "NaN stays NaN") }
        }
    }

    @Test func addAndScaleMatchElementwiseArithmetic() {
        let xs = Self.samples, ys = Array(Self.samples.reversed())
        for (offset, n) in [(0, 0), (0, 1), (1, 15), (2, 31), (3, 1000), (0, xs.count)] where offset + n <= xs.count {
            var dst = Array(xs[offset..<(offset + n)])
            let src = Array(ys[offset..<(offset + n)])
            dst.withUnsafeMutableBufferPointer { d in src.withUnsafeBufferPointer { addInPlace(d.baseAddress!, $0.baseAddress!, n) } }
            var scaled = dst
            scaled.withUnsafeMutableBufferPointer { scaleInPlace($0.baseAddress!, n, 0.25) }
            for i in 0..<n {
                let sum = xs[offset + i] + ys[offset + i]
                #expect(dst[i].bitPattern == sum.bitPattern || (dst[i].isNaN && sum.isNaN), "add at \(i)")
                #expect(scaled[i].bitPattern == (sum * 0.25).bitPattern || (scaled[i].isNaN && sum.isNaN), "scale at \(i)")
            }
        }
    }
}
