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

/// Overlap on a machine whose cores all compute: the communication thread is owed a core beside
/// compute only while it needs less CPU a step than compute (`Overlap.swift`). Hand-computed.
@Suite struct OverlapOwedCoreTests {
    /// 2 ranks (2 hosts) on one machine of 2 cores, two buckets of 1 MB at 1 ms each (ready at
    /// 6.67 ms and at 10 ms of a 10 ms compute), waits that spin (all of the 2 ms is CPU).
    func prediction(compute: Double) -> ScalingPrediction {
        ScalingPrediction(computeSeconds: compute, otherSeconds: 0.001, samplesPerEpoch: 6400, batchPerRank: 32,
                          bucketBytes: [1e6, 1e6], calibrationWatts: 30, idleWatts: 20,
                          network: ClusterCostModel(intra: RingCostModel(alpha: 0, beta: 1e-9, gamma: 0),
                                                    inter: RingCostModel(alpha: 0, beta: 1e-9, gamma: 0)),
                          sharedCores: 2, commPower: .busy)
    }
    let overlap = JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 1), overlap: true)

    @Test func aThreadThatNeedsMoreCPUThanComputeHidesNothing() throws {
        // 10 ms of compute, 2 ms of thread CPU: owed a core. Bucket 1 (hidden) costs 2 ranks × 1 ms
        // over 2 cores = 1 ms more compute; laid out again on 11 ms, bucket 1 ends at 8.33, bucket 2
        // runs 11 → 12: 1 ms exposed, t_iter 11 + 1 + 1 ms.
        let long = try prediction(compute: 0.010).point(overlap)
        #expect(abs(long.exposedCommSeconds - 0.001) < 1e-12 && abs(long.iterationSeconds - 0.013) < 1e-12)
        // 1.5 ms of compute against the same 2 ms: nothing hidden, compute as it is — the step of
        // overlap off, 1.5 + 1 + 2 ms.
        let short = try prediction(compute: 0.0015).point(overlap)
        #expect(abs(short.exposedCommSeconds - 0.002) < 1e-12 && abs(short.iterationSeconds - 0.0045) < 1e-12)
        let off = try prediction(compute: 0.0015).point(JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 1)))
        #expect(abs(short.iterationSeconds - off.iterationSeconds) < 1e-15)
        // A core to spare (dedicated nodes of 2 cores, one rank each): the thread runs at once.
        var spare = prediction(compute: 0.0015)
        spare.sharedCores = 0
        spare.coresPerNode = 2
        #expect(try spare.point(overlap).exposedCommSeconds < 0.002)
    }
}
