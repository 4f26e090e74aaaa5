/// A rank's view of the job: who it is, where it runs, and the collectives it takes part in.
public final class Communicator {
    public let transport: any Transport
    /// The gradient all-reduce (ring, recursive doubling, halving-doubling or auto), with its statistics.
    public let allReduce: AllReduce

    public var rank: Int { transport.rank }
    public var size: Int { transport.size }
    public var localRank: Int { transport.localRank }
    public var localSize: Int { transport.localSize }
    public var node: Int { transport.node }
    public var nodeCount: Int { transport.nodeCount }
    public var isRoot: Bool { transport.rank == 0 }

    public init(transport: any Transport) {
        self.transport = transport
        self.allReduce = AllReduce(transport: transport)
    }

    public func barrier() throws { try transport.barrier() }

    /// Every rank contributes `values` (the same count everywhere); returns all of them, rank by rank.
    public func allGather<T: BitwiseCopyable>(_ values: [T]) throws -> [T] {
        var all = [T](unsafeUninitializedCapacity: values.count * size) { _, n in n = values.count * size }
        try values.withUnsafeBytes { mine in
            try all.withUnsafeMutableBytes { try transport.allGather(mine, into: $0) }
        }
        return all
    }

    /// Gathers to every rank (rank 0 uses it; the others discard): each rank's `values`, rank by rank.
    /// Fails with `lengthMismatch` if ranks contribute different counts.
    public func gather<T: BitwiseCopyable>(_ values: [T]) throws -> [[T]] {
        let counts = try allGather([Int64(values.count)])
        guard Set(counts).count == 1 else {
            throw CollectiveError.lengthMismatch(operation: "gather", lengths: counts.map(Int.init))
        }
        let flat = try allGather(values)
        return (0..<size).map { Array(flat[($0 * values.count)..<(($0 + 1) * values.count)]) }
    }

    /// Element-wise sum over ranks, added in rank order (so the same on every rank, bit for bit).
    public func sum(_ values: [Double]) throws -> [Double] {
        let rows = try gather(values)
        var total = [Double](repeating: 0, count: values.count)
        for row in rows { for i in 0..<values.count { total[i] += row[i] } }
        return total
    }

    /// Element-wise maximum over ranks.
    public func max(_ values: [Double]) throws -> [Double] {
        let rows = try gather(values)
        var top = values
        for row in rows { for i in 0..<values.count { top[i] = Swift.max(top[i], row[i]) } }
        return top
    }

    /// Root's bytes on every rank (lengths need not be known by the others).
    public func broadcast(_ bytes: [UInt8], root: Int = 0) throws -> [UInt8] {
        var length = Int64(bytes.count)
        try withUnsafeMutableBytes(of: &length) { try transport.broadcast($0, root: root) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length))
        try out.withUnsafeMutableBytes { try transport.broadcast($0, root: root) }
        return out
    }

    /// Every rank must hold the same `value`; otherwise throws `disagreement` naming the ranks
    /// that differ from rank 0 (on every rank, so no rank is left waiting).
    public func agree(on value: UInt64, what: String) throws {
        let differing = try differencesFromRoot([value]).map(\.rank)
        if !differing.isEmpty { throw CollectiveError.disagreement(what: what, ranks: differing) }
    }

    /// "Every rank agrees with rank 0", written once: each rank gives the same number of values;
    /// returns, on every rank, the ranks whose values differ from rank 0's and at which indices.
    public func differencesFromRoot(_ values: [UInt64]) throws -> [(rank: Int, indices: [Int])] {
        let all = try allGather(values), k = values.count
        return (1..<Swift.max(1, size)).compactMap { r in
            let indices = (0..<k).filter { all[r * k + $0] != all[$0] }
            return indices.isEmpty ? nil : (r, indices)
        }
    }
}

extension Communicator {
    /// Every rank contributes an array of any length; returns all of them, rank by rank (padded to
    /// the longest for one fixed-size all-gather, then trimmed).
    public func allGatherVariable<T: BitwiseCopyable & Numeric>(_ values: [T]) throws -> [[T]] {
        let counts = try allGather([Int64(values.count)]).map(Int.init)
        let width = counts.max() ?? 0
        let flat = try allGather(values + repeatElement(0, count: width - values.count))
        return (0..<size).map { Array(flat[($0 * width)..<($0 * width + counts[$0])]) }
    }

    /// Every rank contributes a byte string of any length; returns all of them, rank by rank.
    public func allGatherBytes(_ bytes: [UInt8]) throws -> [[UInt8]] { try allGatherVariable(bytes) }

    /// How many ranks, this one included, give the same `key` (collective): with the machine's
    /// identity as the key, the ranks that share this rank's physical machine.
    public func ranksSharing(key: String) throws -> Int {
        let mine = Array(key.utf8)
        return try allGatherBytes(mine).filter { $0 == mine }.count
    }
}
