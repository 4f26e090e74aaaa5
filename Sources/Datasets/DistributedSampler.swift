import Support

/// Which samples each rank trains on, epoch by epoch (as PyTorch's DistributedSampler with
/// drop_last): a permutation of the whole set seeded by seed + epoch, truncated to a multiple of
/// the rank count, rank r taking positions r, r+p, r+2p, … Shares are disjoint and equal.
public struct DistributedSampler: Sendable, Equatable {
    public let count: Int
    public let ranks: Int
    public let rank: Int
    public let seed: UInt64

    public init(count: Int, ranks: Int, rank: Int, seed: UInt64) {
        precondition(ranks > 0 && rank >= 0 && rank < ranks)
        self.count = count; self.ranks = ranks; self.rank = rank; self.seed = seed
    }

    /// Samples per rank per epoch.
    public var samplesPerRank: Int { count / ranks }

    /// Batches per epoch at a per-rank batch size (the last one may be short; equal on every rank).
    public func batchesPerEpoch(batchSize: Int) -> Int { (samplesPerRank + batchSize - 1) / batchSize }

    /// This rank's sample indices for `epoch`, in the order they are used.
    public func indices(epoch: Int) -> [Int32] {
        var order = [Int32](), permutation = [Int32]()
        fill(&order, epoch: epoch, permutation: &permutation)
        return order
    }

    /// `indices(epoch:)` into `order`, with `permutation` as scratch: both reuse their storage,
    /// so a new epoch allocates nothing.
    public func fill(_ order: inout [Int32], epoch: Int, permutation: inout [Int32]) {
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        rng.permute(&permutation, count: count)
        order.removeAll(keepingCapacity: true)
        for k in 0..<samplesPerRank { order.append(permutation[k * ranks + rank]) }
    }
}
