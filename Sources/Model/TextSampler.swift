import Foundation
import Support

extension GPT {
    /// The next byte's probabilities after `window` (1…T bytes): the training forward pass on one
    /// row holding the window left-aligned (the causal mask makes what follows it irrelevant), read
    /// at the window's last position. The same computation as training's, so the same bits.
    public func nextByteProbabilities(after window: ArraySlice<UInt8>) -> [Float] {
        let T = shape.context, V = GPTShape.vocabulary
        precondition(!window.isEmpty && window.count <= T, "a window of 1…\(T) bytes")
        let batch = TokenBatch(capacity: 1, context: T)
        for (i, byte) in window.enumerated() { batch.inputs[i] = Int32(byte) }
        batch.count = 1
        forward(batch)
        let row = acts!.logits.pointer + (window.count - 1) * V
        return Array(UnsafeBufferPointer(start: row, count: V))
    }
}

/// Text from a trained GPT: each next byte drawn from the model's distribution after the last T
/// bytes of the prompt and what came since, at `temperature` (≤ 0: the most likely byte), among
/// the `topK` most likely (nil: all), by a generator seeded with `seed` — the same text for the
/// same seed.
public struct TextSampler {
    public let model: GPT
    public var temperature: Double
    public var topK: Int?

    public init(model: GPT, temperature: Double, topK: Int?) {
        self.model = model; self.temperature = temperature; self.topK = topK
    }

    /// `length` bytes continuing `prompt` (an empty prompt starts from a newline).
    public func generate(prompt: [UInt8], length: Int, seed: UInt64) -> [UInt8] {
        var text = prompt.isEmpty ? [UInt8(ascii: "\n")] : prompt
        var rng = SplitMix64(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(length)
        for _ in 0..<length {
            let window = text.suffix(model.shape.context)
            let next = pick(model.nextByteProbabilities(after: window), &rng)
            text.append(next); out.append(next)
        }
        return out
    }

    /// One byte from probabilities `p`: the argmax when greedy, else p^(1/T) over the top k,
    /// renormalised (p^(1/T) ∝ softmax(logits / T)), drawn by inverse CDF in double precision.
    func pick(_ p: [Float], _ rng: inout SplitMix64) -> UInt8 {
        let order = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
        guard temperature > 0 else { return UInt8(order[0]) }
        let kept = order.prefix(max(1, min(topK ?? p.count, p.count)))
        let weights = kept.map { p[$0] > 0 ? pow(Double(p[$0]), 1 / temperature) : 0 }  // an underflowed probability stays impossible
        let total = weights.reduce(0, +)
        guard total > 0, total.isFinite else { return UInt8(kept.first!) }
        var u = rng.nextUniform() * total
        for (index, w) in zip(kept, weights) {
            u -= w
            if u < 0 { return UInt8(index) }
        }
        return UInt8(kept.last!)
    }
}
