import Support

/// Which samples each rank trains on, epoch by epoch (as PyTorch's DistributedSampler with
/// drop_last): a permutation of the whole set seeded by seed + epoch, truncated to a multiple of
/// the rank count, rank r taking positions r, r+p, r+2p, … Shares are disjoint and equal. Step s
/// of a per-rank batch b takes positions s·b·p ..< (s+1)·b·p of the permutation, so a job that
/// resumes mid-epoch with another rank count or batch continues at the position its
/// predecessor reached (`skipping` the positions already taken).
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

    /// Batches per epoch at a per-rank batch size (the last one may be short; equal on every rank),
    /// after the epoch's first `skipping` positions.
    public func batchesPerEpoch(batchSize: Int, skipping: Int = 0) -> Int {
        (samples(skipping: skipping) + batchSize - 1) / batchSize
    }

    /// This rank's samples of an epoch after its first `skipping` positions.
    public func samples(skipping: Int) -> Int { max(0, samplesPerRank * ranks - skipping) / ranks }

    /// This rank's sample indices for `epoch`, in the order they are used.
    public func indices(epoch: Int, skipping: Int = 0) -> [Int32] {
        var order = [Int32](), permutation = [Int32]()
        fill(&order, epoch: epoch, skipping: skipping, permutation: &permutation)
        return order
    }

    /// `indices(epoch:)` into `order`, with `permutation` as scratch: both reuse their storage,
    /// so a new epoch allocates nothing.
    public func fill(_ order: inout [Int32], epoch: Int, skipping: Int = 0, permutation: inout [Int32]) {
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9)
        rng.permute(&permutation, count: count)
        order.removeAll(keepingCapacity: true)
        let first = max(0, skipping)
        for k in 0..<samples(skipping: first) { order.append(permutation[first + k * ranks + rank]) }
    }
}
