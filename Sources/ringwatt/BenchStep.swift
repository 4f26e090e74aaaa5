import ArgumentParser
import Datasets
import Energy
import Foundation
import Model
import Support
import RunFiles
import Trainer

/// The single-rank training step against the limit set by BLAS, measured interleaved in one run.
struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-step",
        abstract: "Time one rank's training step (batch conversion, forward, backward, optimizer) against cblas_sgemm on the step's own shapes.",
        discussion: "Set OPENBLAS_NUM_THREADS=1 for one core. Prints figures; asserts nothing.")

    @Option(help: "Model: mlp or gpt.") var model = ModelKind.mlp
    @Option(help: "MLP layer widths.") var layers = "784-256-128-10"
    @Option(help: "GPT size: standard or tiny.") var size = GPTSize.standard
    @Option(help: "Batch size: samples (mlp, default 256) or sequences of T tokens (gpt, default 8).") var batchSize: Int?
    @Option(help: "Rounds; each times --steps training steps and --steps GEMM-only steps.") var rounds = 9
    @Option(help: "Steps per round.") var steps = 50
    @Option(help: "Also time rounds with the power sampler running at this rate (0: skip).") var sampleHz = 100.0
    @Option(help: "Power source for the sampled rounds: auto, rapl, hwmon, nvml or estimate.") var powerSource = SourcePreference.auto

    func validate() throws {
        guard (batchSize ?? 1) > 0, rounds > 0, steps > 0 else { throw ValidationError("--batch-size, --rounds and --steps must be positive") }
        let widths = try TrainConfig.parseLayers(layers)
        guard widths.count >= 2, widths.allSatisfy({ $0 > 0 }) else { throw ValidationError("--layers widths must be positive") }
    }

    func run() throws {
        if model == .gpt { return try runGPT() }
        let batchSize = self.batchSize ?? 256
        let widths = try TrainConfig.parseLayers(layers)
        let model = MLP(widths: widths, seed: 1)
        let optimizer = Optimizer(settings: OptimizerSettings(), parameterCount: model.parameterCount)
        // Batches as the trainer draws them: a shuffled order over a training set of Fashion-MNIST's
        // size (47 MB of pixels, far beyond the caches), the next batch's rows prefetched.
        let data = try Dataset.synthetic(count: 60_000, features: widths[0], classes: widths.last!, seed: 1)
        let source = try LabelledImageSource(train: data, test: data, ranks: 1, rank: 0, seed: 1,
                                             batchSize: batchSize, evaluationBatchSize: batchSize)
        let batch = source.makeTrainingBatch()
        let gemm = GEMMBenchmark(model: model, batch: batchSize)
        var position = 0

        // The step's parts, summed over a round: conversion, forward/backward, guard and optimizer.
        var parts = [0.0, 0.0, 0.0]
        func trainingSteps() -> Double {
            let t0 = monotonicSeconds()
            for _ in 0..<steps {
                let epoch = position / source.batchesPerEpoch, index = position % source.batchesPerEpoch
                position += 1
                let a = monotonicSeconds()
                source.fillTraining(batch, epoch: epoch, step: index)
                source.prefetchTraining(epoch: epoch, step: index + 1)
                let b = monotonicSeconds()
                _ = model.forwardBackward(batch, events: StepEvents())
                let c = monotonicSeconds()
                optimizer.guardedStep(parameters: model.parameters, gradients: model.gradients, learningRate: 0.01, maxNorm: 0)
                parts[0] += b - a; parts[1] += c - b; parts[2] += monotonicSeconds() - c
            }
            return (monotonicSeconds() - t0) / Double(steps)
        }
        func gemmSteps() -> Double {
            var total = 0.0
            for _ in 0..<steps { total += gemm.runOnce() }
            return total / Double(steps)
        }
        _ = trainingSteps(); _ = gemmSteps()  // warm-up
        parts = [0, 0, 0]
        let selection = try SourceSelection.choose(powerSource == .none ? .estimate : powerSource, estimate: EstimateModel(),
                                               ranksOnMachine: 1, readsMachineCounters: true)
        let sampler = PowerSampler(sources: selection.sources, hz: sampleHz, epoch: monotonicSeconds())
        var stepTimes: [Double] = [], gemmTimes: [Double] = [], sampledTimes: [Double] = []
        func sampledSteps() -> Double {
            sampler.start()
            defer { sampler.stop() }
            return trainingSteps()
        }
        for round in 0..<rounds {
            // Sampled and unsampled rounds alternate which goes first, so drift favours neither.
            if sampleHz > 0 && round % 2 == 1 { sampledTimes.append(sampledSteps()) }
            stepTimes.append(trainingSteps())
            if sampleHz > 0 && round % 2 == 0 { sampledTimes.append(sampledSteps()) }
            gemmTimes.append(gemmSteps())
        }
        let step = median(stepTimes), ceiling = median(gemmTimes)
        let flops = model.trainingFLOPs(batch: batchSize)
        let timed = Double(rounds * steps * (sampleHz > 0 ? 2 : 1))  // parts were summed over every timed step
        let threads = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"
        print("model \(layers), batch \(batchSize), OPENBLAS_NUM_THREADS=\(threads), \(rounds) rounds × \(steps) steps (medians)")
        print(Self.machineLine)
        print(String(format: "training step      %8.3f ms  %7.2f GFLOP/s  %9.0f samples/s", step * 1e3, flops / step / 1e9, Double(batchSize) / step))
        print(String(format: "sgemm, same shapes %8.3f ms  %7.2f GFLOP/s", ceiling * 1e3, flops / ceiling / 1e9))
        print(String(format: "  of which: batch conversion %.1f µs, forward+backward %.1f µs, guard and optimizer %.1f µs (means per step)",
                     1e6 * parts[0] / timed, 1e6 * parts[1] / timed, 1e6 * parts[2] / timed))
        print(String(format: "fraction of the BLAS ceiling: %.3f (targets: ≥ 0.85 at batch 64, ≥ 0.90 at 256)", ceiling / step))
        if sampleHz > 0 {
            // Each round's sampled steps against the same round's unsampled ones: the median of the
            // paired overheads and their spread (single rounds on a shared host swing by several %).
            let overheads = zip(sampledTimes, stepTimes).map { 100 * ($0 / $1 - 1) }
            print(String(format: "with power sampling at %.0f Hz (%@): %.3f ms; overhead per round: median %+.2f %%, "
                         + "spread %+.2f to %+.2f %% over %d rounds (target ≤ 1 %%)", sampleHz, selection.label,
                         median(sampledTimes) * 1e3, median(overheads), overheads.min()!, overheads.max()!, rounds))
        }
    }

    /// The GPT's step (forward, backward, clipping, AdamW) on a fixed batch of the default corpus
    /// against cblas_sgemm on the step's own shapes, interleaved round by round.
    func runGPT() throws {
        let batch = batchSize ?? 8, shape = size.shape
        let config = TrainConfig.defaults(for: .gpt)
        let gpt = GPT(shape: shape, seed: 1)
        let optimizer = Optimizer(settings: OptimizerSettings(kind: .adamw, weightDecay: config.weightDecay),
                                  parameterCount: gpt.parameterCount, decayed: gpt.decayedParameterRanges)
        let source = try ByteWindowSource(corpus: TextCorpus.load(TextCorpus.fortunes), context: shape.context, batchSize: batch,
                                          ranks: 1, rank: 0, seed: 1)
        let tokens = source.makeTrainingBatch()
        source.fillTraining(tokens, epoch: 0, step: 0)
        let gemm = GEMMBenchmark(shape: shape, batch: batch)
        func trainingSteps() -> Double {
            let t0 = monotonicSeconds()
            for _ in 0..<steps {
                _ = gpt.forwardBackward(tokens, events: StepEvents())
                optimizer.guardedStep(parameters: gpt.parameters, gradients: gpt.gradients, learningRate: 1e-4,
                                      maxNorm: config.gradClip)
            }
            return (monotonicSeconds() - t0) / Double(steps)
        }
        func gemmSteps() -> Double { (0..<steps).map { _ in gemm.runOnce() }.reduce(0, +) / Double(steps) }
        _ = trainingSteps(); _ = gemmSteps()  // warm-up
        var stepTimes: [Double] = [], gemmTimes: [Double] = []
        for _ in 0..<rounds {
            stepTimes.append(trainingSteps())
            gemmTimes.append(gemmSteps())
        }
        let step = median(stepTimes), ceiling = median(gemmTimes)
        let n = batch * shape.context, flops = gpt.trainingFLOPs(samples: n)
        let threads = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"
        print("model \(gpt.summary), \(batch) × \(shape.context) tokens, OPENBLAS_NUM_THREADS=\(threads), "
              + "\(rounds) rounds × \(steps) steps (medians; spread over rounds in brackets)")
        print(Self.machineLine)
        print(String(format: "training step      %8.2f ms [%.2f-%.2f]  %7.2f GFLOP/s  %7.0f tokens/s", step * 1e3,
                     stepTimes.min()! * 1e3, stepTimes.max()! * 1e3, flops / step / 1e9, Double(n) / step))
        print(String(format: "sgemm, same calls  %8.2f ms [%.2f-%.2f]  %7.2f GFLOP/s", ceiling * 1e3, gemmTimes.min()! * 1e3,
                     gemmTimes.max()! * 1e3, flops / ceiling / 1e9))
        print(String(format: "fraction of the BLAS ceiling: %.3f (target ≥ 0.80); FLOPs = 6 × parameters × tokens + attention (full T×T)",
                     ceiling / step))
    }
}

extension BenchStep {
    /// What the figures depend on: the CPU and the BLAS core.
    static var machineLine: String { "\(CPUInfo.current?.description ?? "CPU unknown"); BLAS \(BLASSetup.info.line)" }
}

/// The middle value (the upper of the two middles for an even count).
private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}
