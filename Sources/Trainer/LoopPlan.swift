import Datasets
import RunFiles

/// The learning-rate schedule's position at each iteration. The schedule counts steps of the
/// run's first global batch; a run resumed with another global batch (`--elastic`) continues it
/// by samples seen, each iteration advancing it by the new global batch over the first. Without
/// a change of batch the position is the iteration itself, exactly.
struct ScheduleClock: Equatable {
    /// The iteration the clock was set at, the schedule's position there, and its advance per iteration.
    let anchorStep: Int, anchorPosition: Double, ratio: Double

    static let identity = ScheduleClock(anchorStep: 0, anchorPosition: 0, ratio: 1)

    func position(at step: Int) -> Double { anchorPosition + Double(step - anchorStep) * ratio }

    /// The schedule's step for iteration `step` (the whole steps its position has passed).
    func step(at step: Int) -> Int { Int((position(at: step) + 1e-9).rounded(.down)) }
}

/// Where a run's loop starts and ends, decided before it: the position it starts from (a fresh
/// run's first iteration, or a checkpoint's), the iteration it ends at, the epochs it spans, and
/// the schedule. A resume with the same global batch continues exactly where the checkpoint
/// stood; with another (`--elastic`) the data continue at the samples the epoch had used, the
/// schedule by samples seen, and a run given --steps ends when the samples of its steps (at its
/// first global batch) are seen.
struct LoopPlan: Equatable {
    /// The first iteration's epoch, and the samples (tokens) of that epoch already taken.
    let epoch: Int, epochSamples: Int
    /// The first iteration: where the schedule's clock was set.
    var step: Int { schedule.anchorStep }
    /// The loop ends before iteration `totalSteps`, or after epoch `epochs - 1`.
    let totalSteps: Int, epochs: Int
    let schedule: ScheduleClock
    /// The schedule's length and its steps' samples (tokens), at the run's first global batch.
    let scheduleSteps: Int, scheduleStepSamples: Int

    init(steps: Int?, epochs configEpochs: Int, stepSamples: Int, batchesPerEpoch: Int, batchesLeft: (Int) -> Int,
         checkpoint h: CheckpointHeader?) {
        guard let h else {
            epoch = 0; epochSamples = 0
            scheduleSteps = steps ?? configEpochs * batchesPerEpoch
            scheduleStepSamples = stepSamples
            totalSteps = scheduleSteps
            epochs = steps.map { ($0 + batchesPerEpoch - 1) / batchesPerEpoch } ?? configEpochs
            schedule = .identity
            return
        }
        // Checkpoints from before the data position was recorded had this job's global batch.
        let writtenPerEpoch = h.batchesPerEpoch ?? batchesPerEpoch
        epoch = h.epoch ?? h.step / writtenPerEpoch
        epochSamples = h.epochSamples ?? (h.step % writtenPerEpoch) * stepSamples
        scheduleStepSamples = h.scheduleStepSamples ?? stepSamples
        scheduleSteps = h.scheduleSteps ?? steps ?? configEpochs * writtenPerEpoch
        let ratio = Double(stepSamples) / Double(scheduleStepSamples)
        let position = h.schedulePosition ?? Double(h.step)
        schedule = ScheduleClock(anchorStep: h.step, anchorPosition: position, ratio: ratio)
        let left = batchesLeft(epochSamples)
        if let steps {
            totalSteps = h.step + max(0, Int(((Double(steps) - position) / ratio - 1e-9).rounded(.up)))
            let beyond = max(0, totalSteps - h.step - left)
            epochs = epoch + 1 + (beyond + batchesPerEpoch - 1) / batchesPerEpoch
        } else {
            epochs = configEpochs
            totalSteps = h.step + left + max(0, configEpochs - epoch - 1) * batchesPerEpoch
        }
    }

    init<S: BatchSource>(config: TrainConfig, source: S, checkpoint: CheckpointHeader?) {
        self.init(steps: config.steps, epochs: config.epochs, stepSamples: source.samplesPerStep,
                  batchesPerEpoch: source.batchesPerEpoch, batchesLeft: { source.batches(inEpochSkipping: $0) },
                  checkpoint: checkpoint)
    }
}
