import Foundation
import Model
import RunFiles

/// A trained model read back from its run directory: the configuration from summary.json (or the
/// checkpoint), the parameters from weights.bin (little-endian float32, the model's flat layout)
/// or from the checkpoint.
public enum LoadedModel {
    /// The run's GPT and where its parameters came from ("final weights", "checkpoint at iteration N").
    public static func gpt(_ directory: String, preferCheckpoint: Bool = false) throws -> (GPT, String) {
        let weightsPath = directory + "/weights.bin"
        let haveWeights = FileManager.default.fileExists(atPath: weightsPath)
        var config: TrainConfig
        if case let .figures(summary)? = try? SummaryFile.read(directory: directory), haveWeights, !preferCheckpoint {
            config = summary.config
            try requireGPT(config, directory)
            let model = GPT(shape: config.gpt, seed: config.seed)
            guard let data = FileManager.default.contents(atPath: weightsPath), data.count == model.parameterCount * 4 else {
                let size = (try? FileManager.default.attributesOfItem(atPath: weightsPath)[.size] as? Int) ?? 0
                throw RunError.runDirectory("\(weightsPath) holds \(size) bytes; this run's GPT needs \(model.parameterCount * 4) "
                                            + "(truncated or from another model): sample from the checkpoint with --checkpoint")
            }
            data.withUnsafeBytes { raw in
                for i in 0..<model.parameterCount { model.parameters.pointer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            }
            return (model, "final weights of \(directory)")
        }
        guard FileManager.default.fileExists(atPath: directory + "/" + Checkpoint.fileName) else {
            throw RunError.runDirectory("\(directory) holds neither weights.bin nor \(Checkpoint.fileName) (with a summary): not a finished or checkpointed run")
        }
        let saved = try Checkpoint.read(directory: directory)
        config = saved.header.config
        try requireGPT(config, directory)
        let model = GPT(shape: config.gpt, seed: config.seed)
        guard saved.parameters.count == model.parameterCount else {
            throw RunError.checkpoint("\(directory)'s checkpoint holds \(saved.parameters.count) parameters; its GPT needs \(model.parameterCount)")
        }
        model.parameters.pointer.update(from: saved.parameters, count: model.parameterCount)
        return (model, "checkpoint at iteration \(saved.header.step) of \(directory)")
    }

    private static func requireGPT(_ config: TrainConfig, _ directory: String) throws {
        guard config.model == .gpt else {
            throw RunError.configuration("\(directory) is a run of the MLP (--model mlp); sampling text needs a run of --model gpt")
        }
    }
}
