import CBLAS
import CKernels
import Support

/// One cblas_sgemm call as a step makes it (row-major, α = 1): shapes, transposes, leading
/// dimensions and β.
public struct GEMMCall: Hashable, Sendable {
    public let transA: Bool, transB: Bool
    public let m: Int, n: Int, k: Int
    public let lda: Int, ldb: Int, ldc: Int
    public let beta: Float

    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

/// The ceiling a training step is measured against: the cblas_sgemm calls a step of the model
/// makes (shapes, transposes, leading dimensions, the attention's row blocks), and nothing else.
/// Either as recorded from a real step (`GEMMRecording`), on the step's own buffers — the
/// products as the step has them, its data spread over its whole working set — or from the
/// shapes alone on three scratch buffers that every call shares, which stay in cache: a bound no
/// step whose data outgrows the cache can reach.
public struct GEMMBenchmark {
    public let calls: [GEMMCall]
    /// Each call with the operands it runs on: a step's own, or the scratch buffers below.
    private let products: [RecordedGEMM]
    /// The scratch the shape-derived calls share, kept alive with them (none for a recording).
    private let scratch: [FloatBuffer]

    /// Replays `recorded` on its own operands. It overwrites what the step's products wrote
    /// (activations, gradients; never weights): run it between steps, not inside one.
    public init(recorded: [RecordedGEMM]) {
        calls = recorded.map(\.call)
        products = recorded
        scratch = []
    }

    public init(calls: [GEMMCall]) {
        self.calls = calls
        let size = calls.map { max(($0.transA ? $0.k : $0.m) * $0.lda, ($0.transB ? $0.n : $0.k) * $0.ldb, $0.m * $0.ldc) }.max() ?? 1
        let a = FloatBuffer(count: size), b = FloatBuffer(count: size), c = FloatBuffer(count: size)
        for i in 0..<size { a.pointer[i] = Float(i % 7) * 0.01; b.pointer[i] = Float(i % 5) * 0.01 }
        scratch = [a, b, c]
        products = calls.map { RecordedGEMM(call: $0, alpha: 1, a: a.pointer, b: b.pointer, c: c.pointer) }
    }

    /// The MLP's step: per layer the forward (B,I)·(O,I)ᵀ, the weight gradient (B,O)ᵀ·(B,I) and,
    /// past the first layer, the input gradient (B,O)·(O,I).
    public init(model: MLP, batch B: Int) {
        var calls: [GEMMCall] = []
        for (l, layer) in model.layers.enumerated() {
            let I = layer.inputs, O = layer.outputs
            calls.append(GEMMCall(transA: false, transB: true, m: B, n: O, k: I, lda: I, ldb: I, ldc: O, beta: 1))
            calls.append(GEMMCall(transA: true, transB: false, m: O, n: I, k: B, lda: O, ldb: I, ldc: I, beta: 1))
            if l > 0 { calls.append(GEMMCall(transA: false, transB: false, m: B, n: I, k: O, lda: O, ldb: I, ldc: I, beta: 0)) }
        }
        self.init(calls: calls)
    }

    /// The GPT's step: forward then backward through every block's four linear layers and its
    /// attention's row blocks, and the output head.
    public init(shape: GPTShape, batch: Int) {
        let N = batch * shape.context, C = shape.channels, T = shape.context, hs = C / shape.heads
        var calls: [GEMMCall] = []
        func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, lda: Int, ldb: Int, ldc: Int, beta: Float = 0) {
            calls.append(GEMMCall(transA: ta, transB: tb, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, beta: beta))
        }
        // A linear layer (N,C)→(N,OC): forward; backward's input and weight gradients.
        func linear(_ C: Int, _ OC: Int, backward: Bool) {
            if !backward { return gemm(false, true, N, OC, C, lda: C, ldb: C, ldc: OC, beta: 1) }
            gemm(false, false, N, C, OC, lda: OC, ldb: C, ldc: C)
            gemm(true, false, OC, C, N, lda: OC, ldb: C, ldc: C, beta: 1)
        }
        func attention(backward: Bool) {
            for _ in 0..<(batch * shape.heads) {
                for r0 in stride(from: 0, to: T, by: attentionRowBlock) {
                    let r1 = min(T, r0 + attentionRowBlock), rows = r1 - r0
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
        for backward in [false, true] {
            for _ in 0..<shape.layers {
                linear(C, 3 * C, backward: backward)
                attention(backward: backward)
                linear(C, C, backward: backward)
                linear(C, 4 * C, backward: backward)
                linear(4 * C, C, backward: backward)
            }
            linear(C, GPTShape.vocabulary, backward: backward)
        }
        self.init(calls: calls)
    }

    public var flops: Double { calls.reduce(0) { $0 + $1.flops } }

    /// Runs every call once; returns the seconds taken. Subnormals are flushed while it runs: a
    /// replayed step feeds products' outputs to products that ran before them (a buffer reused
    /// within the step), so its values may shrink replay after replay into subnormals, which cost
    /// the kernels microcode assists the real step never pays (scratch values never get there).
    public func runOnce() -> Double {
        let mode = rw_flush_denormals_begin()
        defer { rw_fp_mode_restore(mode) }
        let t0 = monotonicSeconds()
        for product in products { run(product) }
        return monotonicSeconds() - t0
    }

    /// Runs one call (on the operands of its first occurrence) `times` times; returns the seconds
    /// of each run on average.
    public func time(_ call: GEMMCall, times: Int) -> Double {
        guard let product = products.first(where: { $0.call == call }) else { preconditionFailure("\(call) is not one of the calls") }
        let mode = rw_flush_denormals_begin()
        defer { rw_fp_mode_restore(mode) }
        let t0 = monotonicSeconds()
        for _ in 0..<times { run(product) }
        return (monotonicSeconds() - t0) / Double(times)
    }

    @inline(__always)
    private func run(_ p: RecordedGEMM) {
        let x = p.call
        cblas_sgemm(CblasRowMajor, x.transA ? CblasTrans : CblasNoTrans, x.transB ? CblasTrans : CblasNoTrans,
                    Int32(x.m), Int32(x.n), Int32(x.k), p.alpha, p.a, Int32(x.lda), p.b, Int32(x.ldb), x.beta, p.c, Int32(x.ldc))
    }
}
