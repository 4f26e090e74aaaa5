import Foundation
import Support

/// The size of a GPT: L blocks of C channels and H heads over a context of T bytes.
public struct GPTShape: Sendable, Equatable, Codable {
    public var layers: Int
    public var channels: Int
    public var heads: Int
    public var context: Int
    /// Bytes.
    public static let vocabulary = 256

    public init(layers: Int, channels: Int, heads: Int, context: Int) {
        self.layers = layers; self.channels = channels; self.heads = heads; self.context = context
    }

    /// L 4, C 256, H 4, T 128: 3.26 M parameters, a 13 MB gradient.
    public static let standard = GPTShape(layers: 4, channels: 256, heads: 4, context: 128)
    /// L 6, C 384, H 6, T 256: 10.84 M parameters, a 43 MB gradient — where communication matters.
    public static let small = GPTShape(layers: 6, channels: 384, heads: 6, context: 256)
    /// For tests: 34 k parameters.
    public static let tiny = GPTShape(layers: 2, channels: 32, heads: 4, context: 16)

    /// Floats of one block: two LayerNorms, qkv (3C,C)+(3C), projection (C,C)+(C), MLP (4C,C)+(4C), (C,4C)+(C).
    public var blockParameters: Int { 12 * channels * channels + 13 * channels }
    public var parameterCount: Int {
        (Self.vocabulary + context) * channels + layers * blockParameters + 2 * channels
    }
}

/// Where one block's tensors sit in the flat buffers (offsets from the buffer's start).
struct BlockLayout {
    let ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, end: Int

    init(start: Int, C: Int) {
        ln1w = start; ln1b = ln1w + C; qkvw = ln1b + C; qkvb = qkvw + 3 * C * C; attprojw = qkvb + 3 * C
        attprojb = attprojw + C * C; ln2w = attprojb + C; ln2b = ln2w + C; fcw = ln2b + C; fcb = fcw + 4 * C * C
        fcprojw = fcb + 4 * C; fcprojb = fcprojw + 4 * C * C; end = fcprojb + C
    }
    var start: Int { ln1w }
}

/// A byte-level GPT-2-style decoder: token and position embeddings; L pre-LayerNorm blocks
/// [LN → causal multi-head attention (fused qkv C→3C, projection C→C) → residual; LN → MLP
/// (C→4C, GELU tanh, 4C→C) → residual]; a final LN; the output head tied to the token embedding.
///
/// All parameters live in one flat buffer: wte (V,C), wpe (T,C), block 0 … block L−1 (each
/// contiguous), final LN. Gradients share the layout, so buckets go from the last block down while
/// backward continues; wte's gradient (the tied head at backward's start, the embedding at its
/// end) is final last, with wpe.
public final class GPT: TrainableModel {
    public let shape: GPTShape
    public let parameters: FloatBuffer
    public let gradients: FloatBuffer
    public let gradientSlack: Int
    public var parameterCount: Int { parameters.count }
    let blocks: [BlockLayout]
    let wpe: Int, lnfw: Int, lnfb: Int
    public var gradientBlockBytes = 0  // blocks are the unit; nothing finer
    var acts: GPTActivations?

    public init(shape: GPTShape, seed: UInt64, gradientSlack: Int = 0) {
        precondition(shape.layers > 0 && shape.heads > 0 && shape.context > 0 && shape.channels % shape.heads == 0,
                     "GPT shape must be positive with channels divisible by heads")
        self.shape = shape
        self.gradientSlack = gradientSlack
        let C = shape.channels
        wpe = GPTShape.vocabulary * C
        var start = wpe + shape.context * C
        blocks = (0..<shape.layers).map { _ in
            let b = BlockLayout(start: start, C: C)
            start = b.end
            return b
        }
        lnfw = start
        lnfb = lnfw + C
        precondition(lnfb + C == shape.parameterCount)
        parameters = FloatBuffer(count: shape.parameterCount)
        gradients = FloatBuffer(count: shape.parameterCount + gradientSlack)
        initialize(seed: seed)
    }

    /// GPT-2's initialisation: weights N(0, 0.02), the two residual projections N(0, 0.02/√(2L)),
    /// LayerNorm weights 1, every bias 0. Depends only on the seed.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed ^ 0x6E7_0F_B17E)
        let p = parameters.pointer, C = shape.channels
        parameters.zero()
        func normal(_ offset: Int, _ count: Int, _ std: Double) {
            for i in 0..<count { p[offset + i] = Float(rng.nextGaussian() * std) }
        }
        let residualStd = 0.02 / Double(2 * shape.layers).squareRoot()
        normal(0, GPTShape.vocabulary * C, 0.02)
        normal(wpe, shape.context * C, 0.02)
        for b in blocks {
            (p + b.ln1w).update(repeating: 1, count: C)
            (p + b.ln2w).update(repeating: 1, count: C)
            normal(b.qkvw, 3 * C * C, 0.02)
            normal(b.attprojw, C * C, residualStd)
            normal(b.fcw, 4 * C * C, 0.02)
            normal(b.fcprojw, 4 * C * C, residualStd)
        }
        (p + lnfw).update(repeating: 1, count: C)
    }

    // MARK: TrainableModel

    public var summary: String {
        "GPT L\(shape.layers) C\(shape.channels) H\(shape.heads) T\(shape.context) (\(parameterCount) parameters)"
    }

    /// Embeddings, each block, the final LayerNorm.
    public var parameterGroups: [Range<Int>] {
        [0..<blocks[0].start] + blocks.map { $0.start..<$0.end } + [lnfw..<parameterCount]
    }

    /// The matrices: embeddings and the four weights of every block (decayed by AdamW; biases and
    /// LayerNorms are not).
    public var decayedParameterRanges: [Range<Int>] {
        let CC = shape.channels * shape.channels
        var ranges: [Range<Int>] = [0..<blocks[0].start]
        for b in blocks {
            ranges.append(b.qkvw..<(b.qkvw + 3 * CC))
            ranges.append(b.attprojw..<(b.attprojw + CC))
            ranges.append(b.fcw..<(b.fcw + 4 * CC))
            ranges.append(b.fcprojw..<(b.fcprojw + 4 * CC))
        }
        return ranges
    }

    public func gradientBoundaries() -> [Int] { [lnfw] + blocks.reversed().map(\.start) + [0] }

    public func forwardBackward(_ batch: TokenBatch, events: StepEvents) -> Float {
        let loss = forward(batch)
        events.forwardDone?()
        backward(batch, events: events)
        return Float(loss / Double(batch.count * shape.context))
    }

    public var evaluationSumCount: Int { 2 }

    /// [Σ loss over the batch's tokens, tokens].
    public func evaluationSums(_ batch: TokenBatch) -> [Double] {
        [forward(batch), Double(batch.count * shape.context)]
    }

    public func metrics(fromSums sums: [Double]) -> [Metric] {
        let loss = sums[1] > 0 ? sums[0] / sums[1] : .nan
        return [Metric(name: "loss", value: loss), Metric(name: "bits_per_byte", value: loss / log(2))]
    }

    /// 6 × parameters × tokens for the matrix products and their gradients, plus attention's
    /// QKᵀ and AV, forward and backward, over the full T×T (the mask is applied after).
    public func trainingFLOPs(samples tokens: Int) -> Double {
        Double(tokens) * (6 * Double(parameterCount) + 12 * Double(shape.layers * shape.context * shape.channels))
    }
}
