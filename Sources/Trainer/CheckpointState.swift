import Accounting
import RunFiles
import Collectives
import Datasets
import Foundation
import Model
import Support

/// Where the run stands, beside the parameters and the optimizer's state: what a checkpoint saves.
struct RunPosition {
    /// Iterations done.
    var step = 0
    /// The epoch the run is in and the samples (tokens) of it the whole job has taken: where the
    /// data continue (the sampler is a pure function of seed, epoch and position in the epoch).
    var epoch = 0, epochSamples = 0
    var skippedSteps = 0
    /// Every evaluation so far (epoch ends, and every --eval-every steps).
    var evaluations: [Evaluation] = []
}

/// Writes checkpoints (rank 0, atomically) and restores them (every rank, from the same bytes).
final class Checkpointer<M: TrainableModel> {
    let comm: Communicator
    let config: TrainConfig
    let model: M
    let optimizer: Optimizer
    let directory: RunDirectory?
    /// What the run trains on, recorded in every checkpoint.
    let data: DataFingerprint
    /// Steps per epoch at this rank count (a resume on another one must have the same).
    let batchesPerEpoch: Int
    /// The schedule, recorded so a resume with another global batch continues it.
    let plan: LoopPlan
    /// The last checkpoint's window on the aligned clock: it sits in the gap before the next
    /// iteration, which reports it as its checkpoint phase.
    private var lastWindow: (start: Double, seconds: Double)?

    init(comm: Communicator, config: TrainConfig, model: M, optimizer: Optimizer, directory: RunDirectory?, data: DataFingerprint,
         batchesPerEpoch: Int, plan: LoopPlan) {
        self.comm = comm; self.config = config; self.model = model; self.optimizer = optimizer; self.directory = directory
        self.data = data; self.batchesPerEpoch = batchesPerEpoch; self.plan = plan
    }

    /// Rank 0 writes parameters, optimizer state, position, clock and totals; a failure goes to
    /// `failed` (the run stops at the next flush). Every rank times the window.
    func save(_ position: RunPosition, totals: RunTotals, start: Double, now: () -> Double, failed: (Error) -> Void) {
        if comm.isRoot, let directory {
            var header = CheckpointHeader(
                ranks: comm.size, step: position.step, clockSeconds: now(), optimizerSteps: optimizer.steps,
                skippedSteps: position.skippedSteps, evaluations: position.evaluations, totals: totals, config: config,
                parameterCount: model.parameterCount, firstMomentCount: optimizer.firstMoment.count,
                secondMomentCount: optimizer.secondMoment.count, data: data, batchesPerEpoch: batchesPerEpoch)
            header.epoch = position.epoch; header.epochSamples = position.epochSamples
            header.scheduleSteps = plan.scheduleSteps; header.scheduleStepSamples = plan.scheduleStepSamples
            header.schedulePosition = plan.schedule.position(at: position.step)
            do {
                try directory.waitForWrites()  // the checkpoint's iterations are on disk before it is
                try Checkpoint(header: header, parameters: Array(model.parameters.buffer), firstMoment: optimizer.firstMoment.array,
                               secondMoment: optimizer.secondMoment.array).write(directory: directory.path)
            } catch { failed(error) }
        }
        lastWindow = (start, now() - start)
    }

    /// The last checkpoint's window, once.
    func takeLastWindow() -> (start: Double, seconds: Double)? {
        defer { lastWindow = nil }
        return lastWindow
    }

    /// Loads a checkpoint's state into the model, the optimizer and the totals; returns the position.
    func restore(_ checkpoint: Checkpoint, totals: inout RunTotals) throws -> RunPosition {
        guard checkpoint.parameters.count == model.parameterCount,
              checkpoint.firstMoment.count == optimizer.firstMoment.count,
              checkpoint.secondMoment.count == optimizer.secondMoment.count else {
            throw RunError.checkpoint("checkpoint's parameter layout does not match --layers/--optimizer")
        }
        model.parameters.copy(from: checkpoint.parameters)
        optimizer.firstMoment.copy(from: checkpoint.firstMoment)
        optimizer.secondMoment.copy(from: checkpoint.secondMoment)
        optimizer.restore(steps: checkpoint.header.optimizerSteps)
        try totals.restore(checkpoint.header.totals)
        return RunPosition(step: checkpoint.header.step, epoch: plan.epoch, epochSamples: plan.epochSamples,
                           skippedSteps: checkpoint.header.skippedSteps, evaluations: checkpoint.header.evaluations)
    }
}

extension Checkpoint {
    /// A checkpoint continues a run only on the data it trained on.
    func checkData(_ now: DataFingerprint, config: TrainConfig) throws {
        guard let then = header.data, then != now else { return }
        throw RunError.checkpoint("cannot resume: the data changed since the checkpoint (--data \(config.data): "
                                  + "then \(then), now \(now)); restore the data the run trained on, or start a new run")
    }

    /// A checkpoint continues a run only with the same maths: the same options, and the same
    /// global batch (per-rank batch × ranks). On another rank count with the same global batch
    /// (e.g. after losing a node: 4 × 16 → 2 × 32) the run continues from the same global step:
    /// the weights, optimizer state and schedule continue exactly; each step's samples are then
    /// split over the new ranks (the MLP: the same samples per step, summed in another order; the
    /// GPT: windows drawn per rank, so other windows). With `elastic` the global batch may change:
    /// the weights and optimizer state continue exactly, the data from the samples the epoch had
    /// used, the schedule by samples seen; the steps after it are new maths (another batch).
    func checkContinues(_ config: TrainConfig, ranks: Int, elastic: Bool = false) throws {
        let oldGlobal = header.config.batchSize * header.ranks, newGlobal = config.batchSize * ranks
        if oldGlobal != newGlobal && !elastic {
            let fit = oldGlobal % ranks == 0 ? "resume with --batch-size \(oldGlobal / ranks) on \(ranks) ranks to keep it, " : ""
            throw RunError.checkpoint("checkpoint was written by \(header.ranks) ranks × batch \(header.config.batchSize) "
                + "(a global batch of \(oldGlobal)); \(ranks) ranks × batch \(config.batchSize) would make it \(newGlobal), "
                + "which changes the maths: \(fit)resume with mpirun -np \(header.ranks), or pass --elastic to continue with "
                + "the new global batch (the data and the schedule continue by samples seen)")
        }
        if oldGlobal != newGlobal && header.epochSamples == nil {
            throw RunError.checkpoint("checkpoint was written before checkpoints recorded their data position; "
                                      + "--elastic needs one that did: resume with mpirun -np \(header.ranks) --batch-size \(header.config.batchSize)")
        }
        var differing = config.differingKeys(from: header.config).filter { !TrainConfig.resumableKeys.contains($0) }
        if header.ranks != ranks || elastic { differing.removeAll { $0 == "batch_size" } }  // the global batch is what must agree, or --elastic
        guard differing.isEmpty else {
            throw RunError.checkpoint("cannot resume: options differ from the checkpointed run: \(differing.joined(separator: ", "))")
        }
    }

    /// On another rank count, the epoch must still have the same steps (the sampler's shares are
    /// truncated to a multiple of the rank count, which can change the last, short step).
    func checkEpoch(batchesPerEpoch: Int, ranks: Int, elastic: Bool = false) throws {
        guard header.ranks != ranks, !elastic else { return }  // --elastic: the epoch continues at its samples
        guard let then = header.batchesPerEpoch else {
            throw RunError.checkpoint("checkpoint was written by \(header.ranks) ranks before checkpoints recorded their epoch; resume with mpirun -np \(header.ranks)")
        }
        guard then == batchesPerEpoch else {
            throw RunError.checkpoint("on \(ranks) ranks an epoch has \(batchesPerEpoch) steps, not the checkpoint's \(then); resume with mpirun -np \(header.ranks)")
        }
    }
}
