import CBLAS

/// Every matrix product the models make goes through `sgemm`: OpenBLAS's cblas_sgemm with the
/// same arguments and, while the calling task records (`GEMMRecording.record`), the call and
/// its operands written down — so `GEMMBenchmark` can replay a training step's products on the
/// step's own buffers, alone.
@inline(__always)
func sgemm(_ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: blasint, _ n: blasint, _ k: blasint,
           _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: blasint, _ b: UnsafePointer<Float>, _ ldb: blasint,
           _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: blasint) {
    precondition(order == CblasRowMajor, "the models' products are row-major")
    if let recorder = GEMMRecording.recorder {
        recorder.products.append(RecordedGEMM(
            call: GEMMCall(transA: transA == CblasTrans, transB: transB == CblasTrans, m: Int(m), n: Int(n), k: Int(k),
                           lda: Int(lda), ldb: Int(ldb), ldc: Int(ldc), beta: beta),
            alpha: alpha, a: a, b: b, c: c))
    }
    cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

/// One product as a step made it: the call, α, and the addresses of its operands.
public struct RecordedGEMM: @unchecked Sendable {
    public let call: GEMMCall
    let alpha: Float
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>
    let c: UnsafeMutablePointer<Float>
}

/// The products made while `record` runs, by the task (or thread) that runs it: a task-local
/// recorder, so products other tasks make meanwhile (tests run in parallel) are not in it.
public enum GEMMRecording {
    final class Recorder: @unchecked Sendable { var products: [RecordedGEMM] = [] }
    @TaskLocal static var recorder: Recorder?

    public static func record(_ body: () throws -> Void) rethrows -> [RecordedGEMM] {
        let recorder = Recorder()
        try $recorder.withValue(recorder) { try body() }
        return recorder.products
    }
}
