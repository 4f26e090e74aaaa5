import Datasets
import Foundation
import Model
import RunFiles

/// The work of one training step on one rank, as the loop does it, in the three parts the loop
/// puts its phase edges between: the batch (this step's rows, the next step's prefetched), forward
/// and backward, the guarded update. The optimizer and the schedule are the configuration's.
/// `bench-step` times these same parts, so its figures are the trainer's step, not a copy of it.
public struct TrainingStep<M: TrainableModel, S: BatchSource> where M.Batch == S.Batch {
    public let model: M, source: S, batch: S.Batch
    public let optimizer: Optimizer, schedule: LearningRateSchedule
    public let gradClip: Double

    /// `scheduleSteps`: the schedule's length where a checkpoint fixed it (a run resumed with
    /// another global batch keeps its first batch's schedule); else the configuration's.
    public init(model: M, source: S, config: TrainConfig, scheduleSteps: Int? = nil) {
        self.model = model; self.source = source
        batch = source.makeTrainingBatch()
        optimizer = Optimizer(settings: OptimizerSettings(kind: config.optimizer, momentum: config.momentum,
                                                          weightDecay: config.weightDecay),
                              parameterCount: model.parameterCount, decayed: model.decayedParameterRanges)
        // The schedule's length, in steps of the run's first global batch.
        let totalSteps = scheduleSteps ?? config.steps ?? config.epochs * source.batchesPerEpoch
        schedule = LearningRateSchedule(kind: config.schedule, baseRate: config.learningRate,
                                        warmupSteps: config.warmupSteps, totalSteps: totalSteps, minFactor: config.lrMinFactor)
        gradClip = config.gradClip
    }

    /// This step's batch (step `index` after the epoch's first `skipping` samples); the next
    /// step's rows are asked for now, to arrive while this one computes.
    public func fillBatch(epoch: Int, index: Int, skipping: Int = 0) {
        source.fillTraining(batch, epoch: epoch, step: index, skipping: skipping)
        source.prefetchTraining(epoch: epoch, step: index + 1, skipping: skipping)
    }

    /// Forward and backward; `events` hears of finished gradient pieces. Returns the batch's loss.
    public func forwardBackward(events: StepEvents) -> Float {
        model.forwardBackward(batch, events: events)
    }

    /// The update of global step `step` from the (averaged) gradient: the guard pass (norm, clip)
    /// then the optimizer. Returns the gradient's norm; not finite means nothing was updated.
    public func update(step: Int) -> Double {
        optimizer.guardedStep(parameters: model.parameters, gradients: model.gradients,
                              learningRate: schedule.rate(at: step), maxNorm: gradClip)
    }
}
