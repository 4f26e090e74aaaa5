// Layers as forward/backward pairs over raw row-major buffers, in the manner of llm.c.
// Shapes are given in comments; B = batch, I = inputs, O = outputs, C = classes.
// Gradients are named d + the forward name and, for parameters, accumulate with +=.

import CBLAS
import CKernels

// MARK: Dense

/// out (B,O) = inp (B,I) · weightᵀ + bias, with weight (O,I) and bias (O).
public func denseForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                         _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                         batch B: Int, inputs I: Int, outputs O: Int) {
    for b in 0..<B { (out + b * O).update(from: bias, count: O) }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(B), Int32(O), Int32(I),
                1, inp, Int32(I), weight, Int32(I), 1, out, Int32(O))
}

/// dweight (O,I) += doutᵀ (O,B) · inp (B,I); dbias (O) += Σ_b dout; dinp (B,I) = dout (B,O) · weight (O,I).
/// `dinp` may be nil for the first layer, whose input gradient nobody needs.
public func denseBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
                          _ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                          _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          batch B: Int, inputs I: Int, outputs O: Int) {
    denseBiasBackward(dbias, dout, batch: B, outputs: O)
    denseWeightBackward(dweight, dout, inp, batch: B, inputs: I, outputs: O, rows: 0..<O)
    if let dinp { denseInputBackward(dinp, dout, weight, batch: B, inputs: I, outputs: O) }
}

/// dbias (O) += Σ_b dout (B,O).
public func denseBiasBackward(_ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, batch B: Int, outputs O: Int) {
    rw_bias_backward(dbias, dout, B, O)
}

/// Rows `rows` of the weight gradient: dweight[rows] (R,I) += dout[:, rows]ᵀ (R,B) · inp (B,I).
/// A block of rows is contiguous in the (O,I) layout, so backward can hand it to the all-reduce
/// while the rows before it are still computing. Each element sums over the batch alone, in the
/// same order whatever the blocking, so blocked and whole-layer gradients are the same bits (tested).
public func denseWeightBackward(_ dweight: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                _ inp: UnsafePointer<Float>, batch B: Int, inputs I: Int, outputs O: Int,
                                rows: Range<Int>) {
    guard !rows.isEmpty else { return }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows.count), Int32(I), Int32(B),
                1, dout + rows.lowerBound, Int32(O), inp, Int32(I), 1, dweight + rows.lowerBound * I, Int32(I))
}

/// dinp (B,I) = dout (B,O) · weight (O,I).
public func denseInputBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                               _ weight: UnsafePointer<Float>, batch B: Int, inputs I: Int, outputs O: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(B), Int32(I), Int32(O),
                1, dout, Int32(O), weight, Int32(I), 0, dinp, Int32(I))
}

// MARK: ReLU

/// In place: x = max(x, 0) over n elements.
public func reluForward(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    rw_relu(x, n)
}

/// In place: dx = dout · [out > 0], where `out` is the ReLU's output.
public func reluBackward(_ dx: UnsafeMutablePointer<Float>, _ out: UnsafePointer<Float>, count n: Int) {
    rw_relu_backward(dx, out, n)
}

// MARK: Softmax cross-entropy

/// Mean over the batch of −log softmax(logits)[label]. logits (B,C) are replaced by the
/// probabilities (B,C), which the backward pass reads. (Per row: p = expf(x − max) / Σ, the sum
/// in float in column order; loss −= log max(p[label], FLT_MIN) in double.)
public func softmaxCrossEntropyForward(_ logits: UnsafeMutablePointer<Float>, _ labels: UnsafePointer<UInt8>,
                                       batch B: Int, classes C: Int) -> Float {
    Float(rw_softmax_xent_forward(logits, labels, B, C) / Double(B))
}

/// dlogits (B,C) = (probs − onehot(label)) / B: the gradient of the batch-mean loss.
public func softmaxCrossEntropyBackward(_ dlogits: UnsafeMutablePointer<Float>, _ probs: UnsafePointer<Float>,
                                        _ labels: UnsafePointer<UInt8>, batch B: Int, classes C: Int) {
    rw_softmax_xent_backward(dlogits, probs, labels, B, C, 1 / Float(B))
}
