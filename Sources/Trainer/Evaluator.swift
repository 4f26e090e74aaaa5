import Accounting
import RunFiles
import Collectives
import Datasets
import Model

/// Evaluation on held-out data, split over the ranks: each rank runs its share of the source's
/// evaluation batches, the sums are added over ranks (a fixed order, so every rank gets the same
/// figures), and the model turns them into its named metrics.
final class Evaluator<M: TrainableModel, S: BatchSource> where M.Batch == S.Batch {
    let model: M
    let source: S
    let comm: Communicator
    private let batch: S.Batch

    init(model: M, source: S, comm: Communicator) {
        self.model = model
        self.source = source
        self.comm = comm
        batch = source.makeEvaluationBatch()
    }

    func run() throws -> [Metric] {
        var sums = [Double](repeating: 0, count: model.evaluationSumCount)
        for index in 0..<source.evaluationBatches {
            source.fillEvaluation(batch, index: index)
            for (i, x) in model.evaluationSums(batch).enumerated() { sums[i] += x }
        }
        return model.metrics(fromSums: try comm.sum(sums))
    }
}
