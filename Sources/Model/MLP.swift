import Support

/// Where one dense layer's weight (outputs × inputs) and bias (outputs) sit in the flat buffers.
public struct DenseLayout: Sendable, Equatable {
    public let inputs: Int
    public let outputs: Int
    public let weightOffset: Int
    public var biasOffset: Int { weightOffset + inputs * outputs }
    public var end: Int { biasOffset + outputs }
    public var range: Range<Int> { weightOffset..<end }
    /// Where row `row` of the (outputs × inputs) weight starts in the flat buffers.
    public func offset(ofRow row: Int) -> Int { weightOffset + row * inputs }
    /// Multiply-adds of forward for one sample.
    public var macs: Int { inputs * outputs }
}

/// A multi-layer perceptron: dense → ReLU → … → dense → softmax cross-entropy; the classifier
/// workload (`TrainableModel` with `ClassificationBatch`es, evaluated by accuracy).
///
/// All parameters live in one flat buffer and all gradients in another with the same layout
/// (layer 0's weight, layer 0's bias, layer 1's weight, …), so the gradient all-reduce is one
/// call over one buffer, or a few calls over contiguous buckets.
public final class MLP: TrainableModel {
    public let widths: [Int]
    public let layers: [DenseLayout]
    public let parameters: FloatBuffer
    public let gradients: FloatBuffer
    public var parameterCount: Int { parameters.count }
    public var classes: Int { widths.last! }

    /// Activations for a batch: acts[0] is a copy of nothing (the input is borrowed);
    /// acts[l+1] is layer l's output (B, widths[l+1]) after ReLU, or the probabilities for the last.
    private(set) var acts: [FloatBuffer] = []
    private var dscratch: [FloatBuffer] = []
    private var batchCapacity = 0

    /// Floats after the gradients that belong to the caller (the trainer's control slot travels
    /// there through the all-reduce). Never read or written here.
    public let gradientSlack: Int

    /// widths: [inputs, hidden…, classes], at least two entries, all positive.
    public init(widths: [Int], seed: UInt64, gradientSlack: Int = 0) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 }, "MLP widths must be ≥ 2 positive numbers")
        self.widths = widths
        var offset = 0
        var layers: [DenseLayout] = []
        for l in 0..<(widths.count - 1) {
            let layer = DenseLayout(inputs: widths[l], outputs: widths[l + 1], weightOffset: offset)
            layers.append(layer)
            offset = layer.end
        }
        self.layers = layers
        self.gradientSlack = gradientSlack
        parameters = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset + gradientSlack)
        initialize(seed: seed)
    }

    /// He initialisation (N(0, 2/fan_in)) for layers followed by ReLU, LeCun (N(0, 1/fan_in)) for
    /// the output layer; biases zero. Depends only on the seed.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_1A7E)
        parameters.zero()
        for (l, layer) in layers.enumerated() {
            let gain = l == layers.count - 1 ? 1.0 : 2.0
            let std = (gain / Double(layer.inputs)).squareRoot()
            for i in 0..<(layer.inputs * layer.outputs) {
                parameters.pointer[layer.weightOffset + i] = Float(rng.nextGaussian() * std)
            }
        }
    }

    private func reserve(batch: Int) {
        guard batch > batchCapacity else { return }
        batchCapacity = batch
        acts = widths.map { FloatBuffer(count: batch * $0) }
        let widest = widths.max()!
        dscratch = [FloatBuffer(count: batch * widest), FloatBuffer(count: batch * widest)]
    }

    /// Forward pass; returns a pointer to the probabilities (B, classes), valid until the next call.
    @discardableResult
    public func forward(_ input: UnsafePointer<Float>, batch B: Int) -> UnsafeMutablePointer<Float> {
        reserve(batch: B)
        var x = input
        for (l, layer) in layers.enumerated() {
            let out = acts[l + 1].pointer
            let w = parameters.pointer + layer.weightOffset
            let b = parameters.pointer + layer.biasOffset
            linearForward(out, x, w, b, rows: B, inputs: layer.inputs, outputs: layer.outputs)
            if l < layers.count - 1 { reluForward(out, count: B * layer.outputs) }
            x = UnsafePointer(out)
        }
        return acts[layers.count].pointer
    }

    /// Target size of the row blocks in which backward computes each weight gradient (0: whole
    /// layers). With blocks, the all-reduce of a layer's last rows can start while its first rows
    /// are still computing — the first layer holds most of the parameters and would otherwise
    /// be one bucket that can only start when backward is over. Blocks change no bits.
    public var gradientBlockBytes = 0

    /// Row blocks hold a multiple of this many rows and start at multiples of it from row 0.
    /// `cblas_sgemm` tiles its output; a block edge that cuts a tile moves that tile into another
    /// kernel path whose sums round differently (OpenBLAS 0.3.21's Haswell kernel changes bits for
    /// any block edge that is not a multiple of 12 rows). Edges at multiples of 48 (a multiple of
    /// the 4-, 8-, 12- and 16-wide tiles of the x86-64 kernels) leave every tile whole, so blocks
    /// give the bits of the whole-layer product (tested on the BLAS the tests run with).
    public static let rowBlockQuantum = 48

    /// Layer `l`'s weight-gradient row blocks in the order backward computes them (last rows
    /// first); lazy, so the training step allocates nothing for them. Each block holds about
    /// `gradientBlockBytes`, rounded up to a multiple of `rowBlockQuantum` rows; the top block
    /// holds what is left over.
    public func rowBlocks(_ l: Int) -> RowBlocks {
        let layer = layers[l]
        let q = Self.rowBlockQuantum
        let rows = gradientBlockBytes > 0 ? max(1, (gradientBlockBytes / (4 * layer.inputs) + q - 1) / q) * q : layer.outputs
        return RowBlocks(outputs: layer.outputs, rows: rows)
    }

    /// The offsets backward reports to `gradientsFinal`, in order (descending, ending with 0):
    /// after it reports k, every gradient at index ≥ k (the slack included) is final.
    public func gradientBoundaries() -> [Int] {
        stride(from: layers.count - 1, through: 0, by: -1).flatMap { l in
            let layer = layers[l]
            return rowBlocks(l).map { layer.offset(ofRow: $0.lowerBound) }
        }
    }

    /// One training step's forward and backward: zeroes the gradients, computes the batch-mean
    /// loss and its gradient into `gradients`. Backward goes layer by layer from the last: the
    /// bias gradient, then the weight gradient in row blocks from the last rows (`rowBlocks`),
    /// calling `gradientsFinal(k)` after each (see `gradientBoundaries`), so their communication
    /// can start; then the input gradient for the layer below. `layerDone(l)` follows each layer.
    public func forwardBackward(_ input: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch B: Int,
                                forwardDone: (() -> Void)? = nil,
                                gradientsFinal: ((Int) -> Void)? = nil,
                                layerDone: ((Int) -> Void)? = nil) -> Float {
        let logits = forward(input, batch: B)
        let loss = softmaxCrossEntropyForward(logits, labels, batch: B, classes: classes)
        forwardDone?()
        gradients.pointer.update(repeating: 0, count: parameterCount)
        var dout = dscratch[0].pointer
        softmaxCrossEntropyBackward(dout, logits, labels, batch: B, classes: classes)
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            let inp: UnsafePointer<Float> = l == 0 ? input : UnsafePointer(acts[l].pointer)
            let dweight = gradients.pointer + layer.weightOffset
            linearBiasBackward(gradients.pointer + layer.biasOffset, dout, rows: B, outputs: layer.outputs)
            for rows in rowBlocks(l) {
                linearWeightBackward(dweight, dout, inp, rows: B, inputs: layer.inputs, outputs: layer.outputs, block: rows)
                gradientsFinal?(layer.offset(ofRow: rows.lowerBound))
            }
            if l > 0 {
                let dinp = dscratch[(layers.count - l) & 1].pointer
                linearInputBackward(dinp, dout, parameters.pointer + layer.weightOffset,
                                    rows: B, inputs: layer.inputs, outputs: layer.outputs)
                reluBackward(dinp, acts[l].pointer, count: B * layer.inputs)
                dout = dinp
            }
            layerDone?(l)
        }
        return loss
    }

    /// Number of samples whose arg-max prediction equals the label.
    public func countCorrect(_ input: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch B: Int) -> Int {
        let probs = forward(input, batch: B)
        var correct = 0
        for b in 0..<B {
            let row = probs + b * classes
            var best = 0
            for c in 1..<classes where row[c] > row[best] { best = c }
            if best == Int(labels[b]) { correct += 1 }
        }
        return correct
    }

    /// Floating-point operations of one training step at batch B: 2·B·MACs forward, the same for
    /// the weight gradient, and the same again for the input gradient of every layer but the first.
    public func trainingFLOPs(batch B: Int) -> Double {
        var flops = 0.0
        for (l, layer) in layers.enumerated() {
            let f = 2.0 * Double(B) * Double(layer.macs)
            flops += l == 0 ? 2 * f : 3 * f
        }
        return flops
    }

    // MARK: TrainableModel

    public var summary: String { "MLP \(widths.map(String.init).joined(separator: "-")) (\(parameterCount) parameters)" }
    public var parameterGroups: [Range<Int>] { layers.map(\.range) }

    public func forwardBackward(_ batch: ClassificationBatch, events: StepEvents) -> Float {
        forwardBackward(batch.inputs.pointer, labels: batch.labels, batch: batch.count, forwardDone: events.forwardDone,
                        gradientsFinal: events.gradientsFinal, layerDone: events.layerDone)
    }

    public var evaluationSumCount: Int { 2 }

    /// [correct, samples] of one batch.
    public func evaluationSums(_ batch: ClassificationBatch) -> [Double] {
        [Double(countCorrect(batch.inputs.pointer, labels: batch.labels, batch: batch.count)), Double(batch.count)]
    }

    public func metrics(fromSums sums: [Double]) -> [Metric] {
        [Metric(name: "accuracy", value: sums[1] > 0 ? sums[0] / sums[1] : 0)]
    }

    public func trainingFLOPs(samples: Int) -> Double { trainingFLOPs(batch: samples) }
}

/// A layer's output rows in blocks of `rows` from the top: the highest block (what is left over)
/// first, down to the block at row 0. A plain value, so backward iterates it without allocating.
public struct RowBlocks: Sequence, IteratorProtocol {
    private let outputs: Int, rows: Int
    private var first: Int  // the next block's first row; below 0 when done

    init(outputs: Int, rows: Int) {
        self.outputs = outputs
        self.rows = rows
        first = (outputs - 1) / rows * rows
    }

    public mutating func next() -> Range<Int>? {
        guard first >= 0 else { return nil }
        defer { first -= rows }
        return first..<Swift.min(first + rows, outputs)
    }
}
