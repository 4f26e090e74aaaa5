import Foundation
import Testing
import Support
@testable import Model

@Suite struct OptimizerTests {
    @Test func sgdWithMomentumAndWeightDecayFollowsTheClosedForm() {
        let w = FloatBuffer(count: 2), g = FloatBuffer(count: 2)
        w.copy(from: [1, -2]); g.copy(from: [0.5, 0.25])
        let opt = Optimizer(settings: OptimizerSettings(kind: .sgd, momentum: 0.9, weightDecay: 0.1), parameterCount: 2)
        opt.step(parameters: w, gradients: g, learningRate: 0.1)
        // v1 = g + λw; w1 = w − η v1
        let v1: [Float] = [0.5 + 0.1 * 1, 0.25 + 0.1 * -2]
        #expect(w.array == [1 - 0.1 * v1[0], -2 - 0.1 * v1[1]])
        let w1 = w.array
        opt.step(parameters: w, gradients: g, learningRate: 0.1)
        let v2: [Float] = (0..<2).map { 0.9 * v1[$0] + (g.array[$0] + 0.1 * w1[$0]) }
        #expect(w.array == (0..<2).map { w1[$0] - 0.1 * v2[$0] })
    }

    @Test func adamFirstStepMovesByTheLearningRate() {
        // With bias correction, m̂ = g and v̂ = g² on step 1, so each weight moves by ≈ lr·sign(g).
        let w = FloatBuffer(count: 3), g = FloatBuffer(count: 3)
        w.copy(from: [0, 0, 0]); g.copy(from: [3, -0.01, 100])
        let opt = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: 3)
        opt.step(parameters: w, gradients: g, learningRate: 0.01)
        for (got, want) in zip(w.array, [Float(-0.01), 0.01, -0.01]) { #expect(abs(got - want) < 1e-5) }
        #expect(opt.steps == 1)
    }

    /// AdamW: decoupled decay on the decayed range only; β2 0.95; two steps against the closed form.
    @Test func adamwDecaysOnlyTheDecayedParameters() {
        let w = FloatBuffer(count: 4), g = FloatBuffer(count: 4)
        w.copy(from: [1, -2, 3, 0.5]); g.copy(from: [0.5, -0.25, 2, 1])
        let opt = Optimizer(settings: OptimizerSettings(kind: .adamw, weightDecay: 0.1), parameterCount: 4, decayed: [1..<3])
        #expect(opt.settings.beta2 == 0.95)
        var m = [Float](repeating: 0, count: 4), v = m, expected = w.array
        for step in 1...2 {
            let c1 = 1 - powf(0.9, Float(step)), c2 = 1 - powf(0.95, Float(step))
            for i in 0..<4 {
                m[i] = 0.9 * m[i] + 0.1 * g.array[i]
                v[i] = 0.95 * v[i] + 0.05 * g.array[i] * g.array[i]
                let decay: Float = (1..<3).contains(i) ? 0.1 : 0
                expected[i] -= 0.01 * (m[i] / c1 / ((v[i] / c2).squareRoot() + 1e-8) + decay * expected[i])
            }
            opt.step(parameters: w, gradients: g, learningRate: 0.01)
            #expect(w.array == expected, "step \(step)")
        }
        // Clipping folded in: a scale of ½ on g is the update of g/2.
        let w2 = FloatBuffer(count: 4), half = FloatBuffer(count: 4)
        w2.copy(from: [1, -2, 3, 0.5]); half.copy(from: g.array.map { $0 * 0.5 })
        let scaled = Optimizer(settings: OptimizerSettings(kind: .adamw, weightDecay: 0.1), parameterCount: 4, decayed: [1..<3])
        let plain = Optimizer(settings: OptimizerSettings(kind: .adamw, weightDecay: 0.1), parameterCount: 4, decayed: [1..<3])
        let w3 = FloatBuffer(count: 4)
        w3.copy(from: w2.array)
        for _ in 0..<3 {
            scaled.step(parameters: w2, gradients: g, learningRate: 0.01, gradientScale: 0.5)
            plain.step(parameters: w3, gradients: half, learningRate: 0.01)
            #expect(w2.array == w3.array)
        }
    }

    @Test func clippingScalesToTheMaximumNorm() {
        var g: [Float] = [3, 4, 0]
        #expect(clipGradientNorm(&g, count: 3, maxNorm: 1) == 5)
        #expect(g == [0.6, 0.8, 0])
        var small: [Float] = [0.3, 0.4]
        #expect(abs(clipGradientNorm(&small, count: 2, maxNorm: 1) - 0.5) < 1e-7 && small == [0.3, 0.4], "below the maximum: untouched")
    }

    /// The trainer's step: a gradient with a NaN or an infinity leaves weights and moments as they
    /// were (and the step count); a finite one is clipped to the maximum norm (SGD: the gradient is
    /// scaled first) and applied; the norm before clipping is returned either way.
    @Test func guardedStepSkipsNonFiniteGradientsAndClipsFiniteOnes() {
        for bad: Float in [.nan, .infinity, -.infinity] {
            for kind in OptimizerKind.allCases {
                let w = FloatBuffer(count: 3), g = FloatBuffer(count: 3)
                w.copy(from: [1, 2, 3]); g.copy(from: [0.5, bad, 0.25])
                let opt = Optimizer(settings: OptimizerSettings(kind: kind), parameterCount: 3)
                opt.firstMoment.copy(from: [0.1, 0.2, 0.3])
                let norm = opt.guardedStep(parameters: w, gradients: g, learningRate: 0.1, maxNorm: 1)
                #expect(!norm.isFinite && w.array == [1, 2, 3] && opt.firstMoment.array == [0.1, 0.2, 0.3] && opt.steps == 0,
                        "\(kind) with \(bad)")
            }
        }
        let w = FloatBuffer(count: 2), g = FloatBuffer(count: 2)
        w.copy(from: [1, -1]); g.copy(from: [3, 4])
        let opt = Optimizer(settings: OptimizerSettings(kind: .sgd, momentum: 0), parameterCount: 2)
        #expect(opt.guardedStep(parameters: w, gradients: g, learningRate: 1, maxNorm: 1) == 5)
        #expect(g.array == [0.6, 0.8] && w.array == [1 - 0.6, -1 - 0.8] && opt.steps == 1)
        g.copy(from: [3, 4])
        #expect(opt.guardedStep(parameters: w, gradients: g, learningRate: 1, maxNorm: 0) == 5, "0: no clipping")
        #expect(g.array == [3, 4] && w.array == [1 - 0.6 - 3, -1 - 0.8 - 4])
    }

    @Test func cosineScheduleWarmsUpThenDecaysToZero() {
        let s = LearningRateSchedule(kind: .cosine, baseRate: 1, warmupSteps: 10, totalSteps: 110)
        #expect(s.rate(at: 0) == 0.1)
        #expect(s.rate(at: 9) == 1)
        #expect(s.rate(at: 10) == 1)
        #expect(abs(s.rate(at: 60) - 0.5) < 1e-6)
        #expect(s.rate(at: 110) == 0)
        let c = LearningRateSchedule(kind: .constant, baseRate: 0.5, warmupSteps: 0, totalSteps: 5)
        #expect((0..<20).allSatisfy { c.rate(at: $0) == 0.5 })
    }
}
