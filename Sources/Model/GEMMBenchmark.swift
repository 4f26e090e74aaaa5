import CBLAS
import Support

/// Three scratch matrices of `size` floats, A and B filled with small non-zero values: the operands
/// of a benchmark's GEMMs, whose results nobody reads.
struct GEMMScratch {
    let a: FloatBuffer, b: FloatBuffer, c: FloatBuffer

    init(size: Int) {
        a = FloatBuffer(count: size); b = FloatBuffer(count: size); c = FloatBuffer(count: size)
        for i in 0..<size { a.pointer[i] = Float(i % 7) * 0.01; b.pointer[i] = Float(i % 5) * 0.01 }
    }
}

/// The ceiling a training step is measured against: the same cblas_sgemm calls the MLP's
/// forward and backward make, with the same shapes and transposes, and nothing else.
public struct GEMMBenchmark {
    public let model: MLP
    public let batch: Int
    private let scratch: GEMMScratch

    public init(model: MLP, batch: Int) {
        self.model = model
        self.batch = batch
        let widest = model.widths.max()!
        scratch = GEMMScratch(size: Swift.max(batch * widest, widest * widest))
    }

    /// Runs one step's worth of GEMMs; returns the seconds taken.
    public func runOnce() -> Double {
        let B = Int32(batch)
        let t0 = monotonicSeconds()
        for (l, layer) in model.layers.enumerated() {
            let I = Int32(layer.inputs), O = Int32(layer.outputs)
            // forward: (B,I)·(O,I)ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, O, I, 1, scratch.a.pointer, I, scratch.b.pointer, I, 1, scratch.c.pointer, O)
            // weight gradient: (B,O)ᵀ·(B,I)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, I, B, 1, scratch.a.pointer, O, scratch.b.pointer, I, 1, scratch.c.pointer, I)
            // input gradient (not for the first layer): (B,O)·(O,I)
            if l > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, I, O, 1, scratch.a.pointer, O, scratch.b.pointer, I, 0, scratch.c.pointer, I)
            }
        }
        return monotonicSeconds() - t0
    }
}

/// The GPT's ceiling: exactly the cblas_sgemm calls one training step of `GPT` makes (shapes,
/// transposes, leading dimensions, the attention's row blocks), on scratch buffers, and nothing else.
public struct GPTGEMMBenchmark {
    public let shape: GPTShape
    public let batch: Int
    private let scratch: GEMMScratch

    public init(shape: GPTShape, batch: Int) {
        self.shape = shape
        self.batch = batch
        let N = batch * shape.context, C = shape.channels
        scratch = GEMMScratch(size: Swift.max(N * 4 * C, 4 * C * C, N * GPTShape.vocabulary, shape.context * shape.context))
    }

    private func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, lda: Int, ldb: Int, ldc: Int, beta: Float = 0) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, scratch.a.pointer, Int32(lda), scratch.b.pointer, Int32(ldb), beta, scratch.c.pointer, Int32(ldc))
    }

    /// A linear layer (N,C)→(N,OC): forward; backward's input and weight gradients.
    private func linear(_ N: Int, _ C: Int, _ OC: Int, backward: Bool) {
        if !backward { return gemm(false, true, N, OC, C, lda: C, ldb: C, ldc: OC, beta: 1) }
        gemm(false, false, N, C, OC, lda: OC, ldb: C, ldc: C)
        gemm(true, false, OC, C, N, lda: OC, ldb: C, ldc: C, beta: 1)
    }

    private func attention(backward: Bool) {
        let T = shape.context, C = shape.channels, hs = C / shape.heads
        for _ in 0..<(batch * shape.heads) {
            for r0 in stride(from: 0, to: T, by: attentionRowBlock) {
                let r1 = Swift.min(T, r0 + attentionRowBlock), rows = r1 - r0
                if backward {
                    gemm(true, false, r1, hs, rows, lda: T, ldb: C, ldc: 3 * C, beta: 1)
                    gemm(false, true, rows, r1, hs, lda: C, ldb: 3 * C, ldc: T)
                    gemm(false, false, rows, hs, r1, lda: T, ldb: 3 * C, ldc: 3 * C)
                    gemm(true, false, r1, hs, rows, lda: T, ldb: 3 * C, ldc: 3 * C, beta: 1)
                } else {
                    gemm(false, true, rows, r1, hs, lda: 3 * C, ldb: 3 * C, ldc: T)
                    gemm(false, false, rows, hs, r1, lda: T, ldb: 3 * C, ldc: C)
                }
            }
        }
    }

    /// One step's worth of GEMMs; returns the seconds taken.
    public func runOnce() -> Double {
        let N = batch * shape.context, C = shape.channels, V = GPTShape.vocabulary
        let t0 = monotonicSeconds()
        for backward in [false, true] {
            for _ in 0..<shape.layers {
                linear(N, C, 3 * C, backward: backward)
                attention(backward: backward)
                linear(N, C, C, backward: backward)
                linear(N, C, 4 * C, backward: backward)
                linear(N, 4 * C, C, backward: backward)
            }
            linear(N, C, V, backward: backward)
        }
        return monotonicSeconds() - t0
    }
}
