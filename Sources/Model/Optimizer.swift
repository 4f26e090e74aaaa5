import Support
/// Which optimizer updates the parameters.
public enum OptimizerKind: String, CaseIterable, Sendable, Codable {
    case sgd
    case adam
}

/// Optimizer hyper-parameters (the learning rate comes from the schedule each step).
public struct OptimizerSettings: Sendable, Equatable, Codable {
    public var kind: OptimizerKind
    public var momentum: Float
    public var weightDecay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    public init(kind: OptimizerKind = .sgd, momentum: Float = 0.9, weightDecay: Float = 0,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.kind = kind; self.momentum = momentum; self.weightDecay = weightDecay
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }
}

/// SGD with momentum (PyTorch semantics: v ← μv + (g + λw); w ← w − η·v) or Adam
/// (Kingma & Ba, with bias correction; weight decay added to the gradient, as torch.optim.Adam).
/// State lives in flat buffers with the parameters' layout. Every rank applies the same update to
/// the same averaged gradient, so replicas stay bit-identical.
public final class Optimizer {
    public let settings: OptimizerSettings
    /// SGD: velocity. Adam: first moment.
    public let firstMoment: FloatBuffer
    /// Adam: second moment (empty for SGD).
    public let secondMoment: FloatBuffer
    public private(set) var steps = 0

    public init(settings: OptimizerSettings, parameterCount: Int) {
        self.settings = settings
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: settings.kind == .adam ? parameterCount : 0)
    }

    /// Restores the step count (checkpoint resume); moments are restored through their buffers.
    public func restore(steps: Int) { self.steps = steps }

    public func step(parameters: FloatBuffer, gradients: FloatBuffer, learningRate lr: Float) {
        precondition(gradients.count >= parameters.count && parameters.count == firstMoment.count)
        steps += 1
        let w = parameters.pointer, g = gradients.pointer, m = firstMoment.pointer
        let n = parameters.count, wd = settings.weightDecay
        switch settings.kind {
        case .sgd:
            let mu = settings.momentum
            for i in 0..<n {
                let grad = g[i] + wd * w[i]
                let v = mu * m[i] + grad
                m[i] = v
                w[i] -= lr * v
            }
        case .adam:
            let v = secondMoment.pointer
            let b1 = settings.beta1, b2 = settings.beta2, eps = settings.epsilon
            let c1 = 1 - powf(b1, Float(steps)), c2 = 1 - powf(b2, Float(steps))
            let stepSize = lr / c1, invSqrtC2 = 1 / c2.squareRoot()
            for i in 0..<n {
                let grad = g[i] + wd * w[i]
                m[i] = b1 * m[i] + (1 - b1) * grad
                v[i] = b2 * v[i] + (1 - b2) * grad * grad
                w[i] -= stepSize * m[i] / (v[i].squareRoot() * invSqrtC2 + eps)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
