import Foundation
import Model

/// The memory one rank of a configuration needs, computed from the options alone before anything
/// is allocated, every product and sum overflow-checked: sizes too large for an `Int` are a
/// refusal in one line, never a trap. It counts the buffers Ringwatt allocates in proportion to
/// the configuration — weights, gradients, optimizer moments, the checkpoint's copy of them,
/// activations and their gradients, generated data — and not the fixed cost of the process
/// (the runtime, MPI, the BLAS buffers: about 100 MiB), so peak RSS is that much larger
/// (summary.json states both).
public struct MemoryEstimate: Equatable, Sendable, Codable {
    public var parameters: Int
    /// Weights, gradients and optimizer moments, and the checkpoint's copy of the state.
    public var stateBytes: Int
    /// Forward activations and the backward pass's gradients of them, for one batch.
    public var activationBytes: Int
    /// Data generated in memory (`--data synthetic:…`); files are bounded by the disk.
    public var dataBytes: Int
    public var bytesPerRank: Int

    enum CodingKeys: String, CodingKey {
        case parameters, stateBytes = "state_bytes", activationBytes = "activation_bytes", dataBytes = "data_bytes"
        case bytesPerRank = "bytes_per_rank"
    }

    public init(_ c: TrainConfig) throws {
        let checked = Checked()
        let floats: Int, activations: Int
        switch c.model {
        case .mlp:
            let pairs = zip(c.layers, c.layers.dropFirst())
            floats = try pairs.reduce(0) { try checked.add($0, checked.add(checked.mul($1.0, $1.1), $1.1)) }
            // Each layer's output and its gradient, and two scratch rows of the widest layer, for
            // the larger of the training and the evaluation batch.
            let rows = max(c.batchSize, c.evalBatch), widths = try c.layers.reduce(0) { try checked.add($0, $1) }
            activations = try checked.mul(checked.mul(rows, checked.add(checked.mul(2, widths), checked.mul(2, c.layers.max() ?? 0))), 4)
        case .gpt:
            let g = c.gpt, C = g.channels, V = GPTShape.vocabulary
            let block = try checked.add(checked.mul(12, checked.mul(C, C)), checked.mul(13, C))
            floats = try checked.add(checked.add(checked.mul(checked.add(V, g.context), C), checked.mul(g.layers, block)), checked.mul(2, C))
            // Per block: 16 floats per token and channel (LayerNorms, q k v, attention output,
            // the MLP's 4C twice, residuals) and the heads' T×T attention. Besides: 12 per token
            // and channel (the embedding, the final LayerNorm, backward's gradients of one block:
            // residual, LayerNorm, attention output, q k v, the MLP's 4C) and one T×T; the
            // logits (their gradient overwrites them).
            let tokens = try checked.mul(c.batchSize, g.context), T2 = try checked.mul(g.context, g.context)
            let perBlock = try checked.add(checked.mul(16, checked.mul(tokens, C)), checked.mul(checked.mul(c.batchSize, g.heads), T2))
            let besides = try checked.add(checked.add(checked.mul(12, checked.mul(tokens, C)), T2), checked.mul(tokens, V))
            let all = try checked.add(checked.mul(g.layers, perBlock), besides)
            activations = try checked.mul(all, 4)
        }
        parameters = floats
        // Weights, gradients, one moment (SGD) or two (Adam, AdamW), and the checkpoint's copy.
        let copies = c.optimizer == .sgd ? 3 : 4
        stateBytes = try checked.mul(checked.mul(floats, 4), 2 * copies - 1)
        activationBytes = activations
        if case let .synthetic(samples, features, _) = c.data {
            dataBytes = try checked.mul(checked.add(samples, 1), checked.add(features, 1))
        } else {
            dataBytes = 0
        }
        bytesPerRank = try checked.add(checked.add(stateBytes, activationBytes), dataBytes)
    }

    /// Refuses a configuration whose ranks on one machine need more than it has.
    public func check(ranksOnMachine: Int, machineBytes: Int = Int(clamping: ProcessInfo.processInfo.physicalMemory)) throws {
        let total = bytesPerRank.multipliedReportingOverflow(by: max(1, ranksOnMachine))
        guard total.overflow || total.partialValue > machineBytes else { return }
        throw RunError.configuration(
            "this configuration needs about \(Self.gib(bytesPerRank)) per rank (\(parameters) parameters: "
            + "\(Self.gib(stateBytes)) of weights, gradients and optimizer state; \(Self.gib(activationBytes)) of activations"
            + (dataBytes > 0 ? "; \(Self.gib(dataBytes)) of generated data" : "") + ")"
            + (ranksOnMachine > 1 ? " × \(ranksOnMachine) ranks on this machine" : "")
            + ", more than its \(Self.gib(machineBytes)) of memory; use a smaller --batch-size or model, or fewer ranks per machine")
    }

    /// "1.5 GiB", "340 MiB".
    public static func gib(_ bytes: Int) -> String {
        let b = Double(bytes)
        return bytes >= 1 << 30 ? String(format: "%.1f GiB", b / 1_073_741_824) : String(format: "%.0f MiB", b / 1_048_576)
    }

    /// Integer arithmetic that throws on overflow, naming what overflowed.
    private struct Checked {
        func mul(_ a: Int, _ b: Int) throws -> Int {
            let r = a.multipliedReportingOverflow(by: b)
            guard !r.overflow, a >= 0, b >= 0 else { throw Self.overflow }
            return r.partialValue
        }
        func add(_ a: Int, _ b: Int) throws -> Int {
            let r = a.addingReportingOverflow(b)
            guard !r.overflow else { throw Self.overflow }
            return r.partialValue
        }
        static let overflow = RunError.configuration(
            "these sizes overflow a 64-bit count of bytes (a model, batch or data set far beyond any machine's memory); use smaller --batch-size, --layers, --n-embd, --n-layer, --context or synthetic data")
    }
}
