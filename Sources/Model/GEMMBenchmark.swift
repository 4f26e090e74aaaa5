import CBLAS
import Support

/// The ceiling a training step is measured against: the same cblas_sgemm calls the MLP's
/// forward and backward make, with the same shapes and transposes, and nothing else.
public struct GEMMBenchmark {
    public let model: MLP
    public let batch: Int
    private let a: FloatBuffer, b: FloatBuffer, c: FloatBuffer

    public init(model: MLP, batch: Int) {
        self.model = model
        self.batch = batch
        let widest = model.widths.max()!
        let size = Swift.max(batch * widest, widest * widest)
        a = FloatBuffer(count: size); b = FloatBuffer(count: size); c = FloatBuffer(count: size)
        for i in 0..<size { a.pointer[i] = Float(i % 7) * 0.01; b.pointer[i] = Float(i % 5) * 0.01 }
    }

    /// Runs one step's worth of GEMMs; returns the seconds taken.
    public func runOnce() -> Double {
        let B = Int32(batch)
        let t0 = monotonicSeconds()
        for (l, layer) in model.layers.enumerated() {
            let I = Int32(layer.inputs), O = Int32(layer.outputs)
            // forward: (B,I)·(O,I)ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, O, I, 1, a.pointer, I, b.pointer, I, 1, c.pointer, O)
            // weight gradient: (B,O)ᵀ·(B,I)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, I, B, 1, a.pointer, O, b.pointer, I, 1, c.pointer, I)
            // input gradient (not for the first layer): (B,O)·(O,I)
            if l > 0 {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, I, O, 1, a.pointer, O, b.pointer, I, 0, c.pointer, I)
            }
        }
        return monotonicSeconds() - t0
    }
}
