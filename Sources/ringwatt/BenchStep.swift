import ArgumentParser
import Datasets
import Energy
import Foundation
import Model
import Support
import Trainer

/// The single-rank training step against the limit set by BLAS, measured interleaved in one run.
struct BenchStep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-step",
        abstract: "Time one rank's training step (batch conversion, forward, backward, optimizer) against cblas_sgemm on the step's own shapes.",
        discussion: "Set OPENBLAS_NUM_THREADS=1 for one core. Prints figures; asserts nothing.")

    @Option(help: "Layer widths.") var layers = "784-256-128-10"
    @Option(help: "Batch size.") var batchSize = 256
    @Option(help: "Rounds; each times --steps training steps and --steps GEMM-only steps.") var rounds = 7
    @Option(help: "Steps per round.") var steps = 50
    @Option(help: "Also time rounds with the power sampler running at this rate (0: skip).") var sampleHz = 100.0
    @Option(help: "Power source for the sampled rounds: auto, rapl, hwmon, nvml or estimate.") var powerSource = SourcePreference.auto

    func validate() throws {
        guard batchSize > 0, rounds > 0, steps > 0 else { throw ValidationError("--batch-size, --rounds and --steps must be positive") }
        let widths = try TrainConfig.parseLayers(layers)
        guard widths.count >= 2, widths.allSatisfy({ $0 > 0 }) else { throw ValidationError("--layers widths must be positive") }
    }

    func run() throws {
        let widths = try TrainConfig.parseLayers(layers)
        let model = MLP(widths: widths, seed: 1)
        let optimizer = Optimizer(settings: OptimizerSettings(), parameterCount: model.parameterCount)
        let data = try Dataset.synthetic(count: batchSize * 4, features: widths[0], classes: widths.last!, seed: 1)
        let converter = BatchConverter()
        let x = FloatBuffer(count: batchSize * widths[0])
        var y = [UInt8](repeating: 0, count: batchSize)
        let gemm = GEMMBenchmark(model: model, batch: batchSize)
        let order = (0..<Int32(data.count)).map { $0 }

        func trainingSteps() -> Double {
            let t0 = monotonicSeconds()
            for s in 0..<steps {
                let lo = (s % 4) * batchSize
                y.withUnsafeMutableBufferPointer { converter.fill(x.pointer, $0.baseAddress!, from: data, indices: order[lo..<(lo + batchSize)]) }
                _ = y.withUnsafeBufferPointer { model.forwardBackward(x.pointer, labels: $0.baseAddress!, batch: batchSize) }
                optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: 0.01)
            }
            return (monotonicSeconds() - t0) / Double(steps)
        }
        func gemmSteps() -> Double {
            var total = 0.0
            for _ in 0..<steps { total += gemm.runOnce() }
            return total / Double(steps)
        }
        _ = trainingSteps(); _ = gemmSteps()  // warm-up
        let selection = try SourceSelection.choose(powerSource == .none ? .estimate : powerSource, estimate: EstimateModel(),
                                               ranksOnNode: 1, isNodeLeader: true)
        let sampler = PowerSampler(sources: selection.sources, hz: sampleHz, epoch: monotonicSeconds())
        var stepTimes: [Double] = [], gemmTimes: [Double] = [], sampledTimes: [Double] = []
        for _ in 0..<rounds {
            stepTimes.append(trainingSteps())
            gemmTimes.append(gemmSteps())
            if sampleHz > 0 {
                sampler.start()
                sampledTimes.append(trainingSteps())
                sampler.stop()
            }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
        let step = median(stepTimes), ceiling = median(gemmTimes)
        let flops = model.trainingFLOPs(batch: batchSize)
        let threads = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "unset"
        print("model \(layers), batch \(batchSize), OPENBLAS_NUM_THREADS=\(threads), \(rounds) rounds × \(steps) steps (medians)")
        print(String(format: "training step      %8.3f ms  %7.2f GFLOP/s  %9.0f samples/s", step * 1e3, flops / step / 1e9, Double(batchSize) / step))
        print(String(format: "sgemm, same shapes %8.3f ms  %7.2f GFLOP/s", ceiling * 1e3, flops / ceiling / 1e9))
        print(String(format: "fraction of the BLAS ceiling: %.3f (target ≥ 0.75)", ceiling / step))
        if sampleHz > 0 {
            let sampled = median(sampledTimes)
            print(String(format: "with power sampling at %.0f Hz (%@): %.3f ms, overhead %+.2f %% (target ≤ 1 %%)",
                         sampleHz, selection.label, sampled * 1e3, 100 * (sampled / step - 1)))
        }
    }
}
