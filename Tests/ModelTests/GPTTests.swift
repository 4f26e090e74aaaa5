import Foundation
import Testing
import Support
@testable import Model

/// The GPT's layers against finite differences, the whole model against an independent numpy
/// implementation (Tests/Oracles/reference_gpt.py), and its layout and reporting promises.
@Suite struct GPTTests {
    static func random(_ n: Int, _ rng: inout SplitMix64, scale: Double = 1) -> [Float] {
        (0..<n).map { _ in Float((rng.nextUniform() * 2 - 1) * scale) }
    }

    /// Central differences of `loss` at `count` sampled coordinates of `x` against `analytic`.
    static func expectGradient(_ name: String, _ x: inout [Float], _ analytic: [Float], h: Float = 1e-2,
                               rel: Double = 2e-2, abs: Double = 1e-3, samples: Int = 40, _ loss: ([Float]) -> Double) {
        var rng = SplitMix64(seed: UInt64(name.utf8.count) &* 977)
        for _ in 0..<min(samples, x.count) {
            let i = rng.nextInt(below: x.count), keep = x[i]
            x[i] = keep + h; let up = loss(x)
            x[i] = keep - h; let down = loss(x)
            x[i] = keep
            let numeric = (up - down) / Double(2 * h)
            #expect(Swift.abs(numeric - Double(analytic[i])) <= abs + rel * Swift.abs(numeric),
                    "\(name)[\(i)]: finite difference \(numeric), backward \(analytic[i])")
        }
    }

    /// Σ out ⊙ r: the loss whose gradient with respect to `out` is r.
    static func project(_ out: [Float], _ r: [Float]) -> Double { zip(out, r).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    @Test func layerNormMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 1)
        let N = 3, C = 8
        var x = Self.random(N * C, &rng), w = Self.random(C, &rng), b = Self.random(C, &rng)
        let r = Self.random(N * C, &rng)
        func run(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: N * C), m = [Float](repeating: 0, count: N), s = m
            layerNormForward(&out, &m, &s, x, w, b, N: N, C: C)
            return out
        }
        var m = [Float](repeating: 0, count: N), s = m, out = [Float](repeating: 0, count: N * C)
        layerNormForward(&out, &m, &s, x, w, b, N: N, C: C)
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: C), db = dw
        layerNormBackward(&dx, &dw, &db, r, x, w, m, s, N: N, C: C)
        Self.expectGradient("ln.x", &x, dx) { Self.project(run($0, w, b), r) }
        Self.expectGradient("ln.w", &w, dw) { Self.project(run(x, $0, b), r) }
        Self.expectGradient("ln.b", &b, db) { Self.project(run(x, w, $0), r) }
    }

    @Test func attentionMatchesFiniteDifferencesAndIsCausal() {
        var rng = SplitMix64(seed: 2)
        let B = 2, T = 5, C = 8, NH = 2
        var qkv = Self.random(B * T * 3 * C, &rng)
        let r = Self.random(B * T * C, &rng)
        func run(_ qkv: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: B * T * C), att = [Float](repeating: 0, count: B * NH * T * T)
            attentionForward(&out, &att, qkv, B: B, T: T, C: C, NH: NH)
            return out
        }
        var out = [Float](repeating: 0, count: B * T * C), att = [Float](repeating: 0, count: B * NH * T * T)
        attentionForward(&out, &att, qkv, B: B, T: T, C: C, NH: NH)
        var dqkv = [Float](repeating: 0, count: B * T * 3 * C), scratch = [Float](repeating: 0, count: T * T)
        attentionBackward(&dqkv, &scratch, r, qkv, att, B: B, T: T, C: C, NH: NH)
        Self.expectGradient("attention.qkv", &qkv, dqkv, samples: 120) { Self.project(run($0), r) }
        // The mask: changing the last position's q, k, v changes no earlier output.
        var later = qkv
        for i in 0..<(3 * C) { later[(T - 1) * 3 * C + i] += 1 }
        let a = run(qkv), z = run(later)
        #expect(Array(a[0..<((T - 1) * C)]) == Array(z[0..<((T - 1) * C)]), "row t sees only t2 ≤ t")
        #expect(att[T - 2 + 0 * T] == 0 && att[0 + 1] == 0, "masked probabilities are 0")
    }

    @Test func geluMatmulEncoderAndLossMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 3)
        var x = Self.random(50, &rng, scale: 3)
        let r = Self.random(50, &rng)
        func gelu(_ x: [Float]) -> [Float] { var o = x; geluForward(&o, x, count: x.count); return o }
        // In place over 5 rows of 10, adding the rows to the bias gradient of the layer before as
        // linearBiasBackward adds them.
        var dx = r, dbias = Self.random(10, &rng), dbiasWant = dbias
        geluBackward(&dx, x, addingRowsTo: &dbias, rows: 5, columns: 10)
        linearBiasBackward(&dbiasWant, dx, rows: 5, outputs: 10)
        #expect(dbias.map(\.bitPattern) == dbiasWant.map(\.bitPattern))
        Self.expectGradient("gelu", &x, dx) { Self.project(gelu($0), r) }

        let N = 4, C = 6, OC = 5
        var inp = Self.random(N * C, &rng), w = Self.random(OC * C, &rng), b = Self.random(OC, &rng)
        let rm = Self.random(N * OC, &rng)
        func mm(_ i: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var o = [Float](repeating: 0, count: N * OC); linearForward(&o, i, w, b, rows: N, inputs: C, outputs: OC); return o
        }
        var di = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: OC * C), db = [Float](repeating: 0, count: OC)
        linearBackward(&di, &dw, &db, rm, inp, w, rows: N, inputs: C, outputs: OC)
        Self.expectGradient("matmul.inp", &inp, di) { Self.project(mm($0, w, b), rm) }
        Self.expectGradient("matmul.w", &w, dw) { Self.project(mm(inp, $0, b), rm) }
        Self.expectGradient("matmul.b", &b, db) { Self.project(mm(inp, w, $0), rm) }

        let B = 2, T = 3, V = 7
        let tokens: [Int32] = [1, 6, 0, 6, 2, 1]
        var wte = Self.random(V * C, &rng), wpe = Self.random(T * C, &rng)
        let re = Self.random(B * T * C, &rng)
        func enc(_ wte: [Float], _ wpe: [Float]) -> [Float] {
            var o = [Float](repeating: 0, count: B * T * C); encoderForward(&o, tokens, wte, wpe, B: B, T: T, C: C); return o
        }
        var dwte = [Float](repeating: 0, count: V * C), dwpe = [Float](repeating: 0, count: T * C)
        encoderBackward(&dwte, &dwpe, re, tokens, B: B, T: T, C: C)
        Self.expectGradient("encoder.wte", &wte, dwte) { Self.project(enc($0, wpe), re) }
        Self.expectGradient("encoder.wpe", &wpe, dwpe) { Self.project(enc(wte, $0), re) }

        var logits = Self.random(B * T * V, &rng, scale: 2)
        func ce(_ l: [Float]) -> Double { var p = l; return crossEntropyForward(&p, tokens, N: B * T, V: V) / Double(B * T) }
        var probs = logits
        _ = crossEntropyForward(&probs, tokens, N: B * T, V: V)
        crossEntropyBackward(&probs, tokens, N: B * T, V: V, scale: 1 / Float(B * T))
        Self.expectGradient("cross-entropy", &logits, probs) { ce($0) }
    }

    /// A tiny model with weights far from initialisation, so every path carries signal.
    static func model(seed: UInt64 = 5, shape: GPTShape = GPTShape(layers: 2, channels: 16, heads: 4, context: 6)) -> (GPT, TokenBatch) {
        let model = GPT(shape: shape, seed: seed, gradientSlack: 1)
        var rng = SplitMix64(seed: seed)
        for i in 0..<model.parameterCount { model.parameters.pointer[i] += Float((rng.nextUniform() * 2 - 1) * 0.3) }
        let batch = TokenBatch(capacity: 3, context: shape.context)
        let text = Array("the quick brown fox jumps".utf8)
        for b in 0..<3 { text.withUnsafeBufferPointer { batch.set(row: b, window: $0.baseAddress! + 4 * b) } }
        batch.count = 3
        return (model, batch)
    }

    /// The `small` preset's depth and heads (L 6, H 6) at a width and context a test can afford.
    static let smallLike = GPTShape(layers: 6, channels: 24, heads: 6, context: 6)

    @Test(arguments: [GPTShape(layers: 2, channels: 16, heads: 4, context: 6), smallLike])
    func tinyModelMatchesFiniteDifferences(shape: GPTShape) {
        let (model, batch) = Self.model(shape: shape)
        _ = model.forwardBackward(batch, events: StepEvents())
        var params = model.parameters.array
        let grads = Array(model.gradients.buffer[0..<model.parameterCount])
        Self.expectGradient("gpt", &params, grads, h: 1e-2, rel: 5e-2, abs: 2e-4, samples: 300) { p in
            model.parameters.copy(from: p)
            return model.forward(batch) / Double(batch.count * model.shape.context)
        }
    }

    /// Loss and every gradient tensor against Tests/Oracles/reference_gpt.py (float64 numpy), within 1e-4 of
    /// the tensor's largest element.
    @Test(arguments: [GPTShape(layers: 2, channels: 16, heads: 4, context: 6), smallLike])
    func matchesTheNumpyReference(shape: GPTShape) throws {
        let (model, batch) = Self.model(seed: 11, shape: shape)
        let loss = model.forwardBackward(batch, events: StepEvents())
        let s = model.shape, B = batch.count, T = s.context
        var input = Data()
        for v in [s.layers, s.channels, s.heads, s.context, B] { withUnsafeBytes(of: Int32(v).littleEndian) { input.append(contentsOf: $0) } }
        input.append(UnsafeBufferPointer(model.parameters.buffer))
        input.append(UnsafeBufferPointer(start: batch.inputs, count: B * T))
        input.append(UnsafeBufferPointer(start: batch.targets, count: B * T))
        let dir = NSTemporaryDirectory() + "ringwatt-gpt-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try input.write(to: URL(fileURLWithPath: dir + "/in"))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
            + "/Oracles/reference_gpt.py"
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")  // the python3 install-deps.sh provisioned
        python.arguments = ["python3", script, dir + "/in", dir + "/out"]
        let errors = Pipe()
        python.standardError = errors
        try python.run()
        python.waitUntilExit()
        let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(python.terminationStatus == 0, "Tests/Oracles/reference_gpt.py failed (numpy installed? bash scripts/install-deps.sh): \(said)")
        let out = try Data(contentsOf: URL(fileURLWithPath: dir + "/out"))
        let reference = out.withUnsafeBytes { raw in (0..<(out.count / 8)).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) } }
        try #require(reference.count == 1 + model.parameterCount)
        #expect(Swift.abs(Double(loss) - reference[0]) <= 1e-4 * reference[0], "loss \(loss) vs \(reference[0])")
        // Every gradient tensor: the largest difference relative to the tensor's largest element.
        let C = s.channels
        let block = [("ln1w", C), ("ln1b", C), ("qkvw", 3 * C * C), ("qkvb", 3 * C), ("attprojw", C * C), ("attprojb", C),
                     ("ln2w", C), ("ln2b", C), ("fcw", 4 * C * C), ("fcb", 4 * C), ("fcprojw", 4 * C * C), ("fcprojb", C)]
        let tensors = [("wte", 256 * C), ("wpe", T * C)] + (0..<s.layers).flatMap { l in block.map { ("\(l).\($0.0)", $0.1) } }
            + [("lnfw", C), ("lnfb", C)]
        var offset = 0
        for (name, count) in tensors {
            let ref = reference[(1 + offset)..<(1 + offset + count)]
            let diff = (0..<count).map { Swift.abs(Double(model.gradients.pointer[offset + $0]) - ref[1 + offset + $0]) }.max()!
            let scale = ref.map(Swift.abs).max()!
            #expect(scale > 0 && diff <= 1e-4 * scale, "\(name): largest difference \(diff), largest element \(scale)")
            offset += count
        }
        #expect(offset == model.parameterCount)
    }

    @Test func layoutBoundariesAndFinality() {
        let (model, batch) = Self.model()
        let s = model.shape, C = s.channels
        #expect(GPTShape.standard.parameterCount == 3_257_856, "the issue's 3.26 M")
        #expect(GPTShape.small.parameterCount == 10_844_160, "the small preset's 10.8 M")
        #expect(model.parameterCount == s.parameterCount && model.gradients.count == s.parameterCount + 1)
        #expect(model.decayedParameterRanges.map(\.count).reduce(0, +) == (256 + s.context) * C + s.layers * 12 * C * C)
        #expect(model.parameterGroups.map(\.count).reduce(0, +) == model.parameterCount)
        let expected = model.gradientBoundaries()
        #expect(expected.last == 0 && zip(expected, expected.dropFirst()).allSatisfy { $0 > $1 })
        var reported: [Int] = []
        var snapshots: [[UInt32]] = []
        _ = model.forwardBackward(batch, events: StepEvents(gradientsFinal: { k in
            reported.append(k)
            snapshots.append((k..<model.parameterCount).map { model.gradients.pointer[$0].bitPattern })
        }))
        let final = (0..<model.parameterCount).map { model.gradients.pointer[$0].bitPattern }
        #expect(reported == expected)
        for (k, snapshot) in zip(reported, snapshots) {
            #expect(snapshot == Array(final[k...]), "gradients from \(k) changed after they were reported final")
        }
        let again = Self.model().0
        _ = again.forwardBackward(batch, events: StepEvents())
        #expect((0..<again.parameterCount).map { again.gradients.pointer[$0].bitPattern } == final, "same seed, same bits")
    }
}
