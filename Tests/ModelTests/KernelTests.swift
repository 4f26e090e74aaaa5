import CKernels
import Foundation
import Testing
import Support

/// The C kernels against their scalar definitions: the MLP's exactly (the same IEEE operations, so
/// the same bits), the GPT's within stated tolerances of Double references. Odd lengths exercise
/// the vector loops' tails.
@Suite struct KernelTests {
    static func random(_ n: Int, seed: UInt64, scale: Double = 2) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Float((rng.nextUniform() * 2 - 1) * scale) }
    }

    @Test(arguments: [1, 15, 16, 17, 1001])
    func mlpKernelsAreTheScalarDefinitionsBitForBit(n: Int) {
        let g = Self.random(n, seed: 1), w0 = Self.random(n, seed: 2), m0 = Self.random(n, seed: 3)
        var w = w0, m = m0
        rw_sgd_momentum(&w, g, &m, n, 0.1, 0.9, 5e-4)
        for i in 0..<n {
            let grad = g[i] + Float(5e-4) * w0[i], v = Float(0.9) * m0[i] + grad
            #expect(m[i].bitPattern == v.bitPattern && w[i].bitPattern == (w0[i] - Float(0.1) * v).bitPattern, "sgd[\(i)]")
        }
        var x = g
        rw_relu(&x, n)
        #expect(x == g.map { $0 > 0 ? $0 : 0 })
        var dx = w0
        rw_relu_backward(&dx, g, n)
        #expect(dx == zip(w0, g).map { $1 > 0 ? $0 : 0 })
        let rows = 7, dout = Self.random(rows * n, seed: 4)
        var db = [Float](repeating: 0.5, count: n)
        rw_bias_backward(&db, dout, rows, n)
        for c in 0..<n {
            var s: Float = 0.5
            for r in 0..<rows { s += dout[r * n + c] }
            #expect(db[c].bitPattern == s.bitPattern, "bias[\(c)]")
        }
        let table = (0..<256).map { Float($0) / 255 - 0.5 }, bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        var floats = [Float](repeating: 0, count: n)
        rw_bytes_to_floats(&floats, bytes, n, table)
        #expect(floats == bytes.map { table[Int($0)] })
    }

    @Test(arguments: [1, 17, 128, 1000])
    func gptKernelsMatchDoubleReferences(n: Int) {
        var row = Self.random(n, seed: 5, scale: 20)
        let x = row.map(Double.init), visible = max(1, n - n / 3)
        rw_softmax_row(&row, visible, n)
        let top = x[0..<visible].max()!, z = x[0..<visible].map { exp($0 - top) }.reduce(0, +)
        for i in 0..<n {
            let want = i < visible ? exp(x[i] - top) / z : 0
            #expect(abs(Double(row[i]) - want) <= 4e-7 * max(want, 1e-30) + 1e-12, "softmax[\(i)] \(row[i]) vs \(want)")
        }
        let inp = Self.random(n, seed: 6, scale: 6)
        var out = [Float](repeating: 0, count: n)
        rw_gelu_forward(&out, inp, n)
        for i in 0..<n {
            let v = Double(inp[i]), want = 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            #expect(abs(Double(out[i]) - want) <= 1e-6 * max(1, abs(want)), "gelu(\(v)) = \(out[i]), want \(want)")
        }
        let sum = rw_sum_squares_f64(inp, n), want = inp.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(sum - want) <= 1e-12 * want)
        #expect(rw_sum_squares_f64([1, .nan, 2], 3).isNaN && rw_sum_squares_f64([Float.greatestFiniteMagnitude], 1).isFinite)
    }
}
