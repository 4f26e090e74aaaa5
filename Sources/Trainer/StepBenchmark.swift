import Datasets
import Energy
import Foundation
import Model
import Support

/// One rank's training step — the trainer's own `TrainingStep` — against the limit set by BLAS:
/// the same step's cblas_sgemm calls alone, recorded from a step and replayed on its own buffers
/// (`GEMMBenchmark(recorded:)`) and, for comparison, from the shapes on cache-resident scratch;
/// in interleaved rounds, and the step again with the power sampler running (rounds alternate
/// which goes first, so drift favours neither). What `ringwatt bench-step` prints.
public struct StepBenchmark {
    /// Seconds per step, one figure per round: the step; its products on its own buffers; the
    /// same products on scratch; the step with the sampler running.
    public var stepTimes: [Double] = [], gemmTimes: [Double] = [], scratchGemmTimes: [Double] = [], sampledTimes: [Double] = []
    /// Mean seconds per step in the batch, forward+backward, and guard+optimizer parts (over every timed step).
    public var parts: (batch: Double, forwardBackward: Double, update: Double) = (0, 0, 0)
    /// The power source the sampled rounds read.
    public var samplerLabel = ""

    public init<M, S>(_ work: TrainingStep<M, S>, scratchGEMM: GEMMBenchmark, rounds: Int, steps: Int, sampleHz: Double,
                      powerSource: SourcePreference) throws {
        var timer = StepTimer(work: work, steps: steps)
        _ = timer.round()  // warm-up; then one step recorded
        var once = StepTimer(work: work, steps: 1)
        let gemm = GEMMBenchmark(recorded: GEMMRecording.record { _ = once.round() })
        _ = Self.gemmRound(gemm, steps); _ = Self.gemmRound(scratchGEMM, steps)
        timer.parts = [0, 0, 0]
        let selection = try SourceSelection.choose(powerSource == .none ? .estimate : powerSource, estimate: EstimateModel(),
                                                   ranksOnMachine: 1, readsMachineCounters: true)
        let sampler = PowerSampler(sources: selection.sources, hz: sampleHz, epoch: monotonicSeconds())
        samplerLabel = selection.label
        func sampled() -> Double { sampler.start(); defer { sampler.stop() }; return timer.round() }
        for round in 0..<rounds {
            if sampleHz > 0 && round % 2 == 1 { sampledTimes.append(sampled()) }
            stepTimes.append(timer.round())
            if sampleHz > 0 && round % 2 == 0 { sampledTimes.append(sampled()) }
            gemmTimes.append(Self.gemmRound(gemm, steps))
            scratchGemmTimes.append(Self.gemmRound(scratchGEMM, steps))
        }
        let timed = Double(rounds * steps * (sampleHz > 0 ? 2 : 1))  // parts were summed over every timed step
        parts = (timer.parts[0] / timed, timer.parts[1] / timed, timer.parts[2] / timed)
    }

    private static func gemmRound(_ gemm: GEMMBenchmark, _ steps: Int) -> Double {
        (0..<steps).map { _ in gemm.runOnce() }.reduce(0, +) / Double(steps)
    }
}

/// Runs the trainer's step round after round through the epoch's batches in order, summing the
/// time of its three parts.
private struct StepTimer<M: TrainableModel, S: BatchSource> where M.Batch == S.Batch {
    let work: TrainingStep<M, S>
    let steps: Int
    var position = 0
    var parts = [0.0, 0.0, 0.0]

    /// Seconds per step over one round.
    mutating func round() -> Double {
        let t0 = monotonicSeconds()
        for _ in 0..<steps {
            let perEpoch = work.source.batchesPerEpoch
            let a = monotonicSeconds()
            work.fillBatch(epoch: position / perEpoch, index: position % perEpoch)
            let b = monotonicSeconds()
            _ = work.forwardBackward(events: StepEvents())
            let c = monotonicSeconds()
            _ = work.update(step: position)
            parts[0] += b - a; parts[1] += c - b; parts[2] += monotonicSeconds() - c
            position += 1
        }
        return (monotonicSeconds() - t0) / Double(steps)
    }
}
