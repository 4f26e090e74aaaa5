import Foundation
import Testing
@testable import Model
import Support

/// The sampler reads the training forward pass: its probabilities at every position are the
/// forward pass's at that position, bit for bit; greedy picks the most likely byte; draws are a
/// function of the seed.
@Suite struct TextSamplerTests {
    @Test func theSamplersProbabilitiesAreTheTrainingForwardPasss() {
        let gpt = GPT(shape: .tiny, seed: 7)
        let T = GPTShape.tiny.context, V = GPTShape.vocabulary
        let window = (0..<T).map { UInt8(($0 * 37 + 11) % 256) }
        let batch = TokenBatch(capacity: 1, context: T)
        for (i, b) in window.enumerated() { batch.inputs[i] = Int32(b) }
        batch.count = 1
        gpt.forward(batch)
        let full = Array(UnsafeBufferPointer(start: gpt.acts!.logits.pointer, count: T * V))
        for k in 0..<T {
            let mine = gpt.nextByteProbabilities(after: window.prefix(k + 1)[...])
            #expect(mine.map(\.bitPattern) == full[(k * V)..<((k + 1) * V)].map(\.bitPattern), "position \(k)")
            #expect(abs(mine.reduce(0, +) - 1) < 1e-4)
        }
    }

    @Test func greedyTakesTheMostLikelyAndDrawsFollowTheSeed() {
        let gpt = GPT(shape: .tiny, seed: 7)
        var p = [Float](repeating: 0.001, count: 256)
        p[65] = 0.5; p[66] = 0.3
        var rng = SplitMix64(seed: 1)
        #expect(TextSampler(model: gpt, temperature: 0, topK: nil).pick(p, &rng) == 65)
        #expect(TextSampler(model: gpt, temperature: -1, topK: nil).pick(p, &rng) == 65)
        // Top-2 at temperature 1: only 65 and 66 are ever drawn, in about their 5:3 ratio.
        let sampler = TextSampler(model: gpt, temperature: 1, topK: 2)
        var counts = [UInt8: Int]()
        for _ in 0..<4000 { counts[sampler.pick(p, &rng), default: 0] += 1 }
        #expect(Set(counts.keys) == [65, 66])
        let ratio = Double(counts[65]!) / Double(counts[66]!)
        #expect(ratio > 5.0 / 3 * 0.85 && ratio < 5.0 / 3 * 1.15, "\(counts)")
        // The same seed, the same text; another seed, other text (an untrained model is near uniform).
        let a = TextSampler(model: gpt, temperature: 1, topK: nil)
        #expect(a.generate(prompt: [], length: 40, seed: 5) == a.generate(prompt: [], length: 40, seed: 5))
        #expect(a.generate(prompt: [], length: 40, seed: 5) != a.generate(prompt: [], length: 40, seed: 6))
        // A prompt longer than the context is windowed to its last T bytes.
        let long = Array(repeating: UInt8(ascii: "x"), count: 3 * GPTShape.tiny.context)
        #expect(a.generate(prompt: long, length: 5, seed: 1).count == 5)
    }
}
