import Support

/// Activations of a forward pass kept for backward, and backward's scratch, for up to `batch`
/// rows of T tokens. Allocated once, at the largest batch seen; a step allocates nothing.
final class GPTActivations {
    let batch: Int
    let encoded, ln1, ln1Mean, ln1Rstd, qkv, atty, att, residual2, ln2, ln2Mean, ln2Rstd: FloatBuffer
    let fch, fchGelu, residual3, lnf, lnfMean, lnfRstd, logits: FloatBuffer
    // Backward's scratch, reused block after block.
    let dresidual, dln, datty, dqkv, dfchGelu, dattScratch: FloatBuffer

    init(shape s: GPTShape, batch B: Int) {
        batch = B
        let N = B * s.context, C = s.channels, L = s.layers
        func f(_ count: Int) -> FloatBuffer { FloatBuffer(count: count) }
        encoded = f(N * C)
        ln1 = f(L * N * C); ln1Mean = f(L * N); ln1Rstd = f(L * N); qkv = f(L * N * 3 * C); atty = f(L * N * C)
        att = f(L * B * s.heads * s.context * s.context); residual2 = f(L * N * C)
        ln2 = f(L * N * C); ln2Mean = f(L * N); ln2Rstd = f(L * N); fch = f(L * N * 4 * C); fchGelu = f(L * N * 4 * C)
        residual3 = f(L * N * C); lnf = f(N * C); lnfMean = f(N); lnfRstd = f(N); logits = f(N * GPTShape.vocabulary)
        dresidual = f(N * C); dln = f(N * C); datty = f(N * C); dqkv = f(N * 3 * C)
        dfchGelu = f(N * 4 * C); dattScratch = f(s.context * s.context)
    }
}

extension GPT {
    private func activations(for B: Int) -> GPTActivations {
        if let acts, acts.batch >= B { return acts }
        let made = GPTActivations(shape: shape, batch: B)
        acts = made
        return made
    }

    /// Forward on the batch's rows; returns Σ over its tokens of −log p(target). Keeps the
    /// activations and, in `logits`, the probabilities for backward.
    @discardableResult
    func forward(_ batch: TokenBatch) -> Double {
        let B = batch.count, T = shape.context, C = shape.channels, NH = shape.heads, N = B * T
        precondition(batch.context == T && B > 0, "batch of \(batch.context)-token rows for a \(T)-token GPT")
        let a = activations(for: B), p = parameters.pointer
        encoderForward(a.encoded.pointer, batch.inputs, p, p + wpe, B: B, T: T, C: C)
        var residual = UnsafePointer(a.encoded.pointer)
        for (l, w) in blocks.enumerated() {
            let ln1 = a.ln1.pointer + l * N * C, qkv = a.qkv.pointer + l * N * 3 * C, atty = a.atty.pointer + l * N * C
            let att = a.att.pointer + l * B * NH * T * T, residual2 = a.residual2.pointer + l * N * C
            let ln2 = a.ln2.pointer + l * N * C, fch = a.fch.pointer + l * N * 4 * C, fchGelu = a.fchGelu.pointer + l * N * 4 * C
            let residual3 = a.residual3.pointer + l * N * C
            layerNormForward(ln1, a.ln1Mean.pointer + l * N, a.ln1Rstd.pointer + l * N, residual, p + w.ln1w, p + w.ln1b, N: N, C: C)
            linearForward(qkv, ln1, p + w.qkvw, p + w.qkvb, rows: N, inputs: C, outputs: 3 * C)
            attentionForward(atty, att, qkv, B: B, T: T, C: C, NH: NH)
            linearResidualForward(residual2, residual: residual, atty, p + w.attprojw, p + w.attprojb, rows: N, inputs: C, outputs: C)
            layerNormForward(ln2, a.ln2Mean.pointer + l * N, a.ln2Rstd.pointer + l * N, residual2, p + w.ln2w, p + w.ln2b, N: N, C: C)
            linearForward(fch, ln2, p + w.fcw, p + w.fcb, rows: N, inputs: C, outputs: 4 * C)
            geluForward(fchGelu, fch, count: N * 4 * C)
            linearResidualForward(residual3, residual: residual2, fchGelu, p + w.fcprojw, p + w.fcprojb, rows: N, inputs: 4 * C, outputs: C)
            residual = UnsafePointer(residual3)
        }
        layerNormForward(a.lnf.pointer, a.lnfMean.pointer, a.lnfRstd.pointer, residual, p + lnfw, p + lnfb, N: N, C: C)
        linearForward(a.logits.pointer, a.lnf.pointer, p, nil, rows: N, inputs: C, outputs: GPTShape.vocabulary)  // tied head
        return crossEntropyForward(a.logits.pointer, batch.targets, N: N, V: GPTShape.vocabulary)
    }

    /// Backward of the mean loss over the batch's tokens, after `forward` on the same batch: zeroes
    /// the gradients, then goes from the head down, reporting each block's gradient final.
    func backward(_ batch: TokenBatch, events: StepEvents) {
        let B = batch.count, T = shape.context, C = shape.channels, NH = shape.heads, N = B * T, V = GPTShape.vocabulary
        let a = activations(for: B), p = parameters.pointer, g = gradients.pointer
        g.update(repeating: 0, count: parameterCount)
        crossEntropyBackward(a.logits.pointer, batch.targets, N: N, V: V, scale: 1 / Float(N))
        linearBackward(a.dln.pointer, g, nil, a.logits.pointer, a.lnf.pointer, p, rows: N, inputs: C, outputs: V)  // tied head → dwte
        a.dresidual.zero()
        let lastResidual = shape.layers > 0 ? a.residual3.pointer + (shape.layers - 1) * N * C : a.encoded.pointer
        layerNormBackward(a.dresidual.pointer, g + lnfw, g + lnfb, a.dln.pointer, lastResidual, p + lnfw,
                          a.lnfMean.pointer, a.lnfRstd.pointer, N: N, C: C)
        events.gradientsFinal?(lnfw)
        events.layerDone?(blocks.count)
        for l in stride(from: blocks.count - 1, through: 0, by: -1) {
            blockBackward(l, a, N: N, B: B, T: T, C: C, NH: NH)
            events.gradientsFinal?(blocks[l].start)
            events.layerDone?(l)
        }
        encoderBackward(g, g + wpe, a.dresidual.pointer, batch.inputs, B: B, T: T, C: C)
        events.gradientsFinal?(0)
    }

    /// Block l's backward: dresidual holds the gradient of its output and ends holding its input's.
    private func blockBackward(_ l: Int, _ a: GPTActivations, N: Int, B: Int, T: Int, C: Int, NH: Int) {
        let w = blocks[l], p = parameters.pointer, g = gradients.pointer, dres = a.dresidual.pointer
        let residual = l == 0 ? a.encoded.pointer : a.residual3.pointer + (l - 1) * N * C
        let ln1 = a.ln1.pointer + l * N * C, qkv = a.qkv.pointer + l * N * 3 * C, atty = a.atty.pointer + l * N * C
        let att = a.att.pointer + l * B * NH * T * T, residual2 = a.residual2.pointer + l * N * C
        let ln2 = a.ln2.pointer + l * N * C, fch = a.fch.pointer + l * N * 4 * C, fchGelu = a.fchGelu.pointer + l * N * 4 * C
        // MLP: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))).
        linearBackward(a.dfchGelu.pointer, g + w.fcprojw, g + w.fcprojb, dres, fchGelu, p + w.fcprojw, rows: N, inputs: 4 * C, outputs: C)
        geluBackward(a.dfchGelu.pointer, fch, addingRowsTo: g + w.fcb, rows: N, columns: 4 * C)  // now fc's output gradient
        linearBackward(a.dln.pointer, g + w.fcw, nil, a.dfchGelu.pointer, ln2, p + w.fcw, rows: N, inputs: C, outputs: 4 * C)
        layerNormBackward(dres, g + w.ln2w, g + w.ln2b, a.dln.pointer, residual2, p + w.ln2w,
                          a.ln2Mean.pointer + l * N, a.ln2Rstd.pointer + l * N, N: N, C: C)
        // Attention: residual2 = residual + attproj(attention(qkv(ln1(residual)))).
        linearBackward(a.datty.pointer, g + w.attprojw, g + w.attprojb, dres, atty, p + w.attprojw, rows: N, inputs: C, outputs: C)
        attentionBackward(a.dqkv.pointer, a.dattScratch.pointer, a.datty.pointer, qkv, att, B: B, T: T, C: C, NH: NH)
        linearBackward(a.dln.pointer, g + w.qkvw, g + w.qkvb, a.dqkv.pointer, ln1, p + w.qkvw, rows: N, inputs: C, outputs: 3 * C)
        layerNormBackward(dres, g + w.ln1w, g + w.ln1b, a.dln.pointer, residual, p + w.ln1w,
                          a.ln1Mean.pointer + l * N, a.ln1Rstd.pointer + l * N, N: N, C: C)
    }
}
