// The training loop: every rank runs this, on its share of each epoch's data.
//
//   next batch → forward/backward (finished gradient buckets handed to the communication thread)
//   → finish the all-reduce → guard (stop word, non-finite values) → optimizer step → record.
//
// Everything decided once was decided before (TrainingRun.swift); every --flush-every iterations
// the records are gathered and written (RecordFlusher), and the run finishes in Finisher.

import Accounting
import RunFiles
import Collectives
import Datasets
import Foundation
import Model
import Support

extension TrainingRun {
    /// Epochs from the current position to the last step; returns why the run stopped early, if it did.
    /// The first epoch continues after the samples already taken of it (by this run or the one it resumes).
    func loop(firstStep: Int) throws -> RunStatus? {
        let startEpoch = position.epoch, startSkip = position.epochSamples
        for epoch in startEpoch..<max(startEpoch, epochs) {
            let skip = epoch == startEpoch ? startSkip : 0
            let steps = source.batches(inEpochSkipping: skip)
            if epoch != position.epoch { (position.epoch, position.epochSamples) = (epoch, 0) }  // after an epoch with no steps left
            for index in 0..<steps {
                guard position.step < totalSteps else { return nil }
                allocations.begin()
                let stopAsked = try step(epoch: epoch, index: index, skipping: skip, lastOfEpoch: index == steps - 1)
                allocations.end(first: position.step == firstStep + 1)
                printer.iteration(figures(epoch: epoch, firstStep: firstStep), now: previousEnd)  // computed only when drawn
                let epochEnds = index == steps - 1 || position.step == totalSteps
                if let stop = try bookkeeping(epoch: epoch, epochEnds: epochEnds, stopAsked: stopAsked, firstStep: firstStep) {
                    return stop
                }
            }
        }
        return nil
    }

    /// One training step, recorded phase by phase. Returns whether any rank asked to stop.
    func step(epoch: Int, index: Int, skipping: Int, lastOfEpoch: Bool) throws -> Bool {
        var clock = PhaseClock(iteration: position.step, epoch: epoch, previousEnd: previousEnd, now: now(),
                               checkpoint: checkpoints.takeLastWindow(), watchdog: watchdog, clockEpoch: clockEpoch)
        work.fillBatch(epoch: epoch, index: index, skipping: skipping)
        clock.close(.data, at: now(), next: .compute)

        let sentBefore = comm.allReduce.stats.bytesSent
        faults.beforeStep(iteration: position.step, resumed: config.resume != nil, rank: comm.rank)
        let stopSignal = stopRequested.load(ordering: .relaxed)
        control.send(stop: stopSignal != 0)
        observer.begin(at: clock.now)
        let loss = work.forwardBackward(events: observer.events)
        clock.close(.compute, at: observer.backwardEnd, next: .comm)

        try commPlan.buckets.finishStep()  // with overlap: only the part not hidden behind backward
        clock.close(.comm, at: now(), next: .optimizer)

        let stopAsked = control.stopRequested
        try update(loss: loss)
        faults.afterUpdate(model, rank: comm.rank, iteration: position.step)
        clock.close(.optimizer, at: now(), next: .idle)

        position.step += 1
        position.epochSamples += source.samples(in: work.batch) * comm.size  // every rank's batch holds as many
        if lastOfEpoch { (position.epoch, position.epochSamples) = (epoch + 1, 0) }
        let evaluationDue = config.evalEvery > 0 && position.step % config.evalEvery == 0
        if lastOfEpoch || position.step == totalSteps || evaluationDue {
            watchdog.beat(.evaluation, iteration: position.step)
            allocations.pause()
            position.evaluations.append(Evaluation(step: position.step, metrics: try evaluator.run()))
            allocations.resume()
            clock.close(.eval, at: now(), next: .idle)
        }
        var record = clock.finish()
        if stopSignal == SIGUSR1 { record.signal = .preempted }  // the flush's highest signal names the stop
        let cpu = processCPUSeconds()
        record.cpuSeconds = cpu - previousCPU
        previousCPU = cpu
        record.loss = Double(loss)
        lastStepLoss = Double(loss)
        record.samples = source.samples(in: work.batch)
        record.commBytes = comm.allReduce.stats.bytesSent - sentBefore
        record.commSeconds = commPlan.buckets.busySeconds
        previousEnd = record.end
        flusher.append(record)
        traceIteration(record)
        return stopAsked
    }

    /// Every rank holds the same averaged bits, so these decisions need no communication: apply
    /// the update, or (non-finite values) skip it or stop naming the ranks and parameter groups.
    func update(loss: Float) throws {
        let norm = work.update(step: plan.schedule.step(at: position.step))
        if norm.isFinite { return }
        if config.onNonfinite == .skip {
            position.skippedSteps += 1
            return
        }
        let lossFinite = try comm.allGather([loss.isFinite ? Int64(1) : 0])
        let ranks = lossFinite.indices.filter { lossFinite[$0] == 0 }
        let layers = model.parameterGroups.indices.filter {
            !allFinite(model.gradients.pointer + model.parameterGroups[$0].lowerBound, model.parameterGroups[$0].count)
        }
        throw RunError.training("non-finite values at iteration \(position.step): loss on rank(s) "
            + "\(ranks.isEmpty ? "none" : ranks.map(String.init).joined(separator: ", ")), averaged gradient of layer(s) "
            + "\(layers.map(String.init).joined(separator: ", ")) (--on-nonfinite stop; the last checkpoint is kept; "
            + "try a lower --lr or --on-nonfinite skip)")
    }
}

/// True when no element is NaN or ±infinity: x·0 is NaN exactly for those, and NaN propagates
/// through the sum. Four accumulators so the loop vectorises.
@inline(__always)
func allFinite(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
    var a: Float = 0, b: Float = 0, c: Float = 0, d: Float = 0
    var i = 0
    while i + 4 <= n {
        a += p[i] * 0; b += p[i + 1] * 0; c += p[i + 2] * 0; d += p[i + 3] * 0
        i += 4
    }
    while i < n { a += p[i] * 0; i += 1 }
    return (a + b + c + d) == 0
}
