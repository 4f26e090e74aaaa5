import Accounting
import RunFiles
import Testing
@testable import Trainer

/// Where a resumed loop starts and ends and how its schedule continues, against hand-computed
/// cases: a fresh run, a resume with the same global batch (exactly where it stood), and elastic
/// resumes that double or halve the global batch (the schedule by samples seen, --steps as samples).
@Suite struct LoopPlanTests {
    /// An epoch of 3840 samples: `perStep` samples a step, steps left after `skip` samples.
    static func plan(steps: Int?, epochs: Int = 1, perStep: Int, header: CheckpointHeader?) -> LoopPlan {
        let perEpoch = (3840 + perStep - 1) / perStep
        return LoopPlan(steps: steps, epochs: epochs, stepSamples: perStep, batchesPerEpoch: perEpoch,
                        batchesLeft: { max(0, 3840 - $0 + perStep - 1) / perStep }, checkpoint: header)
    }

    static func header(step: Int, perEpoch: Int, epoch: Int? = nil, epochSamples: Int? = nil, scheduleSteps: Int? = nil,
                       position: Double? = nil, stepSamples: Int? = nil) -> CheckpointHeader {
        var config = TrainConfig()
        config.batchSize = 16
        var h = CheckpointHeader(ranks: 2, step: step, clockSeconds: 1, optimizerSteps: step, skippedSteps: 0, evaluations: [],
                                 totals: RunTotals(ranks: 2, reducedBytes: 4, machines: 1), config: config, parameterCount: 1,
                                 firstMomentCount: 1, secondMomentCount: 0, data: nil, batchesPerEpoch: perEpoch)
        h.epoch = epoch; h.epochSamples = epochSamples; h.scheduleSteps = scheduleSteps
        h.schedulePosition = position; h.scheduleStepSamples = stepSamples
        return h
    }

    @Test func aFreshRunAndASameBatchResumeStandWhereTheyShould() {
        let fresh = Self.plan(steps: 120, perStep: 32, header: nil)
        #expect(fresh.step == 0 && fresh.totalSteps == 120 && fresh.epochs == 1 && fresh.scheduleSteps == 120)
        #expect(fresh.schedule == .identity && fresh.scheduleStepSamples == 32)
        let byEpochs = Self.plan(steps: nil, epochs: 3, perStep: 32, header: nil)
        #expect(byEpochs.totalSteps == 360 && byEpochs.epochs == 3)
        // A checkpoint from before the data position was recorded: derived from its step.
        let old = Self.plan(steps: nil, epochs: 3, perStep: 32, header: Self.header(step: 150, perEpoch: 120))
        #expect(old.epoch == 1 && old.epochSamples == 30 * 32 && old.totalSteps == 360 && old.epochs == 3)
        #expect(old.schedule == ScheduleClock(anchorStep: 150, anchorPosition: 150, ratio: 1) && old.scheduleSteps == 360)
        for i in 150..<360 { #expect(old.schedule.step(at: i) == i) }
    }

    /// 2 × 16 → 4 × 16 at iteration 36 of 120: 84 schedule steps of 32 samples left, 42 iterations of 64.
    @Test func anElasticResumeContinuesTheScheduleBySamplesSeen() {
        let h = Self.header(step: 36, perEpoch: 120, epoch: 0, epochSamples: 36 * 32, scheduleSteps: 120, position: 36, stepSamples: 32)
        let doubled = Self.plan(steps: 120, perStep: 64, header: h)
        #expect(doubled.totalSteps == 78 && doubled.epochs == 1 && doubled.epochSamples == 1152 && doubled.scheduleSteps == 120)
        #expect((36..<78).map { doubled.schedule.step(at: $0) } == (0..<42).map { 36 + 2 * $0 })
        #expect(doubled.schedule.position(at: 78) == 120)
        // 4 × 8 → 2 × 8: 168 iterations of 16 samples.
        let halved = Self.plan(steps: 120, perStep: 16, header: h)
        #expect(halved.totalSteps == 36 + 168 && halved.epochs == 1)
        #expect(halved.schedule.step(at: 37) == 36 && halved.schedule.step(at: 38) == 37 && halved.schedule.step(at: 203) == 119)
        // A third of a step per iteration: floating point must not lose a step at the whole ones.
        let third = ScheduleClock(anchorStep: 30, anchorPosition: 30, ratio: 32.0 / 96)
        #expect((30..<60).map { third.step(at: $0) } == (0..<30).map { 30 + $0 / 3 })
        // Resumed again, at the doubled run's iteration 50 (schedule position 64): 28 more of 64.
        let again = Self.header(step: 50, perEpoch: 60, epoch: 0, epochSamples: 1152 + 14 * 64, scheduleSteps: 120, position: 64, stepSamples: 32)
        let back = Self.plan(steps: 120, perStep: 32, header: again)
        #expect(back.totalSteps == 50 + 56 && back.schedule.step(at: 50) == 64)
        // By epochs: the rest of this epoch at the new batch, then whole epochs of it.
        let epochs = Self.plan(steps: nil, epochs: 2, perStep: 64, header: h)
        #expect(epochs.totalSteps == 36 + 42 + 60 && epochs.epochs == 2)
    }
}
