import Testing
import Collectives
import CostModel

/// The CPU a rank spends in an all-reduce, from the fit's shares (`CommCPU.swift`): hand-computed cases.
@Suite struct CommCPUTests {
    @Test func payloadsMovedPerAlgorithm() {
        typealias M = ClusterCostModel
        #expect(M.payloadsMoved(.ring, ranks: 1) == 0)
        #expect(M.payloadsMoved(.ring, ranks: 2) == 1)
        #expect(M.payloadsMoved(.ring, ranks: 4) == 1.5)
        #expect(M.payloadsMoved(.ring, ranks: 3) == 4.0 / 3)
        #expect(M.payloadsMoved(.recursiveDoubling, ranks: 4) == 2)
        #expect(M.payloadsMoved(.recursiveDoubling, ranks: 3) == 1 + 2, "one round of 2, the fold's two")
        #expect(M.payloadsMoved(.halvingDoubling, ranks: 8) == 1.75)
        #expect(M.payloadsMoved(.halvingDoubling, ranks: 6) == 1.5 + 2)
    }

    /// A 2-rank fit on the line α = 0, β = 1 ns a byte: its ring takes T_f(x) = x·β.
    @Test func busyForTheFitsTimeThenWaitingAtTheSmallestMessagesShare() throws {
        let line = RingCostModel(alpha: 0, beta: 1e-9, gamma: 0)
        let level = LevelCost(line, ranks: 2, cpuShares: [.init(bytes: 1e3, share: 0.2), .init(bytes: 1e6, share: 0.6)])
        #expect(abs(level.fitSeconds(bytes: 1e6) - 1e-3) < 1e-15)
        // Moving 1.5× the fit's bytes: busy at 0.6 for 1.5 ms, then waiting at 0.2 for 3.5 ms.
        #expect(abs(try #require(level.cpuSeconds(bytes: 1e6, moved: 1.5, seconds: 5e-3)) - (0.6 * 1.5e-3 + 0.2 * 3.5e-3)) < 1e-15)
        // Faster than the fit's ring would have moved the bytes: the share of its time, as measured.
        #expect(abs(try #require(level.cpuSeconds(bytes: 1e6, moved: 1.5, seconds: 1e-3)) - 0.6e-3) < 1e-15)
        // A fit that spun (the smallest message's wait fully busy) never waits busier than it worked.
        let spun = LevelCost(line, ranks: 2, cpuShares: [.init(bytes: 1e3, share: 1), .init(bytes: 1e6, share: 0.8)])
        #expect(abs(try #require(spun.cpuSeconds(bytes: 1e6, moved: 1.5, seconds: 5e-3)) - 0.8 * 5e-3) < 1e-15)
        // One share without sizes: the share of wall time throughout; none measured: nil.
        #expect(abs(try #require(LevelCost(line, cpuShare: 0.5).cpuSeconds(bytes: 1e6, moved: 3, seconds: 5e-3)) - 2.5e-3) < 1e-15)
        #expect(LevelCost(line).cpuSeconds(bytes: 1e6, moved: 1, seconds: 1) == nil)
    }

    /// 4 ranks on one machine of 2 cores, the inter-node level fitted on 2 ranks (α = 0.1 ms, β =
    /// 1 ns a byte) at shares 0.1 (1 kB) and 0.4 (1 MB), one bucket of 1 MB:
    ///   the ring c = 6·(α + 2.5e5·β) = 2.1 ms; the fit's ring 2α + 1e6·β = 1.2 ms, times the
    ///   1.5 payloads a rank of 4 moves = 1.8 ms at 0.4, the other 0.3 ms at 0.1: 0.75 ms of CPU;
    ///   P_comm = 20 W + 4 · (0.75 / 2.1) · 10 W (the share of wall time, 0.4, would give 36 W).
    @Test func moreRanksThanCoresWaitMoreThanTheyWork() throws {
        let line = RingCostModel(alpha: 1e-4, beta: 1e-9, gamma: 0)
        let level = LevelCost(line, ranks: 2, cpuShares: [.init(bytes: 1e3, share: 0.1), .init(bytes: 1e6, share: 0.4)])
        var m = ScalingPrediction(computeSeconds: 0.010, otherSeconds: 0.001, samplesPerEpoch: 6400, batchPerRank: 32,
                                  bucketBytes: [1e6], calibrationWatts: 30, idleWatts: 20,
                                  network: ClusterCostModel(intra: level, inter: level), sharedCores: 2, commPower: .measured)
        let t = Topology(nodes: 4, ranksPerNode: 1)
        let c = try m.network.seconds(bytes: 1e6, topology: t)
        #expect(abs(c - 2.1e-3) < 1e-15)
        let cpu = try #require(m.network.cpuSeconds(t, bytes: 1e6, wire: .f32, algorithm: .ring, seconds: c))
        #expect(abs(cpu - 0.75e-3) < 1e-15)
        let pt = try m.point(JobConfiguration(topology: t))
        #expect(abs(pt.commJoules / (pt.steps * pt.exposedCommSeconds) - (20 + 4 * 0.75 / 2.1 * 10)) < 1e-9)
        // Spinning waits: every rank busy, as many cores as the machine has.
        m.commPower = .busy
        let busy = try m.point(JobConfiguration(topology: t))
        #expect(abs(busy.commJoules / (busy.steps * busy.exposedCommSeconds) - 40) < 1e-9)
    }
}
