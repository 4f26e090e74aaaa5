import Foundation
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

/// One level of the network: the ring's fitted line (α, β, γ) and, where the fit kept them, the
/// ring rows it was fitted to. A step that sends a piece of s bytes costs, on the line,
/// α + s·β (+ the reduction); from the rows, what the fit's own ring paid per step for pieces of
/// that size: T(p_f·s) / 2(p_f − 1), T interpolated linearly between the measured sizes (the
/// smallest row below them, the line's slope beyond the largest). Real links are not straight
/// lines — a shaped link passes a burst at full speed, TCP's window grows — and the rows carry that.
public struct LevelCost: Sendable, Equatable {
    public var line: RingCostModel
    /// (bytes, seconds) of the fit's ring all-reduce on `ranks` ranks, ascending in bytes.
    public var rows: [Row]
    public var ranks: Int
    /// The share of a core a rank keeps busy while it communicates at this level (nil: not measured).
    public var cpuShare: Double?
    /// The same share measured at each size of the fit's ring (bytes ascending): a rank that tests
    /// and sleeps spends more of a short wait testing than of a long one (`PollingBackoff`).
    public let cpuShares: [ShareRow]

    public struct ShareRow: Sendable, Equatable {
        public var bytes: Double, share: Double
        public init(bytes: Double, share: Double) { self.bytes = bytes; self.share = share }
    }

    /// The CPU share while an all-reduce of `bytes` (f32 payload; the wire's bytes for a 16-bit
    /// wire) runs: interpolated in log(bytes) between the measured sizes, the nearest end beyond
    /// them; `cpuShare` where no size was measured.
    public func cpuShare(bytes: Double) -> Double? {
        guard let first = cpuShares.first, let last = cpuShares.last else { return cpuShare }
        if bytes <= first.bytes { return first.share }
        if bytes >= last.bytes { return last.share }
        let i = cpuShares.firstIndex { $0.bytes >= bytes }!, a = cpuShares[i - 1], b = cpuShares[i]
        return a.share + (log(bytes) - log(a.bytes)) / (log(b.bytes) - log(a.bytes)) * (b.share - a.share)
    }

    public struct Row: Sendable, Equatable {
        public var bytes: Double, seconds: Double
        public init(bytes: Double, seconds: Double) { self.bytes = bytes; self.seconds = seconds }
    }

    public init(_ line: RingCostModel, rows: [Row] = [], ranks: Int = 2, cpuShare: Double? = nil, cpuShares: [ShareRow] = []) {
        self.line = line; self.ranks = max(2, ranks); self.cpuShare = cpuShare
        self.rows = rows.filter { $0.bytes > 0 && $0.seconds > 0 }.sorted { $0.bytes < $1.bytes }
        self.cpuShares = cpuShares.filter { $0.bytes > 0 }.sorted { $0.bytes < $1.bytes }
    }

    /// Seconds of one step: `wire` bytes sent (and received) by every rank, `reduced` payload bytes added in.
    public func step(wire s: Double, reduced: Double) -> Double {
        guard rows.count >= 2 else { return line.alpha + s * line.beta + reduced * line.gamma }
        let p = Double(ranks), x = p * s, perStep = 2 * (p - 1)
        if x <= rows[0].bytes { return rows[0].seconds / perStep }
        if let i = rows.firstIndex(where: { $0.bytes >= x }) {
            let a = rows[i - 1], b = rows[i]
            return (a.seconds + (x - a.bytes) * (b.seconds - a.seconds) / (b.bytes - a.bytes)) / perStep
        }
        let q = (p - 1) / p, last = rows[rows.count - 1]
        return (last.seconds + (x - last.bytes) * (2 * q * line.beta + q * line.gamma)) / perStep
    }

    /// At another link rate the measured rows no longer apply: the line alone, its wire part changed.
    public func atLink(gbit: Double, fitLinkGbit: Double?) -> LevelCost {
        // The CPU shares stay as measured at the fit's rate.
        LevelCost(line.atLink(gbit: gbit, fitLinkGbit: fitLinkGbit), rows: [], ranks: ranks, cpuShare: cpuShare, cpuShares: cpuShares)
    }

    /// The slower of two levels, step by step (a ring step that uses both).
    func slower(_ other: LevelCost) -> (Double, Double) -> Double {
        { s, r in max(self.step(wire: s, reduced: r), other.step(wire: s, reduced: r)) }
    }
}

/// The all-reduce's cost on a two-level network: ranks of one node talk over the node's own
/// transport (shared memory, on the emulated cluster too) at `intra`'s cost per step,
/// nodes over the network at `inter`'s, both fitted by `bench-allreduce --fit` (on one node with k
/// ranks, and on N nodes with one rank each; `LevelCost`). Every algorithm Ringwatt runs is a
/// sequence of steps in which pairs of ranks exchange a piece at once; a step lasts as long as its
/// slowest pair, so a step that crosses nodes anywhere pays the slower level. For n payload bytes
/// (Float32), a wire of w bytes per value (n_w = n·w/4), p = N·k ranks, q = (p−1)/p, on the line:
///
///   ring             2(p−1) steps of n_w/p:  2(p−1)·α_L + 2q·n_w·β_L + q·n·γ + 2q·n·c_w
///                    (L: the slower of inter and intra as soon as N > 1 — the ring ordered by
///                    node has one link per node that leaves it, and every step uses every link;
///                    intra on one node; inter as the widest ring fitted not wider than p ran it)
///   rec. doubling    log2(p₂) steps of n_w, each at the level its partners are on
///                    (+2 steps of n_w between neighbours when p is not a power of two p₂)
///   halving-doubling log2(p₂) steps of n_w/2, n_w/4, … reducing, then the same sizes gathering
///
/// γ is the local reduction per byte, c_w the conversion per payload byte to and from a 16-bit
/// wire (encode + decode, 0 for f32). With the fit's rows, each step's α + s·β is what the fit
/// measured for pieces of that size instead — and the ring's steps, back to back, move a rank's
/// 2q·n_w bytes no faster than one call of the fit's own ring moving as many (`streamSeconds`):
/// a call after a pause, as the fit times it, passes its first bytes in a shaped link's burst,
/// which a ring of more ranks gets once, not at every step (4 emulated hosts at 1 Gbit/s: the
/// MLP's ring priced at 8.7 ms from the 2-host fit's steps, measured 11.3–11.6; the fit's call
/// moving as many bytes, 11.3).
public struct ClusterCostModel: Sendable, Equatable {
    /// Between ranks of one node; nil if not fitted.
    public var intra: LevelCost?
    /// Between nodes; nil if not fitted. Fitted on nodes of one rank each: a pair's exchange.
    public var inter: LevelCost?
    /// The inter-node ring fitted on more ranks than `inter` (N nodes × k ranks, ordered by node,
    /// so every step crosses nodes somewhere and the network paces it), ascending in ranks. A ring
    /// is priced from the widest fit not wider than itself (`ringLevel`): a ring of 2 runs
    /// differently from a ring of 4 on the same link (emulated hosts at 1 Gbit/s, 16 MB calls
    /// after a 170 ms pause: 2 ranks, 8 MB pieces, 0.074–0.078 GB/s bus bandwidth; 4 ranks, 4 MB
    /// pieces, 0.093–0.102 — the 2-rank fit priced the GPT's 4-rank rings 14–15 % too slow).
    public var widerInter: [LevelCost]
    /// c_w: seconds per payload byte to encode to and decode from each 16-bit wire format.
    public var conversionSecondsPerByte: [WireFormat: Double]
    /// `auto` resolves as the trainer's all-reduce does (`AllReduce.Options`' thresholds).
    public var smallMessageBytes: Int
    public var largeMessageBytes: Int

    public init(intra: LevelCost?, inter: LevelCost?, widerInter: [LevelCost] = [], conversionSecondsPerByte: [WireFormat: Double] = [:],
                options: AllReduce.Options = AllReduce.Options()) {
        self.intra = intra; self.conversionSecondsPerByte = conversionSecondsPerByte
        // The narrowest inter-node fit prices a pair's exchange (a wider one where it is the only one).
        let fits = ((inter.map { [$0] } ?? []) + widerInter).sorted { $0.ranks < $1.ranks }
        self.inter = fits.first
        self.widerInter = fits.filter { $0.ranks > fits[0].ranks }
        smallMessageBytes = options.smallMessageBytes; largeMessageBytes = options.largeMessageBytes
    }

    /// Both levels on their fitted lines.
    public init(intra: RingCostModel?, inter: RingCostModel?, conversionSecondsPerByte: [WireFormat: Double] = [:]) {
        self.init(intra: intra.map { LevelCost($0) }, inter: inter.map { LevelCost($0) }, conversionSecondsPerByte: conversionSecondsPerByte)
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
        let p2 = AllReduce.foldedRanks(p), rem = p - p2
        func real(_ v: Int) -> Int { v < rem ? v * 2 + 1 : v + rem }
        func crosses(mask: Int) -> Bool {
            (0..<p2).contains { t.node(ofRank: real($0)) != t.node(ofRank: real($0 ^ mask)) }
        }
        // One step: pieces of `bytes` payload exchanged between pairs, reduced or not, at the slowest level used.
        func step(_ bytes: Double, crossesNodes: Bool, reduces: Bool) throws -> Double {
            try level(crossesNodes: crossesNodes, t)(bytes * w, reduces ? bytes : 0) + bytes * convert
        }
        // The doubling algorithms' fold of a non-power of two: ranks 2i and 2i+1 (i < rem) hand
        // over n and back; one adds.
        func fold() throws -> Double {
            guard rem > 0 else { return 0 }
            let crosses = (0..<rem).contains { t.node(ofRank: 2 * $0) != t.node(ofRank: 2 * $0 + 1) }
            return try step(n, crossesNodes: crosses, reduces: true) + step(n, crossesNodes: crosses, reduces: false)
        }
        switch resolved(algorithm, bytes: n, ranks: p) {
        case .ring, .auto:
            // 2(p−1) steps of n/p; half of them add their piece in.
            let piece = n / Double(p), cost = try level(crossesNodes: t.nodes > 1, t, ring: true)
            let steps = 2 * Double(p - 1) * cost(piece * w, piece / 2)
            return max(steps, streamSeconds(bytes: n * w, topology: t)) + conversionSeconds(bytes: n, ranks: p, wire: wire)
        case .recursiveDoubling:
            var total = try fold(), mask = 1
            while mask < p2 { total += try step(n, crossesNodes: crosses(mask: mask), reduces: true); mask <<= 1 }
            return total
        case .halvingDoubling:
            var total = try fold(), mask = p2 / 2, piece = n
            while mask >= 1 {
                piece /= 2
                let c = crosses(mask: mask)
                total += try step(piece, crossesNodes: c, reduces: true) + step(piece, crossesNodes: c, reduces: false)
                mask /= 2
            }
            return total
        }
    }

    /// The least a ring of `bytes` on the wire takes on `topology`: one call of the fit's own ring
    /// (the level its links pay: inter once it spans nodes, `pacingLevel`) that moves as many bytes per rank,
    /// 2q·n_w — a call of y bytes on the fit's p_f ranks moves 2(p_f−1)/p_f·y. On the fitted line
    /// this never exceeds the ring's own steps (p ≥ p_f); from the rows, it is their stream.
    public func streamSeconds(bytes nw: Double, topology t: Topology) -> Double {
        guard t.ranks > 1, let level = pacingLevel(t), level.rows.count >= 2 else { return 0 }
        let perRank = 2 * nw * Double(t.ranks - 1) / Double(t.ranks), pf = Double(level.ranks)
        return level.fitSeconds(bytes: perRank * pf / (2 * (pf - 1)))
    }

    /// The level whose fit paces a job on `topology` as a whole (its stream of bytes, its ranks'
    /// CPU): the inter-node ring once it spans nodes (`ringLevel`), else intra; nil if not fitted.
    public func pacingLevel(_ t: Topology) -> LevelCost? { t.nodes > 1 ? ringLevel(ranks: t.ranks) : intra }

    /// The inter-node fit a ring of `p` ranks is priced from: the widest not wider than it
    /// (`widerInter`), else `inter`.
    public func ringLevel(ranks p: Int) -> LevelCost? {
        widerInter.last { $0.ranks <= p } ?? inter
    }

    /// The ring's conversion to and from a 16-bit wire, 2q·n·c_w (0 for f32): CPU work, whatever
    /// the waits do.
    public func conversionSeconds(bytes n: Double, ranks p: Int, wire: WireFormat) -> Double {
        guard wire != .f32, p > 1 else { return 0 }
        return 2 * n * Double(p - 1) / Double(p) * (conversionSecondsPerByte[wire] ?? 0)
    }

    /// The cost of a step at the level it pays: inter if it crosses nodes (on a node with several
    /// ranks, the slower of the two: some pairs of the step stay inside a node), else intra. A
    /// ring's steps at the inter level are its `ringLevel`'s; a pair's exchange, `inter`'s.
    func level(crossesNodes: Bool, _ t: Topology, ring: Bool = false) throws -> (Double, Double) -> Double {
        if !crossesNodes {
            guard let intra else { throw MissingLevel(level: "intra", topology: t) }
            return intra.step
        }
        guard let inter = ring ? ringLevel(ranks: t.ranks) : self.inter else { throw MissingLevel(level: "inter", topology: t) }
        guard t.ranksPerNode > 1 else { return inter.step }
        guard let intra else { throw MissingLevel(level: "intra", topology: t) }
        return inter.slower(intra)
    }

    /// The model with the inter-node wire at another link rate (`LevelCost.atLink`); the
    /// intra-node level does not use the network.
    public func atLink(gbit: Double, fitLinkGbit: Double?) -> ClusterCostModel {
        var m = self
        m.inter = inter?.atLink(gbit: gbit, fitLinkGbit: fitLinkGbit)
        m.widerInter = widerInter.map { $0.atLink(gbit: gbit, fitLinkGbit: fitLinkGbit) }
        return m
    }
}
