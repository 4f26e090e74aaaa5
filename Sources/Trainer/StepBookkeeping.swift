import Accounting
import RunFiles
import Collectives
import Datasets
import Foundation
import Model
import Support

/// What happens between steps: replica checks, flushes, checkpoints, the epoch line, the timeline.
extension TrainingRun {
    /// After step `position.step`: verify replicas when due; flush when due (every --flush-every,
    /// at epoch ends, checkpoints, stops and progress lines); checkpoint when due or stopping.
    /// Returns the status the run stops with, if it stops.
    func bookkeeping(epoch: Int, epochEnds: Bool, stopAsked: Bool, firstStep: Int) throws -> RunStatus? {
        let step = position.step
        if config.verifyEvery > 0 && step % config.verifyEvery == 0 {
            watchdog.beat(.verification, iteration: step)
            try verifyReplicas(iteration: step)
        }
        let checkpointDue = epochEnds || (config.checkpointEvery.map { step % $0 == 0 } ?? false)
        let logLineDue = step % progress.logEvery == 0  // the same on every rank
        guard flusher.pending.count >= config.flushEvery || epochEnds || checkpointDue || stopAsked || logLineDue else {
            watchdog.beat(.idle, iteration: step)
            return nil
        }
        let stepBeforeFlush = flusher.totals.iterations
        watchdog.beat(.recordGather, iteration: step)
        var signal = try flusher.flush()
        printer.flushed(figures(epoch: epoch, firstStep: firstStep), previousStep: stepBeforeFlush)
        if stopAsked && signal == .carryOn { signal = .interrupted }
        if checkpointDue || signal == .interrupted || signal == .energyBudget || signal == .preempted {
            watchdog.beat(.checkpoint, iteration: step)
            checkpoints.save(position, totals: flusher.totals, start: now(), now: now, failed: flusher.failed(writing:))
        }
        if epochEnds && comm.isRoot { printer.line(epochLine(epoch)) }
        watchdog.beat(.idle, iteration: step)
        return signal.status
    }

    /// Every rank's per-group parameter checksums must match rank 0's; a divergence names the
    /// ranks and groups (layers) and stops every rank (all see the same gathered checksums).
    func verifyReplicas(iteration: Int) throws {
        let problems = try comm.differencesFromRoot(model.parameterGroups.map { model.parameterChecksum($0) }).map {
            "rank \($0.rank) layer(s) \($0.indices.map(String.init).joined(separator: ", "))"
        }
        if !problems.isEmpty {
            throw RunError.training("replicas diverged at iteration \(iteration): \(problems.joined(separator: "; ")) differ from rank 0")
        }
    }

    /// "epoch 1/1  step 937/937  loss 0.3912  test accuracy 86.23 %  1.1 s  …": rank 0 at each epoch's end.
    func epochLine(_ epoch: Int) -> String {
        let totals = flusher.totals
        let metrics = (position.evaluations.last?.metrics ?? []).map(\.display).joined(separator: "  ")
        return String(format: "epoch %d/%d  step %d/%d  loss %.4f  %@  %.1f s  %.0f %@s/s  %.1f J (%@)",
                      epoch + 1, epochs, position.step, totalSteps, totals.lastLoss ?? .nan, metrics,
                      totals.seconds, totals.samplesPerSecond, source.sampleUnit, totals.energyJoules, powerPlan.sourceLabel)
    }

    func figures(epoch: Int, firstStep: Int) -> ProgressFigures {
        let totals = flusher.totals
        return ProgressFigures(epoch: epoch + 1, epochs: epochs, step: position.step, totalSteps: totalSteps,
                               loss: totals.lastLoss ?? lastStepLoss, samplesPerSecond: totals.samplesPerSecond,
                               watts: totals.seconds > 0 ? totals.energyJoules / totals.seconds : 0,
                               joules: totals.energyJoules, elapsed: now() - loopStart, startStep: firstStep,
                               source: powerPlan.sourceLabel, unit: source.sampleUnit)
    }

    /// The iteration's phases, buckets and bytes on the timeline (--timeline).
    func traceIteration(_ record: IterationRecord) {
        guard trace.enabled else { return }
        for (i, timing) in commPlan.buckets.timings.enumerated() {
            trace.add(.bucket, i, start: timing.start, duration: timing.end - timing.start)
        }
        for phase in Phase.allCases where record.seconds(phase) > 0 && phase != .idle {
            trace.add(.phase, phase.rawValue, start: record.started(phase), duration: record.seconds(phase))
        }
        for span in record.idleSpans where span.seconds > 0 {
            trace.add(.phase, Phase.idle.rawValue, start: span.start, duration: span.seconds)
        }
        trace.add(.bytes, 0, start: record.end, duration: Double(comm.allReduce.stats.bytesSent))
    }
}
