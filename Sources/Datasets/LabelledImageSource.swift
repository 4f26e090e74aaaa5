import Support

/// The classifier's batches: a labelled training set shared among ranks epoch by epoch
/// (`DistributedSampler`: a seeded permutation per epoch, rank r taking every p-th sample), bytes
/// converted to normalised floats as each batch is drawn; the test set split over the ranks by
/// stride (rank r evaluates samples r, r+p, r+2p, …).
public final class LabelledImageSource: BatchSource {
    public let train: Dataset
    public let test: Dataset
    public let sampler: DistributedSampler
    public let batchSize: Int
    public let evaluationBatchSize: Int
    private let converter = BatchConverter()
    /// This rank's sample order for `orderEpoch` after its first `orderSkipping` positions (computed once per epoch).
    private var order: [Int32] = []
    private var orderEpoch = -1, orderSkipping = 0
    /// The epoch's permutation of the whole set, kept so a new epoch reuses its storage.
    private var permutation: [Int32] = []
    private var evaluationIndices: [Int32]

    public init(train: Dataset, test: Dataset, ranks: Int, rank: Int, seed: UInt64,
                batchSize: Int, evaluationBatchSize: Int) throws {
        guard train.features == test.features else {
            throw DatasetError.featureMismatch(train: train.features, test: test.features)
        }
        sampler = DistributedSampler(count: train.count, ranks: ranks, rank: rank, seed: seed)
        guard sampler.samplesPerRank > 0 else {
            throw DatasetError.invalid("\(train.count) training samples cannot be shared by \(ranks) ranks")
        }
        self.train = train
        self.test = test
        self.batchSize = batchSize
        self.evaluationBatchSize = evaluationBatchSize
        evaluationIndices = []
        evaluationIndices.reserveCapacity(evaluationBatchSize)
    }

    public func batches(inEpochSkipping skipping: Int) -> Int { sampler.batchesPerEpoch(batchSize: batchSize, skipping: skipping) }
    public var samplesPerStep: Int { batchSize * sampler.ranks }
    public var fingerprints: [UInt64] { [train.fingerprint, test.fingerprint] }
    public var dataFingerprint: DataFingerprint { DataFingerprint([train.labels, train.images, test.labels, test.images]) }

    public func makeTrainingBatch() -> ClassificationBatch { ClassificationBatch(capacity: batchSize, features: train.features) }
    public func makeEvaluationBatch() -> ClassificationBatch {
        ClassificationBatch(capacity: evaluationBatchSize, features: test.features)
    }

    public func fillTraining(_ batch: ClassificationBatch, epoch: Int, step: Int, skipping: Int) {
        if epoch != orderEpoch || skipping != orderSkipping {
            sampler.fill(&order, epoch: epoch, skipping: skipping, permutation: &permutation)
            orderEpoch = epoch; orderSkipping = skipping
        }
        let lo = step * batchSize, hi = min(lo + batchSize, order.count)
        converter.fill(batch.inputs.pointer, batch.labels, from: train, indices: order[lo..<hi])
        batch.count = hi - lo
    }

    /// Within the epoch whose order is drawn (the next epoch's first batch is not prefetched).
    public func prefetchTraining(epoch: Int, step: Int, skipping: Int) {
        guard epoch == orderEpoch, skipping == orderSkipping, step * batchSize < order.count else { return }
        let lo = step * batchSize, hi = min(lo + batchSize, order.count)
        converter.prefetch(from: train, indices: order[lo..<hi])
    }

    public func samples(in batch: ClassificationBatch) -> Int { batch.count }

    /// Test samples this rank evaluates: r, r+p, … below the test set's size.
    private var evaluationShare: Int { max(0, (test.count - sampler.rank + sampler.ranks - 1) / sampler.ranks) }

    public var evaluationBatches: Int { (evaluationShare + evaluationBatchSize - 1) / evaluationBatchSize }

    public func fillEvaluation(_ batch: ClassificationBatch, index: Int) {
        let first = index * evaluationBatchSize, last = min(first + evaluationBatchSize, evaluationShare)
        evaluationIndices.removeAll(keepingCapacity: true)
        for k in first..<last { evaluationIndices.append(Int32(sampler.rank + k * sampler.ranks)) }
        converter.fill(batch.inputs.pointer, batch.labels, from: test, indices: evaluationIndices[...])
        batch.count = last - first
    }
}
