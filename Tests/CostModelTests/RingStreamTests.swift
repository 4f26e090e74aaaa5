import Testing
import Collectives
import CostModel

/// A ring's steps run back to back: from the fit's rows, no faster than one call of the fit's own
/// ring moving as many bytes per rank (`ClusterCostModel.streamSeconds`). Hand-computed.
@Suite struct RingStreamTests {
    /// A 2-rank inter-node fit on a shaped link: 100 kB nearly free (the burst), then 8 ns a byte;
    /// its line (β = 8 ns) beyond the last row.
    let level = LevelCost(RingCostModel(alpha: 0, beta: 8e-9, gamma: 0),
                          rows: [.init(bytes: 1e5, seconds: 0.2e-3), .init(bytes: 1e6, seconds: 7.4e-3)], ranks: 2)

    @Test func aRingOfMoreRanksGetsTheBurstOnce() throws {
        let m = ClusterCostModel(intra: level, inter: level)
        // 4 hosts, 1 MB: 6 steps of 250 kB, each half the fit's 500 kB call (0.2 + 4/9 · 7.2 = 3.4 ms):
        // 10.2 ms; a rank moves 1.5 MB, which one call of the fit's ring moves at 1.5 MB:
        // 7.4 ms + 0.5 MB · 8 ns = 11.4 ms — the ring's time.
        let four = Topology(nodes: 4, ranksPerNode: 1)
        #expect(abs(m.streamSeconds(bytes: 1e6, topology: four) - 11.4e-3) < 1e-12)
        #expect(abs(try m.seconds(bytes: 1e6, topology: four) - 11.4e-3) < 1e-12)
        // 2 hosts: the ring is the fit's own call: 7.4 ms either way.
        let two = Topology(nodes: 2, ranksPerNode: 1)
        #expect(abs(try m.seconds(bytes: 1e6, topology: two) - 7.4e-3) < 1e-12)
        #expect(abs(m.streamSeconds(bytes: 1e6, topology: two) - 7.4e-3) < 1e-12)
        // bf16: half the bytes on the wire (0.75 MB a rank: 0.2 + 6.5/9 · 7.2 = 5.4 ms) against
        // 6 steps of 125 kB (the fit's 250 kB: 0.2 + 1.5/9 · 7.2 = 1.4 ms, halved): 4.2 ms.
        #expect(abs(try m.seconds(bytes: 1e6, topology: four, wire: .bf16) - 5.4e-3) < 1e-12)
    }

    @Test func onTheLineAloneTheStepsStand() throws {
        let line = ClusterCostModel(intra: RingCostModel(alpha: 1e-5, beta: 8e-9, gamma: 0),
                                    inter: RingCostModel(alpha: 1e-5, beta: 8e-9, gamma: 0))
        let four = Topology(nodes: 4, ranksPerNode: 1)
        #expect(line.streamSeconds(bytes: 1e6, topology: four) == 0)
        #expect(abs(try line.seconds(bytes: 1e6, topology: four) - (6 * 1e-5 + 1.5e6 * 8e-9)) < 1e-12)
        #expect(ClusterCostModel(intra: level, inter: level).streamSeconds(bytes: 1e6, topology: Topology(nodes: 1, ranksPerNode: 1)) == 0)
    }
}
