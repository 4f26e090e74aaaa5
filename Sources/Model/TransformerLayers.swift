// The GPT's layers as forward/backward pairs over raw row-major buffers, in the manner of llm.c's
// train_gpt2.c. B = batch, T = time (context), C = channels, NH = heads, hs = C / NH, V = vocabulary,
// N = B·T rows. Parameter gradients (d + the forward name) accumulate with +=; so do input
// gradients named `dinp` unless a comment says "=". Every matrix product is one `sgemm` call (GEMM.swift).

import CBLAS
import CKernels
import Foundation

// MARK: Embeddings

/// out (B,T,C) = wte[tokens[b,t]] (V,C) + wpe[t] (T,C).
public func encoderForward(_ out: UnsafeMutablePointer<Float>, _ tokens: UnsafePointer<Int32>,
                           _ wte: UnsafePointer<Float>, _ wpe: UnsafePointer<Float>, B: Int, T: Int, C: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let o = out + (b * T + t) * C, e = wte + Int(tokens[b * T + t]) * C, p = wpe + t * C
            for i in 0..<C { o[i] = e[i] + p[i] }
        }
    }
}

/// dwte[tokens[b,t]] += dout[b,t]; dwpe[t] += dout[b,t].
public func encoderBackward(_ dwte: UnsafeMutablePointer<Float>, _ dwpe: UnsafeMutablePointer<Float>,
                            _ dout: UnsafePointer<Float>, _ tokens: UnsafePointer<Int32>, B: Int, T: Int, C: Int) {
    for b in 0..<B {
        for t in 0..<T {
            let d = dout + (b * T + t) * C, e = dwte + Int(tokens[b * T + t]) * C, p = dwpe + t * C
            for i in 0..<C { e[i] += d[i]; p[i] += d[i] }
        }
    }
}

// MARK: LayerNorm

/// out (N,C) = (inp − mean) · rstd · weight + bias per row, ε = 1e-5; mean and rstd (N) kept for backward.
public func layerNormForward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                             _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                             _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, N: Int, C: Int) {
    rw_layernorm_forward(out, mean, rstd, inp, weight, bias, N, C)
}

/// dinp (N,C) += ∂loss/∂inp; dweight, dbias (C) +=, from dout (N,C).
public func layerNormBackward(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                              _ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                              _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                              _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, N: Int, C: Int) {
    rw_layernorm_backward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C)
}

// MARK: Attention

/// Rows of the attention matrix computed per block: block i (rows i·32…) needs only the columns
/// up to its last row, so the masked upper triangle is mostly never computed.
let attentionRowBlock = 32

/// Causal multi-head self-attention. qkv (B,T,3C) holds q, k, v side by side; for each batch row
/// and head h, Q, K, V are (T,hs) views with row stride 3C. att (B,NH,T,T) = softmax(Q·Kᵀ/√hs)
/// under the causal mask (row t sees t2 ≤ t; the rest is 0); out (B,T,C) = att·V, head h in
/// columns h·hs…(h+1)·hs. Rows go in blocks that skip the columns no row of the block sees: a
/// row of att is written (its masked columns as 0) up to its block's last row r1 − 1 and not past
/// it, where no product reads (half the T² zeros a full row would write, at T = 256).
public func attentionForward(_ out: UnsafeMutablePointer<Float>, _ att: UnsafeMutablePointer<Float>,
                             _ qkv: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int) {
    let hs = C / NH, scale = 1 / Float(hs).squareRoot(), C3 = Int32(3 * C), TT = Int32(T)
    for b in 0..<B {
        for h in 0..<NH {
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let a = att + (b * NH + h) * T * T, o = out + b * T * C + h * hs
            for r0 in stride(from: 0, to: T, by: attentionRowBlock) {
                let r1 = min(T, r0 + attentionRowBlock), rows = Int32(r1 - r0)
                sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, Int32(r1), Int32(hs),
                            scale, q + r0 * 3 * C, C3, k, C3, 0, a + r0 * T, TT)
                for t in r0..<r1 { causalSoftmaxRow(a + t * T, visible: t + 1, width: r1) }
                sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, Int32(hs), Int32(r1),
                            1, a + r0 * T, TT, v, C3, 0, o + r0 * C, Int32(C))
            }
        }
    }
}

/// In place: row[0..<visible] = softmax(row[0..<visible]); row[visible..<width] = 0.
@inline(__always)
func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, visible: Int, width: Int) {
    rw_softmax_row(row, visible, width)
}

/// dqkv (B,T,3C) "=" the gradient of the attention's input, from dout (B,T,C), qkv and att.
/// `scratch` holds T·T floats. Per batch row and head: dV = attᵀ·dO; dA = dO·Vᵀ;
/// dS = att ⊙ (dA − rowsum(att ⊙ dA)) (the softmax's Jacobian; masked entries stay 0); dQ = dS·K/√hs; dK = dSᵀ·Q/√hs.
/// In the forward's row blocks; dV and dK gather over blocks, the last block (all columns) first.
public func attentionBackward(_ dqkv: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ qkv: UnsafePointer<Float>, _ att: UnsafePointer<Float>,
                              B: Int, T: Int, C: Int, NH: Int) {
    let hs = C / NH, scale = 1 / Float(hs).squareRoot(), C3 = Int32(3 * C), TT = Int32(T), HS = Int32(hs)
    let lastStart = (T - 1) / attentionRowBlock * attentionRowBlock
    for b in 0..<B {
        for h in 0..<NH {
            let q = qkv + b * T * 3 * C + h * hs, k = q + C, v = q + 2 * C
            let dq = dqkv + b * T * 3 * C + h * hs, dk = dq + C, dv = dq + 2 * C
            let a = att + (b * NH + h) * T * T, dO = dout + b * T * C + h * hs
            for r0 in stride(from: lastStart, through: 0, by: -attentionRowBlock) {
                let r1 = min(T, r0 + attentionRowBlock), rows = Int32(r1 - r0), beta: Float = r0 == lastStart ? 0 : 1
                sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(r1), HS, rows,
                            1, a + r0 * T, TT, dO + r0 * C, Int32(C), beta, dv, C3)
                sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, Int32(r1), HS,
                            1, dO + r0 * C, Int32(C), v, C3, 0, scratch + r0 * T, TT)
                for t in r0..<r1 { rw_softmax_backward_row(scratch + t * T, a + t * T, t + 1, r1) }
                sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, HS, Int32(r1),
                            scale, scratch + r0 * T, TT, k, C3, 0, dq + r0 * 3 * C, C3)
                sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(r1), HS, rows,
                            scale, scratch + r0 * T, TT, q + r0 * 3 * C, C3, beta, dk, C3)
            }
        }
    }
}

// MARK: GELU

/// out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the tanh approximation GPT-2 uses; n elements.
public func geluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, count n: Int) {
    rw_gelu_forward(out, inp, n)
}

/// In place over N rows of C, from the GELU's input: d "=" d · gelu′(inp) (d holds the gradient of
/// the GELU's output, then of its input), and dbias (C) += Σ_n d — the bias gradient of the layer
/// that produced inp, summed in linearBiasBackward's order while the rows are at hand. The
/// memory, not the tanh, bounds this pass: recomputing gelu′ beats storing it.
public func geluBackward(_ d: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                         addingRowsTo dbias: UnsafeMutablePointer<Float>, rows N: Int, columns C: Int) {
    rw_gelu_backward_rows(d, dbias, inp, N, C)
}

// MARK: Loss

/// In place over logits (N,V): probabilities; returns Σ_n −log p[target_n] (the caller divides).
public func crossEntropyForward(_ logits: UnsafeMutablePointer<Float>, _ targets: UnsafePointer<Int32>, N: Int, V: Int) -> Double {
    var total = 0.0
    for n in 0..<N {
        let row = logits + n * V
        causalSoftmaxRow(row, visible: V, width: V)
        total -= Double(logf(row[Int(targets[n])]))
    }
    return total
}

/// In place over probs (N,V): dlogits = (probs − onehot(target)) · scale (scale = 1/N for a mean loss).
public func crossEntropyBackward(_ probs: UnsafeMutablePointer<Float>, _ targets: UnsafePointer<Int32>, N: Int, V: Int,
                                 scale: Float) {
    rw_xent_backward_rows(probs, targets, N, V, scale)
}
