import Foundation
import Support

/// What a training step tells its caller as it goes, so communication can start early and a
/// timeline can show the layers. All optional; none may allocate in the step.
public struct StepEvents {
    /// Forward (and the loss) is done.
    public var forwardDone: (() -> Void)?
    /// Every gradient at index ≥ k (and the caller's slack after the gradients) is final.
    public var gradientsFinal: ((Int) -> Void)?
    /// Backward of layer (or block) `l` is done; they come in reverse forward order.
    public var layerDone: ((Int) -> Void)?

    public init(forwardDone: (() -> Void)? = nil, gradientsFinal: ((Int) -> Void)? = nil, layerDone: ((Int) -> Void)? = nil) {
        self.forwardDone = forwardDone
        self.gradientsFinal = gradientsFinal
        self.layerDone = layerDone
    }
}

/// One evaluation figure: its name in run files ("accuracy", "loss", "bits_per_byte") and value.
public struct Metric: Sendable, Equatable, Codable {
    public var name: String
    public var value: Double
    public init(name: String, value: Double) { self.name = name; self.value = value }
}

/// A model the trainer can drive data-parallel, whatever it computes.
///
/// It owns one flat parameter buffer and one flat gradient buffer with the same layout, so the
/// gradient all-reduce is one call over one buffer (or a few over contiguous buckets). The gradient
/// buffer holds `gradientSlack` more floats after the gradients, which the model never touches:
/// the trainer's control slot travels there through every all-reduce.
public protocol TrainableModel: AnyObject {
    /// What one step consumes (filled by a `BatchSource` with the same `Batch`).
    associatedtype Batch

    /// "MLP 784-256-128-10 (235146 parameters)": for logs.
    var summary: String { get }
    var parameters: FloatBuffer { get }
    var gradients: FloatBuffer { get }
    var parameterCount: Int { get }
    /// The parameter ranges named in reports ("layer 1"), in buffer order, covering the parameters.
    var parameterGroups: [Range<Int>] { get }

    /// Target bytes of the sub-layer blocks in which backward finishes large gradients (0: whole
    /// layers). Must not change the gradient's bits.
    var gradientBlockBytes: Int { get set }
    /// The offsets backward passes to `gradientsFinal`, in order: descending, ending with 0.
    func gradientBoundaries() -> [Int]

    /// Zeroes the gradients, runs forward and backward on `batch`, and returns the batch-mean loss.
    func forwardBackward(_ batch: Batch, events: StepEvents) -> Float

    /// Sums over one evaluation batch (added over batches and ranks, then `metrics(fromSums:)`):
    /// always `evaluationSumCount` of them.
    func evaluationSums(_ batch: Batch) -> [Double]
    var evaluationSumCount: Int { get }
    /// The named figures from the sums of every rank's evaluation batches; the first is the one
    /// progress lines show.
    func metrics(fromSums sums: [Double]) -> [Metric]

    /// Floating-point operations of one training step on `samples` samples.
    func trainingFLOPs(samples: Int) -> Double

    /// The parameters weight decay applies to (all of them unless a model says otherwise).
    var decayedParameterRanges: [Range<Int>] { get }
}

extension TrainableModel {
    public var decayedParameterRanges: [Range<Int>] { [0..<parameterCount] }
}

extension TrainableModel {
    /// FNV-1a over the bits of `range` of the parameters (all of them by default): equal
    /// checksums mean bit-identical weights.
    public func parameterChecksum(_ range: Range<Int>? = nil) -> UInt64 {
        let w = parameters.pointer  // once: through the protocol, `parameters` is a call per element
        var h = FNV1a()
        for i in range ?? 0..<parameterCount { h.mix(UInt64(w[i].bitPattern)) }
        return h.value
    }
}

/// One evaluation of the model: after how many training steps, and its metrics.
public struct Evaluation: Sendable, Equatable, Codable {
    public var step: Int
    public var metrics: [Metric]
    public init(step: Int, metrics: [Metric]) { self.step = step; self.metrics = metrics }

    public func value(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }
}

extension Metric {
    /// How progress lines and tables show the figure: "test accuracy 86.23 %", "val loss 2.0712".
    public var display: String {
        switch name {
        case "accuracy": String(format: "test accuracy %.2f %%", 100 * value)
        case "loss": String(format: "val loss %.4f", value)
        case "bits_per_byte": String(format: "%.3f bits/byte", value)
        default: String(format: "%@ %.4g", name, value)
        }
    }
}
