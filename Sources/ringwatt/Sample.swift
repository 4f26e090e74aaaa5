import ArgumentParser
import Foundation
import Model
import RunFiles
import Trainer

/// Text from a trained language-model run: what a person looks at to judge the loss.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write text continuing a prompt, from a GPT run's final weights (or its checkpoint if the run did not finish).",
        discussion: "One process, no MPI. Bytes that are not valid UTF-8 are shown as U+FFFD. The same --seed gives the same text.")

    @Argument(help: "A run directory of `ringwatt train --model gpt`.") var runDirectory: String
    @Option(help: "Text to continue (the last T bytes are the model's window).") var prompt = "\n"
    @Option(help: "Bytes to write.") var length = 200
    @Option(help: "Sampling temperature; 0 or less: always the most likely byte (greedy).") var temperature = 0.8
    @Option(help: "Draw among the K most likely bytes only (0: all 256).") var topK = 40
    @Option(help: "Seed of the draws.") var seed: UInt64 = 1
    @Flag(help: "Use the checkpoint even when final weights exist.") var checkpoint = false

    func validate() throws {
        guard length > 0, length <= 1_000_000 else { throw ValidationError("--length must be in 1…1000000") }
        guard temperature.isFinite else { throw ValidationError("--temperature must be a number") }
        guard topK >= 0 else { throw ValidationError("--top-k must be ≥ 0 (0: all)") }
    }

    func run() throws {
        let (model, from) = try LoadedModel.gpt(runDirectory, preferCheckpoint: checkpoint)
        FileHandle.standardError.write(Data("sample: \(model.summary), \(from)\n".utf8))
        let sampler = TextSampler(model: model, temperature: temperature, topK: topK == 0 ? nil : topK)
        let bytes = sampler.generate(prompt: Array(prompt.utf8), length: length, seed: seed)
        print(prompt + String(decoding: bytes, as: UTF8.self))
    }
}
