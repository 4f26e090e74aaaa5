import Collectives

/// Where a job's ranks sit: `ranksPerNode` ranks on each of `nodes` nodes, numbered node by node
/// (ranks 0…k−1 on the first node), as mpirun places them by slot and as Ringwatt's ring orders them.
public struct Topology: Sendable, Equatable, Hashable, Codable {
    public var nodes: Int
    public var ranksPerNode: Int
    public var ranks: Int { nodes * ranksPerNode }

    public init(nodes: Int, ranksPerNode: Int) {
        precondition(nodes >= 1 && ranksPerNode >= 1)
        self.nodes = nodes; self.ranksPerNode = ranksPerNode
    }

    public func node(ofRank r: Int) -> Int { r / ranksPerNode }

    /// "4×2": nodes × ranks per node.
    public var label: String { "\(nodes)×\(ranksPerNode)" }
}

/// The all-reduce's cost on a two-level network: ranks of one node talk over the node's own
/// transport (shared memory, or loopback TCP on the emulated cluster) at `intra`'s α and β, nodes
/// over the network at `inter`'s, both fitted by `bench-allreduce --fit` (on one node with k ranks,
/// and on N nodes with one rank each). Every algorithm Ringwatt runs is a sequence of steps in
/// which pairs of ranks exchange a piece at once; a step lasts as long as its slowest pair, so a
/// step that crosses nodes anywhere pays the slower level's α and β. For n payload bytes (Float32),
/// a wire of w bytes per value, p = N·k ranks, q = (p−1)/p:
///
///   ring             2(p−1) steps of n/p:  2(p−1)·α_L + 2q·n·(w/4)·β_L + q·n·γ + 2q·n·c_w
///                    (L: inter as soon as N > 1 — the ring ordered by node has one link per node
///                    that leaves it, and every step uses every link; intra on one node)
///   rec. doubling    log2(p₂) steps of n, each at the level its partners are on
///                    (+2 steps of n between neighbours when p is not a power of two p₂)
///   halving-doubling log2(p₂) steps of n/2, n/4, … reducing, then the same sizes gathering
///
/// γ is the local reduction per byte, c_w the conversion per payload byte to and from a 16-bit
/// wire (encode + decode, 0 for f32). The ring's line is the cost `RingCostModel` fits.
public struct ClusterCostModel: Sendable, Equatable {
    /// Between ranks of one node; nil if not fitted.
    public var intra: RingCostModel?
    /// Between nodes; nil if not fitted.
    public var inter: RingCostModel?
    /// c_w: seconds per payload byte to encode to and decode from each 16-bit wire format.
    public var conversionSecondsPerByte: [WireFormat: Double]
    /// `auto` resolves as the trainer's all-reduce does (`AllReduce.Options`' thresholds).
    public var smallMessageBytes: Int
    public var largeMessageBytes: Int

    public init(intra: RingCostModel?, inter: RingCostModel?, conversionSecondsPerByte: [WireFormat: Double] = [:],
                options: AllReduce.Options = AllReduce.Options()) {
        self.intra = intra; self.inter = inter; self.conversionSecondsPerByte = conversionSecondsPerByte
        smallMessageBytes = options.smallMessageBytes; largeMessageBytes = options.largeMessageBytes
    }

    /// One fitted level used for both (what `predict` has always assumed: one network).
    public init(oneLevel ring: RingCostModel) {
        self.init(intra: ring, inter: ring)
    }

    /// A configuration needs a level that was not fitted.
    public struct MissingLevel: Error, Equatable, CustomStringConvertible {
        public var level: String
        public var topology: Topology
        public init(level: String, topology: Topology) { self.level = level; self.topology = topology }
        public var description: String {
            "\(topology.label) (nodes × ranks per node) needs the \(level)-node fit "
                + (level == "intra" ? "(bench-allreduce --fit on one node with its ranks)" : "(bench-allreduce --fit on 2 nodes, one rank each)")
        }
    }

    /// The algorithm a bucket of `bytes` runs: `auto` resolved as the trainer resolves it.
    public func resolved(_ algorithm: AllReduceAlgorithm, bytes: Double, ranks: Int) -> AllReduceAlgorithm {
        guard algorithm == .auto else { return algorithm }
        if bytes < Double(smallMessageBytes) { return .recursiveDoubling }
        if ranks > 2 && bytes < Double(largeMessageBytes) { return .halvingDoubling }
        return .ring
    }

    /// Seconds for one all-reduce of `bytes` payload bytes (Float32) on `topology`.
    public func seconds(bytes n: Double, topology t: Topology, algorithm: AllReduceAlgorithm = .ring,
                        wire: WireFormat = .f32) throws -> Double {
        let p = t.ranks
        guard p > 1 else { return 0 }
        let w = Double(wire.bytes) / 4, convert = wire == .f32 ? 0 : conversionSecondsPerByte[wire] ?? 0
        // One step: pieces of `bytes` exchanged between pairs, reduced or not, at the slowest level used.
        func step(_ bytes: Double, crossesNodes: Bool, reduces: Bool) throws -> Double {
            let l = try level(crossesNodes: crossesNodes, t)
            return l.alpha + bytes * w * l.beta + (reduces ? bytes * l.gamma : 0) + bytes * convert
        }
        var p2 = 1
        while p2 * 2 <= p { p2 *= 2 }
        let rem = p - p2
        func real(_ v: Int) -> Int { v < rem ? v * 2 + 1 : v + rem }
        func crosses(mask: Int) -> Bool {
            (0..<p2).contains { t.node(ofRank: real($0)) != t.node(ofRank: real($0 ^ mask)) }
        }
        // The fold of a non-power of two: ranks 2i and 2i+1 (i < rem) hand over n and back.
        let fold = rem == 0 ? 0 : try 2 * step(n, crossesNodes: (0..<rem).contains { t.node(ofRank: 2 * $0) != t.node(ofRank: 2 * $0 + 1) },
                                               reduces: false) + n * gamma
        switch resolved(algorithm, bytes: n, ranks: p) {
        case .ring, .auto:
            let q = Double(p - 1) / Double(p), l = try level(crossesNodes: t.nodes > 1, t)
            return 2 * Double(p - 1) * l.alpha + 2 * q * n * w * l.beta + q * n * l.gamma + 2 * q * n * convert
        case .recursiveDoubling:
            var total = fold, mask = 1
            while mask < p2 { total += try step(n, crossesNodes: crosses(mask: mask), reduces: true); mask <<= 1 }
            return total
        case .halvingDoubling:
            var total = fold, mask = p2 / 2, piece = n
            while mask >= 1 {
                piece /= 2
                let c = crosses(mask: mask)
                total += try step(piece, crossesNodes: c, reduces: true) + step(piece, crossesNodes: c, reduces: false)
                mask /= 2
            }
            return total
        }
    }

    /// γ: the local reduction, the same whichever level fitted it (each fit measures it on its machine).
    var gamma: Double { max(inter?.gamma ?? 0, intra?.gamma ?? 0) }

    /// The level a step pays: inter if it crosses nodes (or, on a ring over several nodes, the
    /// slower of the two when the node also has ranks talking inside it).
    func level(crossesNodes: Bool, _ t: Topology) throws -> RingCostModel {
        if !crossesNodes {
            guard let intra else { throw MissingLevel(level: "intra", topology: t) }
            return intra
        }
        guard let inter else { throw MissingLevel(level: "inter", topology: t) }
        guard t.ranksPerNode > 1 else { return inter }
        guard let intra else { throw MissingLevel(level: "intra", topology: t) }
        return RingCostModel(alpha: max(inter.alpha, intra.alpha), beta: max(inter.beta, intra.beta),
                             gamma: max(inter.gamma, intra.gamma))
    }

    /// The model with the inter-node wire at another link rate (`RingCostModel.atLink`); the
    /// intra-node level does not use the network.
    public func atLink(gbit: Double, fitLinkGbit: Double?) -> ClusterCostModel {
        var m = self
        m.inter = inter?.atLink(gbit: gbit, fitLinkGbit: fitLinkGbit)
        return m
    }
}
