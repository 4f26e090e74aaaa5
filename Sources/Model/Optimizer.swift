import CKernels
import Support
/// Which optimizer updates the parameters.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    case sgd
    case adam
    /// Adam with decoupled weight decay (Loshchilov & Hutter), on the model's decayed parameters only.
    case adamw
}

/// Optimizer hyper-parameters (the learning rate comes from the schedule each step).
public struct OptimizerSettings: Sendable, Equatable, Codable {
    public var kind: OptimizerKind
    public var momentum: Float
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    /// β2 is 0.999 for Adam and 0.95 for AdamW unless given (GPT-2-style training uses 0.95).
    public init(kind: OptimizerKind = .sgd, momentum: Float = 0.9, weightDecay: Float = 0,
                beta1: Float = 0.9, beta2: Float? = nil, epsilon: Float = 1e-8) {
        let beta2 = beta2 ?? (kind == .adamw ? 0.95 : 0.999)
        self.kind = kind; self.momentum = momentum; self.weightDecay = weightDecay
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }
}

/// SGD with momentum (PyTorch semantics: v ← μv + (g + λw); w ← w − η·v), Adam (Kingma & Ba,
/// with bias correction; weight decay added to the gradient, as torch.optim.Adam), or AdamW
/// (w ← w − η·(m̂/(√v̂ + ε) + λw) on the decayed parameters, w ← w − η·m̂/(√v̂ + ε) on the rest, as
/// torch.optim.AdamW with parameter groups).
/// State lives in flat buffers with the parameters' layout. Every rank applies the same update to
/// the same averaged gradient, so replicas stay bit-identical.
public final class Optimizer {
    public let settings: OptimizerSettings
    /// SGD: velocity. Adam: first moment.
    public let firstMoment: FloatBuffer
    /// Adam: second moment (empty for SGD).
    public let secondMoment: FloatBuffer
    public private(set) var steps = 0

    /// AdamW: the parameter ranges weight decay applies to, and those it does not, in order.
    private let segments: [(range: Range<Int>, decayed: Bool)]

    public init(settings: OptimizerSettings, parameterCount: Int, decayed: [Range<Int>]? = nil) {
        self.settings = settings
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: settings.kind == .sgd ? 0 : parameterCount)
        var segments: [(Range<Int>, Bool)] = []
        var at = 0
        for r in (decayed ?? [0..<parameterCount]).sorted(by: { $0.lowerBound < $1.lowerBound }) where !r.isEmpty {
            precondition(r.lowerBound >= at && r.upperBound <= parameterCount, "decayed ranges must not overlap")
            if r.lowerBound > at { segments.append((at..<r.lowerBound, false)) }
            segments.append((r, true))
            at = r.upperBound
        }
        if at < parameterCount { segments.append((at..<parameterCount, false)) }
        self.segments = segments
    }

    /// Restores the step count (checkpoint resume); moments are restored through their buffers.
    public func restore(steps: Int) { self.steps = steps }

    /// The update a training step makes: one pass for the gradient's L2 norm, which serves as the
    /// finiteness guard and for clipping to `maxNorm` (0: no clipping), then the update — not
    /// applied when the norm is not finite (some element is NaN or infinite). Returns the norm.
    @discardableResult
    public func guardedStep(parameters: FloatBuffer, gradients: FloatBuffer, learningRate lr: Float, maxNorm: Double) -> Double {
        let norm = gradientNorm(gradients.pointer, count: parameters.count)
        guard norm.isFinite else { return norm }
        var scale: Float = maxNorm > 0 ? clippingScale(norm: norm, maxNorm: maxNorm) : 1
        if scale != 1 && settings.kind != .adamw {
            clipGradientNorm(gradients.pointer, count: parameters.count, maxNorm: maxNorm, norm: norm)
            scale = 1
        }
        step(parameters: parameters, gradients: gradients, learningRate: lr, gradientScale: scale)
        return norm
    }

    /// One update from `gradients` × `gradientScale` (AdamW folds clipping in this way; the other
    /// kinds need a scale of 1: scale the gradient first).
    public func step(parameters: FloatBuffer, gradients: FloatBuffer, learningRate lr: Float, gradientScale: Float = 1) {
        precondition(gradientScale == 1 || settings.kind == .adamw, "only AdamW scales the gradient as it goes")
        precondition(gradients.count >= parameters.count && parameters.count == firstMoment.count)
        steps += 1
        let w = parameters.pointer, g = gradients.pointer, m = firstMoment.pointer
        let n = parameters.count, wd = settings.weightDecay
        switch settings.kind {
        case .sgd:
            rw_sgd_momentum(w, g, m, n, lr, settings.momentum, wd)
        case .adam:
            let v = secondMoment.pointer
            let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon
            let c1 = 1 - powf(b1, Float(steps)), c2 = 1 - powf(b2, Float(steps))
            rw_adam(w, g, m, v, n, lr / c1, b1, b2, 1 / c2.squareRoot(), eps, wd)
        case .adamw:
            let v = secondMoment.pointer
            let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon
            let c1 = 1 - powf(b1, Float(steps)), c2 = 1 - powf(b2, Float(steps))
            for (range, decayed) in segments {
                let at = range.lowerBound
                rw_adamw(w + at, g + at, m + at, v + at, range.count, lr, b1, b2, c1, c2, eps, decayed ? wd : 0, gradientScale)
            }
        }
    }
}

/// The L2 norm of g[0..<n], summed in Double in a fixed order (so every rank computes the same norm
/// from the same bits); not finite exactly when some element is not.
public func gradientNorm(_ g: UnsafePointer<Float>, count n: Int) -> Double {
    rw_sum_squares_f64(g, n).squareRoot()
}

/// The factor that brings a gradient of L2 norm `norm` to at most `maxNorm` (1 when it is within).
public func clippingScale(norm: Double, maxNorm: Double) -> Float {
    norm > maxNorm ? Float(maxNorm / norm) : 1
}

/// Scales gradient g[0..<n] so its L2 norm is at most `maxNorm`; returns the norm before.
@discardableResult
public func clipGradientNorm(_ g: UnsafeMutablePointer<Float>, count n: Int, maxNorm: Double, norm: Double? = nil) -> Double {
    let norm = norm ?? gradientNorm(g, count: n)
    let scale = clippingScale(norm: norm, maxNorm: maxNorm)
    if scale != 1 {
        for i in 0..<n { g[i] *= scale }
    }
    return norm
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
