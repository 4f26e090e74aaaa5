import Accounting
import RunFiles
import Collectives
import Datasets
import Foundation
import Model
import Support

/// Where the run stands, beside the parameters and the optimizer's state: what a checkpoint saves.
struct RunPosition {
    /// Iterations done (the sampler is a pure function of seed, epoch and step, so this is the data position).
    var step = 0
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
    /// The last checkpoint's window on the aligned clock: it sits in the gap before the next
    /// iteration, which reports it as its checkpoint phase.
    private var lastWindow: (start: Double, seconds: Double)?

    init(comm: Communicator, config: TrainConfig, model: M, optimizer: Optimizer, directory: RunDirectory?, data: DataFingerprint) {
        self.comm = comm; self.config = config; self.model = model; self.optimizer = optimizer; self.directory = directory
        self.data = data
    }

    /// Rank 0 writes parameters, optimizer state, position, clock and totals; a failure goes to
    /// `failed` (the run stops at the next flush). Every rank times the window.
    func save(_ position: RunPosition, totals: RunTotals, start: Double, now: () -> Double, failed: (Error) -> Void) {
        if comm.isRoot, let directory {
            let header = CheckpointHeader(
                ranks: comm.size, step: position.step, clockSeconds: now(), optimizerSteps: optimizer.steps,
                skippedSteps: position.skippedSteps, evaluations: position.evaluations, totals: totals, config: config,
                parameterCount: model.parameterCount, firstMomentCount: optimizer.firstMoment.count,
                secondMomentCount: optimizer.secondMoment.count, data: data)
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
        return RunPosition(step: checkpoint.header.step, skippedSteps: checkpoint.header.skippedSteps,
                           evaluations: checkpoint.header.evaluations)
    }
}

extension Checkpoint {
    /// A checkpoint continues a run only on the data it trained on.
    func checkData(_ now: DataFingerprint, config: TrainConfig) throws {
        guard let then = header.data, then != now else { return }
        throw RunError.checkpoint("cannot resume: the data changed since the checkpoint (--data \(config.data): "
                                  + "then \(then), now \(now)); restore the data the run trained on, or start a new run")
    }

    /// A checkpoint continues a run only with the same rank count and the same maths.
    func checkContinues(_ config: TrainConfig, ranks: Int) throws {
        guard header.ranks == ranks else {
            throw RunError.checkpoint("checkpoint was written by \(header.ranks) ranks; resume with mpirun -np \(header.ranks) "
                                          + "(a different rank count would change the data order and the sums)")
        }
        let differing = config.differingKeys(from: header.config).filter { !TrainConfig.resumableKeys.contains($0) }
        guard differing.isEmpty else {
            throw RunError.checkpoint("cannot resume: options differ from the checkpointed run: \(differing.joined(separator: ", "))")
        }
    }
}
