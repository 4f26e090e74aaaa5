import Testing
import CostModel

@Suite struct CostModelTests {
    @Test func busBandwidthIsNcclTestsDefinition() {
        // 1 GB in 1 s on 4 ranks: algbw 1 GB/s, busbw 1 · 2·3/4.
        #expect(busBandwidth(bytes: 1e9, seconds: 1, ranks: 4) == 1.5e9)
        #expect(busBandwidth(bytes: 1e9, seconds: 0.5, ranks: 2) == 2e9)
        #expect(busBandwidth(bytes: 1e9, seconds: 1, ranks: 1) == 0, "nothing crosses a bus at one rank")
        #expect(busBandwidth(bytes: 1e9, seconds: 0, ranks: 4) == 0)
        #expect(busBandwidthFactor(ranks: 8) == 1.75)
    }

    @Test func ringCostIsTheClosedForm() {
        let m = RingCostModel(alpha: 1e-5, beta: 1e-9, gamma: 2e-10)
        // p = 4, n = 4 MB: 6α + 2·(3/4)·n·β + (3/4)·n·γ.
        #expect(abs(m.seconds(bytes: 4e6, ranks: 4) - (6e-5 + 1.5 * 4e6 * 1e-9 + 0.75 * 4e6 * 2e-10)) < 1e-15)
        #expect(m.seconds(bytes: 4e6, ranks: 1) == 0)
    }

    /// Rows generated from known α, β, γ at several rank counts: the fit gives them back.
    @Test(arguments: [2, 3, 4, 8])
    func fitRecoversKnownParameters(ranks p: Int) throws {
        let truth = RingCostModel(alpha: 2.5e-5, beta: 8e-9, gamma: 1.1e-10)
        let rows = stride(from: 2, through: 26, by: 2).map { k -> (bytes: Double, seconds: Double) in
            let n = Double(1 << k)
            return (n, truth.seconds(bytes: n, ranks: p))
        }
        let fit = try #require(RingFit.fit(rows, ranks: p, gamma: truth.gamma))
        #expect(abs(fit.model.alpha - truth.alpha) / truth.alpha < 1e-9)
        #expect(abs(fit.model.beta - truth.beta) / truth.beta < 1e-9)
        #expect(fit.model.gamma == truth.gamma)
        #expect(fit.maxRelativeError < 1e-9 && fit.points == rows.count)
    }

    @Test func fitNeedsTwoSizesAndTwoRanks() {
        #expect(RingFit.fit([(4, 1e-5), (4, 1.1e-5)], ranks: 2, gamma: 0) == nil)
        #expect(RingFit.fit([(4, 1e-5), (4096, 2e-5)], ranks: 1, gamma: 0) == nil)
        #expect(RingFit.fit([(4, 1e-5), (4096, 2e-5)], ranks: 2, gamma: 0) != nil)
    }

    @Test func linkRateReplacesTheWirePartOfBeta() {
        let m = RingCostModel(alpha: 1e-5, beta: 9e-9, gamma: 1e-10)
        // Fitted at 1 Gbit/s (8e-9 s/B on the wire, 1e-9 s/B of CPU): at 10 Gbit/s the wire is 8e-10.
        #expect(abs(m.atLink(gbit: 10, fitLinkGbit: 1).beta - (1e-9 + 8e-10)) < 1e-21)
        // Without the fit's rate the whole β is kept as CPU cost.
        #expect(abs(m.atLink(gbit: 10, fitLinkGbit: nil).beta - (9e-9 + 8e-10)) < 1e-21)
        // Never below the new wire alone.
        #expect(m.atLink(gbit: 0.1, fitLinkGbit: 1).beta == 8 / 0.1e9 + 1e-9)
    }

    /// A case worked by hand: 4 emulated hosts sharing 2 cores, one 1 MB bucket.
    @Test func predictionOfAHandComputedCase() throws {
        let prediction = ScalingPrediction(
            computeSeconds: 0.001, otherSeconds: 0.0005, samplesPerEpoch: 6000, batchPerRank: 64, bucketBytes: [1e6],
            calibrationWatts: 30, idleWatts: 20, ring: RingCostModel(alpha: 1e-4, beta: 1e-8, gamma: 1e-10),
            ranksPerNode: 1, sharedCores: 2)
        let pt = try prediction.point(nodes: 4)
        #expect(pt.steps == 24)                                   // ceil(6000 / 256)
        let comm = 6e-4 + 2 * 0.75 * 1e6 * 1e-8 + 0.75 * 1e6 * 1e-10  // 0.015675 s
        #expect(abs(pt.iterationSeconds - (2 * 0.0015 + comm)) < 1e-15)  // stretched 2× on 2 cores
        // One machine's idle power once (20 W) + 4 ranks × 10 W dynamic, each at half speed: 40 W.
        #expect(abs(pt.computeJoules - 40 * 24 * 2 * 0.001) < 1e-12)
        #expect(abs(pt.commJoules - 40 * 24 * comm) < 1e-12)
        #expect(abs(pt.otherJoules - 40 * 24 * 2 * 0.0005) < 1e-12)
        #expect(abs(pt.epochSeconds - 24 * pt.iterationSeconds) < 1e-15)
        // One node: no communication, the calibration's own power.
        let one = try prediction.point(nodes: 1)
        #expect(one.commJoules == 0 && abs(one.computeJoules + one.otherJoules - 30 * 94 * 0.0015) < 1e-12)
        // Sleeping waits: communication at idle power.
        var sleeping = prediction
        sleeping.commPower = .idle
        #expect(abs(try sleeping.point(nodes: 4).commJoules - 20 * 24 * comm) < 1e-12)  // the machine, idle, once
        // Dedicated nodes: each its own idle power and a full-speed rank, 4 × 30 W.
        var dedicated = prediction
        dedicated.sharedCores = 0
        let d = try dedicated.point(nodes: 4)
        #expect(abs(d.computeJoules - 4 * 30 * 24 * 0.001) < 1e-12 && abs(d.iterationSeconds - (0.0015 + comm)) < 1e-15)
    }

    @Test func speedupEfficiencyAndEnergyDelay() {
        let f = ScalingFigures(secondsPerEpoch: 5, joulesPerEpoch: 200, nodes: 4, baselineSecondsPerEpoch: 10, baselineNodes: 1)
        #expect(f.speedup == 2 && f.efficiency == 0.5 && f.energyDelay == 1000)
    }
}
