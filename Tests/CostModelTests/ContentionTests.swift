import Testing
import Collectives
import CostModel

/// Ranks that share a machine slow each other: κ from calibrations on one node with k ranks,
/// normalised by time-slicing, taken from the calibration with the most ranks ≤ the machine's,
/// and priced into time and energy — each against a case worked by hand.
@Suite struct ContentionTests {
    let network = ClusterCostModel(intra: RingCostModel(alpha: 1e-5, beta: 1e-10, gamma: 0),
                                   inter: RingCostModel(alpha: 0, beta: 1e-9, gamma: 0))

    /// One rank alone: 10 ms compute, 1 ms the rest, 30 W busy on a 20 W machine; one 1 MB bucket.
    func prediction(sharedCores: Int, calibrations: [SharedMachineCalibration]) -> ScalingPrediction {
        var m = ScalingPrediction(computeSeconds: 0.010, otherSeconds: 0.001, samplesPerEpoch: 6400, batchPerRank: 32,
                                  bucketBytes: [1e6], calibrationWatts: 30, idleWatts: 20, network: network, sharedCores: sharedCores)
        m.sharedMachine = calibrations
        return m
    }

    @Test func factorsAreMeasuredOverTimeSlicing() {
        // 2 ranks on 2 cores: 12.5 ms and 1.5 ms each (no slicing); 4 ranks on 2 cores: 30 ms and
        // 3 ms, of which slicing explains 2× — κ 1.5 and 1.5.
        let m = prediction(sharedCores: 2, calibrations: [.init(ranks: 2, computeSeconds: 0.0125, otherSeconds: 0.0015),
                                                          .init(ranks: 4, computeSeconds: 0.030, otherSeconds: 0.003)])
        #expect(m.contention(ranksPerMachine: 1) == .none)
        let two = m.contention(ranksPerMachine: 2), three = m.contention(ranksPerMachine: 3)
        #expect(abs(two.compute - 1.25) < 1e-12 && abs(two.other - 1.5) < 1e-12 && two.measuredAtRanks == 2)
        #expect(three == two, "3 ranks: the calibration with the most ranks ≤ 3")
        let eight = m.contention(ranksPerMachine: 8)
        #expect(abs(eight.compute - 1.5) < 1e-12 && abs(eight.other - 1.5) < 1e-12 && eight.measuredAtRanks == 4)
        // Cores unknown (dedicated nodes, --cores-per-node not given): no slicing to divide out.
        let dedicated = prediction(sharedCores: 0, calibrations: [.init(ranks: 4, computeSeconds: 0.030, otherSeconds: 0.003)])
        #expect(abs(dedicated.contention(ranksPerMachine: 4).compute - 3) < 1e-12)
    }

    @Test func pricedIntoTimeAndEnergy() throws {
        let m = prediction(sharedCores: 2, calibrations: [.init(ranks: 2, computeSeconds: 0.0125, otherSeconds: 0.0015)])
        // 1×2 on the 2 cores: each rank 12.5 ms + 1.5 ms, then the intra ring: 2α + 2·(1/2)·1e6·β.
        let pair = try m.point(JobConfiguration(topology: Topology(nodes: 1, ranksPerNode: 2)))
        let intra = 2 * 1e-5 + 1e6 * 1e-10
        #expect(abs(pair.iterationSeconds - (0.0125 + 0.0015 + intra)) < 1e-12)
        #expect(pair.contention.measuredAtRanks == 2)
        // Busy the ranks stay: 20 W + 2 × 10 W while they compute and do the rest (with measured
        // contention the time grows, not the power); busy communication (the default) the same.
        #expect(abs(pair.computeJoules - 40 * pair.steps * 0.0125) < 1e-9 && abs(pair.otherJoules - 40 * pair.steps * 0.0015) < 1e-9)
        #expect(abs(pair.idleJoules - 20 * pair.steps * 0.014) < 1e-9)
        // 2×2 on the same 2 cores: 4 ranks, sliced 2× and contended as 2: 2·1.25·10 ms + 2·1.5·1 ms,
        // then the ring over both levels (every step pays the network: 6·0 + 2·(3/4)·1e6·1e-9).
        let four = try m.point(JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 2)))
        #expect(abs(four.iterationSeconds - (0.025 + 0.003 + 1.5e-3)) < 1e-12)
        // Without the calibration the same configuration is only sliced: 20 ms + 2 ms.
        let plain = try prediction(sharedCores: 2, calibrations: []).point(JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 2)))
        #expect(abs(plain.iterationSeconds - (0.020 + 0.002 + 1.5e-3)) < 1e-12 && plain.contention == .none)
        // Dedicated nodes: a machine holds its node's ranks only — 4×1 is uncontended, 4×2 contended.
        var dedicated = m
        dedicated.sharedCores = 0
        let spread = try dedicated.point(JobConfiguration(topology: Topology(nodes: 4, ranksPerNode: 1)))
        let packed = try dedicated.point(JobConfiguration(topology: Topology(nodes: 4, ranksPerNode: 2)))
        #expect(spread.contention == .none && packed.contention.measuredAtRanks == 2)
        #expect(abs(packed.iterationSeconds - packed.exposedCommSeconds - 0.014) < 1e-12)
    }
}
