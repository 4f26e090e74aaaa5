import Testing
import Support
import CKernels
@testable import Model

/// The products a step makes, recorded, against the lists derived from the shapes (which the BLAS
/// core probe and `bench-gemm` time): the same calls, so a ceiling built from either is the
/// step's; and a replay on the step's own buffers leaves the weights alone.
@Suite struct GEMMRecordingTests {
    /// A call's shape without β and order (the recorded step and the shape list order backward
    /// differently; β depends on bias and on block order, and OpenBLAS's time does not).
    static func shapes(_ calls: [GEMMCall]) -> [String] {
        calls.map { "\($0.transA) \($0.transB) \($0.m)×\($0.n)×\($0.k) \($0.lda) \($0.ldb) \($0.ldc)" }.sorted()
    }

    @Test(arguments: [GPTShape(layers: 2, channels: 16, heads: 4, context: 6), GPTShape(layers: 1, channels: 24, heads: 2, context: 40)])
    func aGPTStepMakesTheProductsItsShapeLists(shape: GPTShape) {
        let (model, batch) = GPTTests.model(shape: shape)
        let recorded = GEMMRecording.record { _ = model.forwardBackward(batch, events: StepEvents()) }
        let listed = GEMMBenchmark(shape: shape, batch: batch.count).calls
        #expect(recorded.count == listed.count)
        #expect(Self.shapes(recorded.map(\.call)) == Self.shapes(listed))
        #expect(GEMMRecording.record {}.isEmpty, "a recording ends with its body")
    }

    @Test func anMLPStepMakesTheProductsItsShapeLists() {
        let model = MLP(widths: [7, 6, 5, 4], seed: 1), B = 5
        var rng = SplitMix64(seed: 2)
        let x = (0..<(B * 7)).map { _ in Float(rng.nextGaussian()) }, labels: [UInt8] = (0..<B).map { UInt8($0 % 4) }
        let recorded = GEMMRecording.record { _ = model.forwardBackward(x, labels: labels, batch: B) }
        #expect(Self.shapes(recorded.map(\.call)) == Self.shapes(GEMMBenchmark(model: model, batch: B).calls))
    }

    @Test func aReplayWritesNoWeight() {
        let (model, batch) = GPTTests.model()
        let recorded = GEMMRecording.record { _ = model.forwardBackward(batch, events: StepEvents()) }
        let before = model.parameterChecksum(), loss = model.forwardBackward(batch, events: StepEvents())
        let replay = GEMMBenchmark(recorded: recorded)
        for _ in 0..<3 { _ = replay.runOnce() }
        #expect(model.parameterChecksum() == before)
        #expect(model.forwardBackward(batch, events: StepEvents()) == loss, "the next step recomputes what the replay overwrote")
    }
}

extension GEMMRecordingTests {
    /// The replay's floating-point mode: subnormals flushed inside, the caller's mode back after.
    @Test func subnormalsFlushOnlyBetweenBeginAndRestore() {
        let tiny: [Float] = [Float.leastNonzeroMagnitude, 1]
        func product() -> Float { tiny[0] * tiny[1] }
        #expect(product() == Float.leastNonzeroMagnitude)
        let mode = rw_flush_denormals_begin()
        #if arch(x86_64)
        #expect(product() == 0)
        #endif
        rw_fp_mode_restore(mode)
        #expect(product() == Float.leastNonzeroMagnitude)
    }
}
