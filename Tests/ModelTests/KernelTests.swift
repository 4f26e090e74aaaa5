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

        // Adam with L2 decay, as Optimizer's scalar loop had it.
        var aw = w0, am = m0, av = g.map { $0 * $0 }
        let (b1, b2, eps, wd): (Float, Float, Float, Float) = (0.9, 0.999, 1e-8, 5e-4)
        let c1 = 1 - powf(b1, 3), c2 = 1 - powf(b2, 3), stepSize = Float(1e-3) / c1, invSqrtC2 = 1 / c2.squareRoot()
        rw_adam(&aw, g, &am, &av, n, stepSize, b1, b2, invSqrtC2, eps, wd)
        for i in 0..<n {
            let grad = g[i] + wd * w0[i]
            let mi = b1 * m0[i] + (1 - b1) * grad, vi = b2 * (g[i] * g[i]) + (1 - b2) * grad * grad
            let wi = w0[i] - stepSize * mi / (vi.squareRoot() * invSqrtC2 + eps)
            #expect(am[i].bitPattern == mi.bitPattern && av[i].bitPattern == vi.bitPattern && aw[i].bitPattern == wi.bitPattern, "adam[\(i)]")
        }
    }

    /// Softmax cross-entropy over (B, C) logits, as the MLP's scalar loops had it; C = n covers the
    /// vector loops' tails, a NaN row stays NaN, and labels anywhere in the row.
    @Test(arguments: [1, 10, 17, 100])
    func softmaxCrossEntropyIsTheScalarDefinitionBitForBit(classes C: Int) {
        let B = 5
        var logits = Self.random(B * C, seed: 7, scale: 30)
        if C > 1 { logits[3 * C + 1] = .nan }
        let labels = (0..<B).map { UInt8(($0 * 7) % C) }
        var reference = logits, loss = 0.0
        for b in 0..<B {
            let row = b * C
            var maxLogit = reference[row]
            for c in 1..<C where reference[row + c] > maxLogit { maxLogit = reference[row + c] }
            var sum: Float = 0
            for c in 0..<C { let e = expf(reference[row + c] - maxLogit); reference[row + c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<C { reference[row + c] *= inv }
            loss -= Double(logf(max(reference[row + Int(labels[b])], Float.leastNormalMagnitude)))
        }
        var probs = logits
        let kernelLoss = rw_softmax_xent_forward(&probs, labels, B, C)
        #expect(kernelLoss.bitPattern == loss.bitPattern || (kernelLoss.isNaN && loss.isNaN))
        #expect(zip(probs, reference).allSatisfy { $0.bitPattern == $1.bitPattern })
        let scale = 1 / Float(B)
        var dlogits = [Float](repeating: 0, count: B * C)
        rw_softmax_xent_backward(&dlogits, probs, labels, B, C, scale)
        var expected = reference.map { $0 * scale }
        for b in 0..<B { expected[b * C + Int(labels[b])] -= scale }
        #expect(zip(dlogits, expected).allSatisfy { $0.bitPattern == $1.bitPattern })
        // The language model's form: int32 targets, in place.
        let targets = labels.map { Int32($0) }
        var rows = reference
        rw_xent_backward_rows(&rows, targets, B, C, scale)
        var rowsExpected = reference
        for b in 0..<B { rowsExpected[b * C + Int(targets[b])] -= 1 }
        #expect(zip(rows, rowsExpected.map { $0 * scale }).allSatisfy { $0.bitPattern == $1.bitPattern })
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
        // The row's maximum in every position (the lane loop and its tail): the top entry's
        // probability is then 1 / Σ exp(x − max) and no exponent overflows.
        for top in 0..<min(n, 40) {
            var peaked = Self.random(n, seed: 9, scale: 1)
            peaked[top] = 30
            rw_softmax_row(&peaked, n, n)
            #expect(peaked[top] > 0.999_999 && peaked.allSatisfy(\.isFinite), "softmax peaked at \(top) of \(n)")
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
