// Layers as forward/backward pairs over raw row-major buffers, in the manner of llm.c.
// Shapes are given in comments; N = rows (batch × positions), C = inputs (or classes), OC = outputs.
// Gradients are named d + the forward name and, for parameters, accumulate with +=.

import CBLAS
import CKernels

// MARK: Linear (the MLP's dense layers and the GPT's projections)

/// out (N,OC) = inp (N,C) · weightᵀ + bias, with weight (OC,C) and bias (OC) (none: no bias).
public func linearForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, rows N: Int, inputs C: Int, outputs OC: Int) {
    if let bias {
        for n in 0..<N { (out + n * OC).update(from: bias, count: OC) }
    }
    sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(OC), Int32(C),
                1, inp, Int32(C), weight, Int32(C), bias == nil ? 0 : 1, out, Int32(OC))
}

/// out (N,OC) = residual (N,OC) + bias + inp (N,C) · weightᵀ: a projection added onto the
/// residual stream in the product itself (β = 1 onto residual + bias), one pass over out fewer
/// than a linearForward and a separate sum. The sum is rounded as (residual + bias) + product.
public func linearResidualForward(_ out: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>,
                                  _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                  _ bias: UnsafePointer<Float>, rows N: Int, inputs C: Int, outputs OC: Int) {
    rw_rows_plus_bias(out, residual, bias, N, OC)
    sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(OC), Int32(C),
                1, inp, Int32(C), weight, Int32(C), 1, out, Int32(OC))
}

/// The whole backward: dinp (N,C) = dout (N,OC) · weight (OC,C) (nil: not needed, as for the
/// MLP's first layer); dweight (OC,C) += doutᵀ · inp; dbias (OC) += Σ_n dout (nil: no bias).
public func linearBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>,
                           _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                           _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, rows N: Int, inputs C: Int, outputs OC: Int) {
    if let dinp { linearInputBackward(dinp, dout, weight, rows: N, inputs: C, outputs: OC) }
    linearWeightBackward(dweight, dout, inp, rows: N, inputs: C, outputs: OC, block: 0..<OC)
    if let dbias { linearBiasBackward(dbias, dout, rows: N, outputs: OC) }
}

/// dbias (OC) += Σ_n dout (N,OC).
public func linearBiasBackward(_ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows N: Int, outputs OC: Int) {
    rw_bias_backward(dbias, dout, N, OC)
}

/// Rows `block` of the weight gradient: dweight[block] (R,C) += dout[:, block]ᵀ (R,N) · inp (N,C).
/// A block of rows is contiguous in the (OC,C) layout, so backward can hand it to the all-reduce
/// while the rows before it are still computing. Each element sums over the rows of the batch
/// alone, in the same order whatever the blocking, so blocked and whole-layer gradients are the
/// same bits (tested).
public func linearWeightBackward(_ dweight: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                 _ inp: UnsafePointer<Float>, rows N: Int, inputs C: Int, outputs OC: Int, block: Range<Int>) {
    guard !block.isEmpty else { return }
    sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(block.count), Int32(C), Int32(N),
                1, dout + block.lowerBound, Int32(OC), inp, Int32(C), 1, dweight + block.lowerBound * C, Int32(C))
}

/// dinp (N,C) = dout (N,OC) · weight (OC,C).
public func linearInputBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                                _ weight: UnsafePointer<Float>, rows N: Int, inputs C: Int, outputs OC: Int) {
    sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(N), Int32(C), Int32(OC),
                1, dout, Int32(OC), weight, Int32(C), 0, dinp, Int32(C))
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
