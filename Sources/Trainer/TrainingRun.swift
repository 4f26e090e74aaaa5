import Accounting
import RunFiles
import Collectives
import Datasets
import Energy
import Foundation
import Model
import Support

/// One run of the training loop, with everything decided once made before it: the workload, the
/// optimizer and schedule, the communication plan, the power plan, the evaluator, the record
/// flusher, the checkpointer, the watchdog and the faults tests inject. The loop itself is in
/// TrainingLoop.swift.
final class TrainingRun<M: TrainableModel, S: BatchSource> where M.Batch == S.Batch {
    let config: TrainConfig
    let comm: Communicator
    // The workload, its optimisation, and the control slot that travels with its gradient.
    let work: TrainingStep<M, S>
    var model: M { work.model }
    var source: S { work.source }
    var optimizer: Optimizer { work.optimizer }
    var schedule: LearningRateSchedule { work.schedule }
    let control: ControlSlot
    let batchesPerEpoch: Int
    /// Where the loop starts and ends, and the schedule's position at each iteration.
    let plan: LoopPlan
    var totalSteps: Int { plan.totalSteps }
    var epochs: Int { plan.epochs }
    // The plans and the parts that carry them out.
    let commPlan: CommPlan, powerPlan: PowerPlan
    let evaluator: Evaluator<M, S>
    let checkpoints: Checkpointer<M>, finisher: Finisher<M>
    let faults = FaultInjection(environment: ProcessInfo.processInfo.environment)
    // What rank 0 prints and the timeline records.
    let printer: ProgressPrinter, progress: ProgressOptions
    let trace: TimelineRecorder
    // Made last, after the barrier that aligns the ranks' clocks: t = 0 at `clockEpoch`.
    let clockEpoch: Double
    let sampler: PowerSampler, flusher: RecordFlusher, observer: StepObserver, watchdog: Watchdog
    private(set) var loopStart = 0.0
    // Where the run stands.
    var position = RunPosition()
    var previousEnd = 0.0
    var previousCPU = 0.0
    let activityListener: ActivityListener?
    /// The last step's own loss: progress shows it until the first flush has a mean over ranks.
    var lastStepLoss = Double.nan
    var allocations = StepAllocations()
    /// Rank 0's run directory (nil elsewhere).
    let directory: RunDirectory?
    /// A resumed run: the checkpoint's rank count and why it was resumed (see `recordRestart`).
    let resumed: (ranks: Int, reason: String?)?

    init(config: TrainConfig, comm: Communicator, model: M, source: S, commPlan: CommPlan, powerPlan: PowerPlan,
         checkpoint: Checkpoint?, data: DataFingerprint, directory: RunDirectory?, progress: ProgressOptions, timeline: Bool,
         activityListener: ActivityListener? = nil, restartReason: String? = nil) throws {
        self.activityListener = activityListener
        self.directory = directory
        resumed = checkpoint.map { ($0.header.ranks, restartReason) }
        self.config = config; self.comm = comm
        self.commPlan = commPlan; self.powerPlan = powerPlan
        self.progress = progress
        let plan = LoopPlan(config: config, source: source, checkpoint: checkpoint?.header)
        self.plan = plan
        let work = TrainingStep(model: model, source: source, config: config, scheduleSteps: plan.scheduleSteps)
        self.work = work
        control = ControlSlot(pointer: model.gradients.pointer + model.parameterCount)
        let perEpoch = source.batchesPerEpoch
        batchesPerEpoch = perEpoch
        evaluator = Evaluator(model: model, source: source, comm: comm)
        checkpoints = Checkpointer(comm: comm, config: config, model: model, optimizer: work.optimizer, directory: directory,
                                   data: data, batchesPerEpoch: perEpoch, plan: plan)
        finisher = Finisher(comm: comm, config: config, model: model, directory: directory, plan: powerPlan, commPlan: commPlan)
        printer = ProgressPrinter(options: progress, isRoot: comm.isRoot)
        trace = TimelineRecorder(enabled: timeline)
        // The one RunTotals: a checkpoint's, or fresh; the flusher owns it from here on.
        var totals = RunTotals(ranks: comm.size, reducedBytes: model.parameterCount * 4, machines: powerPlan.machines.count)
        var restored: RunPosition? = nil
        if let checkpoint { restored = try checkpoints.restore(checkpoint, totals: &totals) }
        let transport = AbortHandle(transport: comm.transport)
        let watchdog = Watchdog(stallSeconds: config.stallSeconds, rank: comm.rank, listener: activityListener) { message in
            FileHandle.standardError.write(Data("ringwatt: \(message)\n".utf8))
            transport.transport.abort(code: 4)
        }
        self.watchdog = watchdog
        try comm.barrier()
        let epoch = monotonicSeconds() - (checkpoint?.header.clockSeconds ?? 0)  // a resumed run continues its clock
        clockEpoch = epoch
        commPlan.buckets.clockEpoch = epoch
        sampler = powerPlan.makeSampler(hz: config.sampleHz, epoch: epoch)
        flusher = RecordFlusher(comm: comm, plan: powerPlan, power: sampler, directory: directory, trace: trace, totals: totals,
                                energyBudget: config.energyBudgetJoules, capacity: config.flushEvery,
                                learningRate: { [schedule = work.schedule, clock = plan.schedule] in Double(schedule.rate(at: clock.step(at: $0))) })
        flusher.unit = source.sampleUnit
        observer = StepObserver(buckets: commPlan.buckets, trace: trace, clock: { monotonicSeconds() - epoch },
                                backwardDone: { end in watchdog.beat(.comm, at: end + epoch) })
        if let restored {
            position = restored
            if comm.isRoot {
                printer.log.notice("resuming \(config.out) at iteration \(position.step) (epoch \(position.epoch + 1))")
                if let h = checkpoint?.header, h.config.batchSize * h.ranks != config.batchSize * comm.size {
                    let before = "\(h.config.batchSize * h.ranks) (\(h.ranks) × \(h.config.batchSize))"
                    let after = "\(config.batchSize * comm.size) (\(comm.size) × \(config.batchSize))"
                    let schedule = String(format: "%.2f", plan.schedule.anchorPosition) + " of \(plan.scheduleSteps)"
                    let left = totalSteps - position.step
                    printer.log.notice("elastic: global batch \(before) → \(after); the schedule continues at step \(schedule) by samples seen; \(left) iterations to go")
                }
            }
        }
        announce()
    }

    /// Rank 0 says what runs where, and what the power sources could not do.
    private func announce() {
        guard comm.isRoot else { return }
        for note in powerPlan.notes { printer.log.warning("power: \(note)") }
        printer.line("ringwatt: \(comm.size) ranks on \(comm.nodeCount) node(s); \(model.summary); "
                     + "\(batchesPerEpoch) steps/epoch × \(comm.size) ranks; energy: "
                     + powerPlan.nodeSources.enumerated().map { "node \($0.offset) \($0.element)" }.joined(separator: ", ")
                     + "; BLAS " + BLASSetup.info.line
                     + ((try? MemoryEstimate(config)).map { "; memory ≈ " + MemoryEstimate.gib($0.bytesPerRank) + " per rank" } ?? ""))
    }

    /// The aligned clock: t = 0 on every rank to within the barrier's skew; a resumed run continues it.
    func now() -> Double { monotonicSeconds() - clockEpoch }

    /// Trains from the current position to the end (or a stop), then finishes the run.
    func run() throws -> RunResult {
        sampler.start()
        defer { sampler.stop(); commPlan.buckets.shutdown() }
        defer { watchdog.stop() }
        try measureIdle(sampler)
        try recordRestart()
        previousEnd = now()
        previousCPU = processCPUSeconds()
        loopStart = previousEnd
        let firstStep = position.step
        let stop = try loop(firstStep: firstStep)
        let loopSeconds = now() - loopStart
        allocations.report(rank: comm.rank)
        sampler.stop()
        printer.clearLive()
        watchdog.beat(.finishing, iteration: position.step)
        if let stop, comm.isRoot {
            printer.log.notice("stopped (\(stop.rawValue)) at iteration \(position.step); resume with --resume \(config.out)")
        }
        return try finisher.finish(totals: flusher.totals, position: position, stop: stop, loopSeconds: loopSeconds,
                                   sampleUnit: source.sampleUnit,
                                   epochs: position.epoch + (position.epochSamples > 0 ? 1 : 0),
                                   samplesPerEpoch: batchesPerEpoch * source.samples(in: work.batch) * comm.size,
                                   trace: trace, sampler: sampler, writeError: flusher.writeError)
    }
}

extension TrainingRun {
    /// A resumed run, just before its first iteration: rank 0 records what the fault cost (the
    /// iterations redone, the gap since the ended attempt's last write, see `RestartRecord`) in
    /// restarts.jsonl, and every rank takes the run's fault totals from that file (the same bytes
    /// everywhere). The file, not the checkpoint, is the account: an attempt that dies before its
    /// first checkpoint leaves its restart in the file, where the checkpoint does not know it.
    func recordRestart() throws {
        guard let resumed else { return }
        let text = try comm.onRoot { () -> [UInt8] in
            guard let directory, let ended = directory.endedAttempt else { return [] }
            let earlier = try RestartRecord.readAll(directory: directory.path)
            let record = RestartRecord(
                restart: earlier.count + 1, now: Date(), reason: resumed.reason ?? RestartRecord.byHand,
                previousStatus: ended.status, resumedFrom: position.step, ranksBefore: resumed.ranks, ranks: comm.size,
                redone: ended.redone, lastWrite: ended.lastWrite,
                held: resumed.reason != nil && ended.status != RunStatus.preempted.rawValue, idleWatts: flusher.totals.idleWatts)
            try directory.appendRestart(record)
            var faults = FaultTotals()
            for r in earlier + [record] { faults.add(r) }
            let gap = record.gapJ.map { String(format: " (%.1f J)", $0) } ?? ""
            printer.log.notice("restart \(record.restart): \(record.iterationsRedone) iteration(s) redone (\(String(format: "%.1f", record.redoneJ)) J), gap \(String(format: "%.1f", record.gapS)) s\(gap)")
            return Array(try RunFileCoding.line(faults).utf8)
        } ?? []
        let bytes = try comm.broadcast(text)
        guard !bytes.isEmpty else { return }
        flusher.totals.faults = try RunFileCoding.decode(FaultTotals.self, String(decoding: bytes, as: UTF8.self))
    }
}

/// The transport, for the watchdog's thread to end the job with: aborting is the one call made
/// from there, when every other thread is stuck.
private struct AbortHandle: @unchecked Sendable {
    let transport: any Transport
}

extension TrainingRun {
    /// The idle baseline, before the first iteration: every rank sleeps `--idle-seconds` while the
    /// sampler reads every source; each machine's idle watts are its counters' joules over that
    /// window (with the estimate, the model's own idle watts). Not taken on a resumed run (the
    /// checkpoint's are kept), nor where every machine's CPU is estimated (nothing to measure).
    func measureIdle(_ sampler: PowerSampler) throws {
        var machines = flusher.totals.machines
        guard !machines.isEmpty, machines.allSatisfy({ $0.idleWatts == nil }), config.powerSource != .none else { return }
        let estimated = machines.indices.map { powerPlan.cpuEstimated(machine: $0) }
        let modelIdle = config.estimate.nodeIdleWatts
        var measured = [Double?](repeating: nil, count: machines.count)
        if config.idleSeconds > 0 && estimated.contains(false) {
            watchdog.beat(.idleBaseline, iteration: position.step)
            try comm.barrier()
            let t0 = now()
            sampler.sampleNow()
            Thread.sleep(forTimeInterval: config.idleSeconds)
            sampler.sampleNow()
            let t1 = now()
            let joules = try comm.allGather([sampler.joulesByScope(from: t0, to: t1).node])
            try comm.barrier()
            for m in machines.indices {
                measured[m] = powerPlan.ranks(onMachine: m).map { joules[$0] }.reduce(0, +) / (t1 - t0)
            }
        }
        for m in machines.indices {
            switch (estimated[m], measured[m]) {
            case (true, let counters):  // the model's idle; any machine-wide counter (a GPU) measured beside it
                machines[m].idleWatts = modelIdle + (counters ?? 0)
                machines[m].idleSource = counters.map { $0 > 0 ? "estimate+measured" : "estimate" } ?? "estimate"
            case (false, let counters?):
                machines[m].idleWatts = counters
                machines[m].idleSource = "measured"
            case (false, nil):
                continue  // --idle-seconds 0
            }
        }
        flusher.setMachines(machines)
    }
}

