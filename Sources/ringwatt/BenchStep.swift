import ArgumentParser
import Datasets
import Energy
import Foundation
import Model
import RunFiles
import Support
import Trainer

/// One rank's training step (the trainer's own: `TrainingStep`) against the limit set by BLAS:
/// the same step's cblas_sgemm calls alone, measured interleaved in one run.
struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-step",
        abstract: "Time one rank's training step (batch, forward, backward, guard and optimizer) against cblas_sgemm on the step's own calls.",
        discussion: "Batch: 256 samples (mlp) or 8 sequences (gpt) unless --batch-size. Set OPENBLAS_NUM_THREADS=1 for one core. The step is the trainer's, with the model's default optimizer and schedule; the MLP's batches come from a synthetic set of Fashion-MNIST's size in shuffled order, the GPT's from the default corpus. Prints figures; asserts nothing.")

    @OptionGroup var step: StepOptions
    @Option(help: "Rounds; each times --steps training steps and --steps GEMM-only steps (default: 9 mlp, 5 gpt).") var rounds: Int?
    @Option(help: "Steps per round (default: 50 mlp, 5 gpt).") var steps: Int?
    @Option(help: "Also time rounds with the power sampler running at this rate (0: skip).") var sampleHz = 100.0
    @Option(help: "Power source for the sampled rounds: auto, rapl, hwmon, nvml or estimate.") var powerSource = SourcePreference.auto

    func validate() throws {
        guard (rounds ?? 1) > 0, (steps ?? 1) > 0 else { throw ValidationError("--rounds and --steps must be positive") }
    }

    func run() throws {
        var config = try step.config(mlpBatch: 256, gptBatch: 8)
        if step.model == .gpt {
            let (gpt, source) = try Workloads.languageModel(config, ranks: 1, rank: 0, gradientSlack: 0)
            print("model \(gpt.summary), \(config.batchSize) × \(config.gpt.context) tokens" + header(config))
            try measure(TrainingStep(model: gpt, source: source, config: config), step.gemm(config),
                        flops: gpt.trainingFLOPs(samples: config.batchSize * config.gpt.context), unit: "tokens",
                        perStep: config.batchSize * config.gpt.context, defaults: (5, 5))
        } else {
            config.data = .synthetic(samples: 70_000, features: config.layers[0], classes: config.layers.last!)
            let (mlp, source) = try Workloads.classifier(config, ranks: 1, rank: 0, gradientSlack: 0)
            print("model \(step.layers), batch \(config.batchSize)" + header(config))
            try measure(TrainingStep(model: mlp, source: source, config: config), step.gemm(config),
                        flops: mlp.trainingFLOPs(batch: config.batchSize), unit: "samples", perStep: config.batchSize, defaults: (9, 50))
        }
    }

    private func header(_ config: TrainConfig) -> String {
        let threads = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"
        return ", \(config.optimizer.rawValue), OPENBLAS_NUM_THREADS=\(threads)\n\(Self.machineLine)"
    }

    /// Times the step against its GEMM calls (`StepBenchmark`) and prints the figures.
    private func measure<M, S>(_ work: TrainingStep<M, S>, _ gemm: GEMMBenchmark, flops: Double, unit: String, perStep: Int,
                               defaults: (rounds: Int, steps: Int)) throws {
        let rounds = self.rounds ?? defaults.rounds, steps = self.steps ?? defaults.steps
        let b = try StepBenchmark(work, scratchGEMM: gemm, rounds: rounds, steps: steps, sampleHz: sampleHz, powerSource: powerSource)
        let step = median(b.stepTimes)!, ceiling = median(b.gemmTimes)!, scratch = median(b.scratchGemmTimes)!
        print("\(rounds) rounds × \(steps) steps (medians; spread over rounds in brackets)")
        print(String(format: "training step      %9.3f ms [%.3f-%.3f]  %7.2f GFLOP/s  %9.0f %@/s", step * 1e3, b.stepTimes.min()! * 1e3,
                     b.stepTimes.max()! * 1e3, flops / step / 1e9, Double(perStep) / step, unit))
        print(String(format: "sgemm, same calls  %9.3f ms [%.3f-%.3f]  %7.2f GFLOP/s  (recorded from a step, on its own buffers)",
                     ceiling * 1e3, b.gemmTimes.min()! * 1e3, b.gemmTimes.max()! * 1e3, flops / ceiling / 1e9))
        print(String(format: "  on cache-resident scratch %9.3f ms [%.3f-%.3f]  %7.2f GFLOP/s  (the step's data does not fit: a bound it cannot reach)",
                     scratch * 1e3, b.scratchGemmTimes.min()! * 1e3, b.scratchGemmTimes.max()! * 1e3, flops / scratch / 1e9))
        print(String(format: "  of which: batch %.1f µs, forward+backward %.1f µs, guard and optimizer %.1f µs (means per step)",
                     1e6 * b.parts.batch, 1e6 * b.parts.forwardBackward, 1e6 * b.parts.update))
        print(String(format: "fraction of the BLAS ceiling: %.3f (targets: MLP ≥ 0.85 at batch 64, ≥ 0.90 at 256; GPT ≥ 0.80); "
                     + "of the scratch bound %.3f", ceiling / step, scratch / step))
        guard sampleHz > 0 else { return }
        // Each round's sampled steps against the same round's unsampled ones: the median of the
        // paired overheads and their spread (single rounds on a shared host swing by several %).
        let overheads = zip(b.sampledTimes, b.stepTimes).map { 100 * ($0 / $1 - 1) }
        print(String(format: "with power sampling at %.0f Hz (%@): %.3f ms; overhead per round: median %+.2f %%, "
                     + "spread %+.2f to %+.2f %% over %d rounds (target ≤ 1 %%)", sampleHz, b.samplerLabel,
                     median(b.sampledTimes)! * 1e3, median(overheads)!, overheads.min()!, overheads.max()!, rounds))
    }
}

extension BenchStep {
    /// What the figures depend on: the CPU and the BLAS core.
    static var machineLine: String { "\(CPUInfo.current?.description ?? "CPU unknown"); BLAS \(BLASSetup.info.line)" }
}
