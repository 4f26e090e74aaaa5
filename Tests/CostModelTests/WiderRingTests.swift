import Testing
import Collectives
import CostModel

/// The inter-node level fitted on 2 ranks (nodes of one rank) and on 4 (2 nodes × 2 ranks): a ring
/// is priced from the widest fit not wider than itself, a pair's exchange from the 2-rank fit
/// (`ClusterCostModel.ringLevel`). Hand-computed on the fits' lines (γ = 0).
@Suite struct WiderRingTests {
    let pair = LevelCost(RingCostModel(alpha: 1e-5, beta: 8e-9, gamma: 0), ranks: 2)
    let ringOf4 = LevelCost(RingCostModel(alpha: 2e-5, beta: 4e-9, gamma: 0), ranks: 4)
    let intra = LevelCost(RingCostModel(alpha: 1e-6, beta: 1e-10, gamma: 0), ranks: 2)
    var model: ClusterCostModel { ClusterCostModel(intra: intra, inter: pair, widerInter: [ringOf4]) }

    func seconds(_ nodes: Int, _ k: Int, _ algorithm: AllReduceAlgorithm = .ring) throws -> Double {
        try model.seconds(bytes: 1e6, topology: Topology(nodes: nodes, ranksPerNode: k), algorithm: algorithm)
    }

    @Test func eachRingReadsTheWidestFitNotWiderThanItself() throws {
        // 2 ranks: the pair's fit, 2·α + 2·½·n·β = 2e-5 + 8e-3.
        #expect(abs(try seconds(2, 1) - 8.02e-3) < 1e-12)
        // 3 ranks: still the pair's, 4·α + 2·⅔·n·β.
        #expect(abs(try seconds(3, 1) - (4e-5 + 4.0 / 3 * 8e-3)) < 1e-12)
        // 4 ranks, one or two a node (the intra step is faster): the 4-rank fit, 6·2e-5 + 1.5·n·4e-9.
        #expect(abs(try seconds(4, 1) - 6.12e-3) < 1e-12)
        #expect(abs(try seconds(2, 2) - 6.12e-3) < 1e-12)
        // 8 ranks: the widest there is, 14·2e-5 + 1.75·n·4e-9.
        #expect(abs(try seconds(8, 1) - 7.28e-3) < 1e-12)
        // One node: intra, whatever was fitted between nodes: 2·1e-6 + n·1e-10.
        #expect(abs(try seconds(1, 2) - 1.02e-4) < 1e-12)
    }

    @Test func aPairsExchangeReadsThePairsFit() throws {
        // Recursive doubling on 4 ranks: 2 exchanges of n, each α + n·β of the pair's fit.
        #expect(abs(try seconds(4, 1, .recursiveDoubling) - 2 * 8.01e-3) < 1e-12)
    }

    @Test func theWholeJobIsPacedByItsRingsFit() {
        #expect(model.pacingLevel(Topology(nodes: 4, ranksPerNode: 1))?.ranks == 4)
        #expect(model.pacingLevel(Topology(nodes: 2, ranksPerNode: 1))?.ranks == 2)
        #expect(model.pacingLevel(Topology(nodes: 1, ranksPerNode: 4)) == intra)
    }

    @Test func fitsAreSortedAndTheNarrowestPairsUp() throws {
        // Given in any order, or with only a wide fit: the narrowest is the pairs' level.
        let swapped = ClusterCostModel(intra: intra, inter: ringOf4, widerInter: [pair])
        #expect(swapped == model)
        let onlyWide = ClusterCostModel(intra: intra, inter: nil, widerInter: [ringOf4])
        #expect(onlyWide.inter == ringOf4 && onlyWide.widerInter.isEmpty)
        // 2 ranks on the 4-rank fit's line: 2 steps of n/2, each 2e-5 + 5e5·4e-9.
        #expect(abs(try onlyWide.seconds(bytes: 1e6, topology: Topology(nodes: 2, ranksPerNode: 1)) - (4e-5 + 4e-3)) < 1e-12)
        // At another link rate every inter-node fit is rescaled (at 10 Gbit/s from 1: the wire's
        // 8 ns a byte replaced by 0.8 ns, never below it: the 4-rank fit's β 0.8 ns), intra not.
        let faster = model.atLink(gbit: 10, fitLinkGbit: 1)
        #expect(faster.widerInter.map(\.ranks) == [4] && faster.intra == intra)
        #expect(abs(try faster.seconds(bytes: 1e6, topology: Topology(nodes: 4, ranksPerNode: 1)) - (1.2e-4 + 1.2e-3)) < 1e-12)
    }
}
