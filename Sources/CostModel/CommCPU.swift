import Collectives

/// The CPU a rank spends in one all-reduce: what prices a communicating rank's power.
///
/// The fit measured, at each size x on the wire, the share s(x) of a core a rank of its ring (p_f
/// ranks) kept busy while it all-reduced x in T_f(x). A rank of the configuration's all-reduce
/// moves m times the bytes a rank of the fit's ring moved (`payloadsMoved`: the ring on p ranks
/// (p−1)/p against (p_f−1)/p_f). For as long as the fit took to move that much, T_f(x)·m, the rank
/// is as busy as the fit's was; an all-reduce that takes longer (more ranks than cores, the
/// bucket floor of a shaped link) waits the rest at the share of the fit's smallest message s_0 —
/// a wait with almost nothing to copy, in which a rank tests and sleeps:
///
///   cpu(x, c) = s(x)·min(c, T_f(x)·m) + min(s(x), s_0)·max(0, c − T_f(x)·m)
///
/// c the all-reduce's seconds in the configuration. Where it runs as fast as the fit's own ring
/// (c = T_f·m) this is s(x)·c, the fit's share of wall time. With 4 ranks on 2 cores the MLP's
/// 0.94 MB ring took 3.5× the 2-rank fit's time for 1.5× its bytes (an AMD EPYC guest, 10 Gbit/s):
/// priced at the share of wall time its ranks kept both cores busy, measured 1.4 of them.
extension LevelCost {
    /// Seconds of the fit's own ring all-reduce of `bytes` on the wire (its rows, or its line).
    public func fitSeconds(bytes x: Double) -> Double {
        let p = Double(ranks)
        return 2 * (p - 1) * step(wire: x / p, reduced: x / (2 * p))
    }

    /// CPU seconds a rank spends in an all-reduce of `bytes` on the wire that lasts `seconds` and
    /// moves `moved` times the bytes a rank of the fit's ring moved; nil where no share was measured.
    public func cpuSeconds(bytes x: Double, moved m: Double, seconds c: Double) -> Double? {
        guard let s = cpuShare(bytes: x) else { return nil }
        let waiting = min(s, cpuShares.first?.share ?? s), working = min(c, fitSeconds(bytes: x) * m)
        return s * working + waiting * max(0, c - working)
    }
}

extension ClusterCostModel {
    /// CPU seconds a rank spends all-reducing `bytes` payload bytes (Float32) on `topology` in
    /// `seconds` (`LevelCost.cpuSeconds`, at the inter-node level once the job spans nodes); nil
    /// where that level did not measure a share.
    public func cpuSeconds(_ t: Topology, bytes n: Double, wire: WireFormat, algorithm: AllReduceAlgorithm,
                           seconds c: Double) -> Double? {
        guard let level = pacingLevel(t) else { return nil }
        let moved = Self.payloadsMoved(resolved(algorithm, bytes: n, ranks: t.ranks), ranks: t.ranks)
            / Self.payloadsMoved(.ring, ranks: level.ranks)
        return level.cpuSeconds(bytes: n * Double(wire.bytes) / 4, moved: moved, seconds: c)
    }

    /// How many payloads the busiest rank sends (and receives) in one all-reduce of a payload on
    /// `p` ranks: the ring 2(p−1)/p; recursive doubling one per round, log2(p₂); halving-doubling
    /// 2(1 − 1/p₂); the doubling algorithms' fold of a non-power of two two more.
    public static func payloadsMoved(_ algorithm: AllReduceAlgorithm, ranks p: Int) -> Double {
        guard p > 1 else { return 0 }
        let p2 = AllReduce.foldedRanks(p), fold = p > p2 ? 2.0 : 0
        switch algorithm {
        case .ring, .auto: return 2 * Double(p - 1) / Double(p)
        case .recursiveDoubling: return Double(p2.trailingZeroBitCount) + fold
        case .halvingDoubling: return 2 * (1 - 1 / Double(p2)) + fold
        }
    }
}
