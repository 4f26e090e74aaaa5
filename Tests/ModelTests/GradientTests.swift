import Testing
import Support
@testable import Model

/// Finite-difference checks of every layer's backward and of the whole MLP, in the manner of
/// llm.c's tests: central differences in Double around Float parameters, relative tolerance.
@Suite struct GradientTests {
    func randomArray(_ n: Int, _ rng: inout SplitMix64, scale: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(rng.nextGaussian() * scale) }
    }

    func close(_ a: Double, _ b: Double, rel: Double = 2e-2, abs absTol: Double = 2e-3) -> Bool {
        Swift.abs(a - b) <= absTol + rel * Swift.max(Swift.abs(a), Swift.abs(b))
    }

    @Test func linearForwardMatchesNaiveLoops() {
        var rng = SplitMix64(seed: 3)
        let B = 3, I = 5, O = 4
        let x = randomArray(B * I, &rng), w = randomArray(O * I, &rng), b = randomArray(O, &rng)
        var out = [Float](repeating: 0, count: B * O)
        linearForward(&out, x, w, b, rows: B, inputs: I, outputs: O)
        for r in 0..<B {
            for o in 0..<O {
                var s = Double(b[o])
                for i in 0..<I { s += Double(x[r * I + i]) * Double(w[o * I + i]) }
                #expect(abs(Double(out[r * O + o]) - s) < 1e-5)
            }
        }
    }

    /// The GPT's projections onto the residual stream: out = residual + bias + x·Wᵀ, in Double.
    @Test func linearResidualForwardMatchesNaiveLoops() {
        var rng = SplitMix64(seed: 13)
        let B = 5, I = 7, O = 3
        let x = randomArray(B * I, &rng), w = randomArray(O * I, &rng), b = randomArray(O, &rng), res = randomArray(B * O, &rng)
        var out = [Float](repeating: .nan, count: B * O)
        linearResidualForward(&out, residual: res, x, w, b, rows: B, inputs: I, outputs: O)
        for r in 0..<B {
            for o in 0..<O {
                var s = Double(res[r * O + o]) + Double(b[o])
                for i in 0..<I { s += Double(x[r * I + i]) * Double(w[o * I + i]) }
                #expect(abs(Double(out[r * O + o]) - s) < 1e-5, "out[\(r), \(o)] \(out[r * O + o]) vs \(s)")
            }
        }
    }

    /// L = Σ out ⊙ R for a fixed random R, so dL/dout = R; compare the backward's dinp, dweight,
    /// dbias with central differences of L.
    @Test func linearBackwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 4)
        let B = 4, I = 6, O = 3
        var x = randomArray(B * I, &rng), w = randomArray(O * I, &rng), b = randomArray(O, &rng)
        let R = randomArray(B * O, &rng)
        func loss() -> Double {
            var out = [Float](repeating: 0, count: B * O)
            linearForward(&out, x, w, b, rows: B, inputs: I, outputs: O)
            return zip(out, R).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        var dx = [Float](repeating: 0, count: B * I), dw = [Float](repeating: 0, count: O * I), db = [Float](repeating: 0, count: O)
        linearBackward(&dx, &dw, &db, R, x, w, rows: B, inputs: I, outputs: O)
        let h: Float = 1e-2
        /// Central difference of L in the i-th entry of the buffer `which` (0: inp, 1: weight, 2: bias).
        func fd(_ which: Int, _ i: Int) -> Double {
            func set(_ v: Float) { if which == 0 { x[i] = v } else if which == 1 { w[i] = v } else { b[i] = v } }
            let keep = which == 0 ? x[i] : which == 1 ? w[i] : b[i]
            set(keep + h); let up = loss()
            set(keep - h); let down = loss()
            set(keep)
            return (up - down) / Double(2 * h)
        }
        for i in 0..<x.count { #expect(close(fd(0, i), Double(dx[i])), "dinp[\(i)]") }
        for i in 0..<w.count { #expect(close(fd(1, i), Double(dw[i])), "dweight[\(i)]") }
        for i in 0..<b.count { #expect(close(fd(2, i), Double(db[i])), "dbias[\(i)]") }
    }

    @Test func reluBackwardMasksByOutput() {
        var x: [Float] = [-2, -0.5, 0, 0.5, 2]
        reluForward(&x, count: 5)
        #expect(x == [0, 0, 0, 0.5, 2])
        var d: [Float] = [1, 2, 3, 4, 5]
        reluBackward(&d, x, count: 5)
        #expect(d == [0, 0, 0, 4, 5])
    }

    @Test func softmaxCrossEntropyGradientMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 5)
        let B = 3, C = 5
        var logits = randomArray(B * C, &rng, scale: 2)
        let labels: [UInt8] = [0, 4, 2]
        func loss() -> Double {
            var copy = logits
            return Double(softmaxCrossEntropyForward(&copy, labels, batch: B, classes: C))
        }
        var probs = logits
        let l = softmaxCrossEntropyForward(&probs, labels, batch: B, classes: C)
        // Closed form: loss = mean of −log p[label].
        var expected = 0.0
        for b in 0..<B { expected -= log(Double(probs[b * C + Int(labels[b])])) }
        #expect(abs(Double(l) - expected / Double(B)) < 1e-5)
        var d = [Float](repeating: 0, count: B * C)
        softmaxCrossEntropyBackward(&d, probs, labels, batch: B, classes: C)
        let h: Float = 1e-2
        for i in 0..<logits.count {
            let keep = logits[i]
            logits[i] = keep + h; let up = loss()
            logits[i] = keep - h; let down = loss()
            logits[i] = keep
            #expect(close((up - down) / Double(2 * h), Double(d[i]), rel: 1e-2, abs: 5e-4), "dlogits[\(i)]")
        }
    }

    @Test func softmaxIsStableForHugeLogits() {
        var logits: [Float] = [1000, 0, -1000, 999]
        let l = softmaxCrossEntropyForward(&logits, [0], batch: 1, classes: 4)
        #expect(l.isFinite && l > 0 && l < 1)
    }

    /// The whole network: every parameter's gradient against a central difference of the loss.
    @Test(arguments: [UInt64(1), 2, 3])
    func mlpGradientMatchesFiniteDifferences(seed: UInt64) {
        let model = MLP(widths: [7, 6, 5, 4], seed: seed)
        var rng = SplitMix64(seed: seed + 100)
        let B = 5
        let x = randomArray(B * 7, &rng)
        let labels: [UInt8] = (0..<B).map { UInt8($0 % 4) }
        let loss0 = model.forwardBackward(x, labels: labels, batch: B)
        #expect(loss0.isFinite)
        let grads = model.gradients.array
        var doneOrder: [Int] = []
        var reported: [Int] = []
        _ = model.forwardBackward(x, labels: labels, batch: B, gradientsFinal: { reported.append($0) },
                                  layerDone: { doneOrder.append($0) })
        #expect(doneOrder == [2, 1, 0], "backward runs in reverse layer order")
        #expect(reported == model.layers.reversed().map(\.weightOffset), "whole layers: one report per layer")
        /// Which hidden units are active: a difference across a ReLU kink is not a derivative.
        func pattern() -> [Bool] {
            (1..<(model.widths.count - 1)).flatMap { l in
                (0..<(B * model.widths[l])).map { model.acts[l].pointer[$0] > 0 }
            }
        }
        let h: Float = 1e-3
        var checked = 0
        for i in 0..<model.parameterCount {
            let keep = model.parameters.pointer[i]
            model.parameters.pointer[i] = keep + h
            let up = Double(model.forwardBackward(x, labels: labels, batch: B))
            let upPattern = pattern()
            model.parameters.pointer[i] = keep - h
            let down = Double(model.forwardBackward(x, labels: labels, batch: B))
            let downPattern = pattern()
            model.parameters.pointer[i] = keep
            guard upPattern == downPattern else { continue }
            checked += 1
            #expect(close((up - down) / Double(2 * h), Double(grads[i]), rel: 3e-2, abs: 1e-3),
                    "seed \(seed) parameter \(i): finite difference \((up - down) / Double(2 * h)), backward \(grads[i])")
        }
        #expect(checked >= model.parameterCount * 9 / 10, "only \(checked) of \(model.parameterCount) away from ReLU kinks")
    }

    /// Row-blocked backward (sub-layer buckets): the same bits as whole layers, reports in the
    /// order `gradientBoundaries` promises, and at each report everything from there on is final.
    /// Layer 0 has 150 rows: blocks of 48 (4 blocks), 96 (2) and the whole layer.
    @Test(arguments: [4, 20, 100, 48 * 37 * 4 + 1, 1 << 20])
    func rowBlockedBackwardIsTheSameBitsAndReportsFinalPieces(blockBytes: Int) {
        let model = MLP(widths: [37, 150, 100, 5], seed: 7, gradientSlack: 1)
        var rng = SplitMix64(seed: 9)
        let B = 13
        let x = randomArray(B * 37, &rng)
        let labels: [UInt8] = (0..<B).map { UInt8($0 % 5) }
        _ = model.forwardBackward(x, labels: labels, batch: B)
        let whole = model.gradients.array.map(\.bitPattern)
        model.gradientBlockBytes = blockBytes
        let expected = model.gradientBoundaries()
        var reported: [Int] = []
        var snapshots: [[UInt32]] = []
        _ = model.forwardBackward(x, labels: labels, batch: B, gradientsFinal: { k in
            reported.append(k)
            snapshots.append((k..<model.parameterCount).map { model.gradients.pointer[$0].bitPattern })
        })
        let blocked = model.gradients.array.map(\.bitPattern)
        #expect(blocked == whole, "row blocks changed the gradient bits")
        #expect(reported == expected)
        #expect(expected.last == 0 && zip(expected, expected.dropFirst()).allSatisfy { $0 > $1 })
        let q = MLP.rowBlockQuantum
        let rowsPerBlock = min(150, max(1, (blockBytes / (4 * 37) + q - 1) / q) * q)
        let blocks = Array(model.rowBlocks(0))
        #expect(blocks.count == (150 + rowsPerBlock - 1) / rowsPerBlock)
        #expect(blocks.first?.upperBound == 150 && blocks.last?.lowerBound == 0)
        #expect(blocks.dropLast().allSatisfy { $0.lowerBound % q == 0 } && blocks.dropFirst().allSatisfy { $0.count == rowsPerBlock })
        for (k, snapshot) in zip(reported, snapshots) {
            #expect(snapshot == Array(blocked[k..<model.parameterCount]), "gradients from \(k) changed after they were reported final")
        }
    }

    @Test func layoutIsOneFlatBufferWithViewsPerLayer() {
        let model = MLP(widths: [784, 256, 128, 10], seed: 1)
        #expect(model.parameterCount == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)
        #expect(model.layers[1].weightOffset == model.layers[0].end)
        #expect(model.layers[2].end == model.parameterCount)
        #expect(model.gradients.count == model.parameterCount)
        // 2·B·MACs forward, 2·B·MACs weight gradient, and input gradients for layers 1 and 2.
        let macs = 784.0 * 256 + 256 * 128 + 128 * 10
        #expect(model.trainingFLOPs(batch: 2) == 2 * 2 * (3 * macs - 784 * 256))
    }

    @Test func initialisationIsSeededAndHeScaled() {
        let a = MLP(widths: [784, 256, 10], seed: 9), b = MLP(widths: [784, 256, 10], seed: 9)
        let c = MLP(widths: [784, 256, 10], seed: 10)
        #expect(a.parameters.array == b.parameters.array)
        #expect(a.parameters.array != c.parameters.array)
        let w = a.parameters.array[0..<(784 * 256)]
        let variance = w.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(w.count)
        #expect(abs(variance - 2.0 / 784) / (2.0 / 784) < 0.03, "He variance 2/fan_in, got \(variance)")
        #expect(a.parameters.array[a.layers[0].biasOffset..<a.layers[0].end].allSatisfy { $0 == 0 })
    }
}

#if canImport(Glibc)
import Glibc
#endif
