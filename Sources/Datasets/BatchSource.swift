/// Where a rank's batches come from, for any workload.
///
/// Every batch is a pure function of the seed, the rank count, the rank and (epoch, step), so two
/// runs with the same seed see the same data in the same order and a resumed run continues
/// exactly. Batches are allocated once (`make…Batch`) and refilled: a step allocates nothing.
public protocol BatchSource: AnyObject {
    associatedtype Batch

    /// Training steps per epoch: the same on every rank.
    var batchesPerEpoch: Int { get }
    /// Samples (or tokens) of the whole job in one full step: per-rank batch × ranks (× context).
    var samplesPerStep: Int { get }
    /// Steps left in an epoch after its first `skipping` samples (tokens) of the whole job were
    /// taken, by this job or by the one it resumes (which may have had another rank count or batch).
    func batches(inEpochSkipping skipping: Int) -> Int
    /// Hashes of the loaded data that every rank must share (a mismatch means ranks read different files).
    var fingerprints: [UInt64] { get }
    /// Every byte the source trains and evaluates on, hashed: what a checkpoint records.
    var dataFingerprint: DataFingerprint { get }

    func makeTrainingBatch() -> Batch
    /// Fills `batch` with this rank's training batch `step` (0-based, counted after the epoch's
    /// first `skipping` samples) of `epoch`.
    func fillTraining(_ batch: Batch, epoch: Int, step: Int, skipping: Int)
    /// A hint that `fillTraining(_:epoch:step:skipping:)` comes next: a source that gathers
    /// scattered rows requests them now, so they arrive while the current step computes.
    func prefetchTraining(epoch: Int, step: Int, skipping: Int)
    /// Samples (or tokens) in a filled batch: what throughput and energy per sample count.
    func samples(in batch: Batch) -> Int
    /// What `samples` counts: "sample", or "token" for a language model.
    var sampleUnit: String { get }

    func makeEvaluationBatch() -> Batch
    /// This rank's share of the held-out data, in batches (ranks may differ by one).
    var evaluationBatches: Int { get }
    /// Fills `batch` with this rank's evaluation batch `index` (0..<evaluationBatches).
    func fillEvaluation(_ batch: Batch, index: Int)
}

extension BatchSource {
    public var sampleUnit: String { "sample" }
    public func prefetchTraining(epoch: Int, step: Int, skipping: Int) {}
    public var batchesPerEpoch: Int { batches(inEpochSkipping: 0) }
}
