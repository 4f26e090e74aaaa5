import Testing
import Collectives
import CostModel

/// What the communication thread costs compute, measured by a calibration with overlap on beside
/// the overlap-off one at its ranks: per bucket, time-sliced as compute is, only on machines whose
/// cores all compute, and priced into the overlapped step — each against a case worked by hand.
@Suite struct OverlapCalibrationTests {
    let network = ClusterCostModel(intra: RingCostModel(alpha: 1e-5, beta: 1e-10, gamma: 0),
                                   inter: RingCostModel(alpha: 0, beta: 1e-9, gamma: 0))

    /// One rank alone: 10 ms compute, 1 ms the rest, 30 W busy on a 20 W machine; two 1 MB buckets.
    /// Two ranks on one machine: 12 ms and 1.5 ms (overlap off); overlap on, `onCompute` over 4 buckets.
    func prediction(sharedCores: Int, coresPerNode: Int = 0, onCompute: Double?, offAtTwo: Bool = true) -> ScalingPrediction {
        var m = ScalingPrediction(computeSeconds: 0.010, otherSeconds: 0.001, samplesPerEpoch: 6400, batchPerRank: 32,
                                  bucketBytes: [1e6, 1e6], calibrationWatts: 30, idleWatts: 20, network: network, sharedCores: sharedCores)
        m.coresPerNode = coresPerNode
        m.sharedMachine = offAtTwo ? [.init(ranks: 2, computeSeconds: 0.012, otherSeconds: 0.0015)] : []
        m.overlapMachine = onCompute.map { [.init(ranks: 2, computeSeconds: $0, buckets: 4)] } ?? []
        return m
    }

    @Test func costPerBucketSlicedAndOnlyWhereCoresAllCompute() throws {
        // δ = (16 − 12) ms / 4 buckets = 1 ms a bucket.
        let m = prediction(sharedCores: 2, onCompute: 0.016)
        let two = try #require(m.threadCost(ranksPerMachine: 2, buckets: 2))
        #expect(abs(two.seconds - 0.002) < 1e-12 && two.measuredAtRanks == 2)
        #expect(abs(m.threadCost(ranksPerMachine: 2, buckets: 7)!.seconds - 0.007) < 1e-12)
        // 4 ranks on the 2 cores: each rank's share of the core halves, the thread's cost doubles.
        #expect(abs(m.threadCost(ranksPerMachine: 4, buckets: 2)!.seconds - 0.004) < 1e-12)
        #expect(m.threadCost(ranksPerMachine: 1, buckets: 2) == nil, "one rank on 2 cores: a spare core for the thread")
        // Overlap on faster than off (noise): no cost, not a negative one.
        #expect(prediction(sharedCores: 2, onCompute: 0.011).threadCost(ranksPerMachine: 2, buckets: 2)?.seconds == 0)
        // Cores unknown; a calibration without its overlap-off pair; dedicated nodes of 4 cores
        // (2 ranks leave spare cores, and a calibration of 2 ranks there measured spare cores too).
        #expect(prediction(sharedCores: 0, onCompute: 0.016).threadCost(ranksPerMachine: 2, buckets: 2) == nil)
        #expect(prediction(sharedCores: 2, onCompute: 0.016, offAtTwo: false).threadCost(ranksPerMachine: 2, buckets: 2) == nil)
        let dedicated = prediction(sharedCores: 0, coresPerNode: 4, onCompute: 0.016)
        #expect(dedicated.threadCost(ranksPerMachine: 2, buckets: 2) == nil && dedicated.threadCost(ranksPerMachine: 4, buckets: 2) == nil)
        // Dedicated nodes of 2 cores: the node's ranks, not the cluster's, share them.
        #expect(abs(prediction(sharedCores: 0, coresPerNode: 2, onCompute: 0.016).threadCost(ranksPerMachine: 2, buckets: 2)!.seconds - 0.002) < 1e-12)
    }

    /// 1×2 with overlap on 2 shared cores: compute 12 ms (κ 1.2) + the thread's 2 ms; the buckets
    /// take 2α + 1e6·β = 0.12 ms each on the intra level. Laid out on 14 ms, bucket 1 is ready at
    /// 14/3 + (28/3)/2 ms and done long before backward ends; bucket 2, ready at 14 ms, is exposed:
    /// 0.12 ms of 0.24. The thread costs backward (8 ms) a quarter: the schedule's hiding is taken
    /// in the share 0.75 — exposed 0.24 − 0.75 · 0.12 = 0.15 ms.
    @Test func pricedIntoTheOverlappedStep() throws {
        let overlap = JobConfiguration(topology: Topology(nodes: 1, ranksPerNode: 2), overlap: true)
        let m = prediction(sharedCores: 2, onCompute: 0.016)
        let p = try m.point(overlap), bucket = 2 * 1e-5 + 1e6 * 1e-10
        #expect(abs(p.exposedCommSeconds - (2 * bucket - 0.75 * bucket)) < 1e-12, "\(p.exposedCommSeconds)")
        #expect(abs(p.iterationSeconds - (0.014 + 0.0015 + p.exposedCommSeconds)) < 1e-12)
        // The stretched compute is charged at busy power: 20 W + 2 × 10 W.
        #expect(abs(p.computeJoules - 40 * p.steps * 0.014) < 1e-9)
        // A thread that costs as long as backward lasts (δ 4 ms: 8 ms against 2/3 · 12) hides nothing.
        let costly = try prediction(sharedCores: 2, onCompute: 0.028).point(overlap)
        #expect(abs(costly.exposedCommSeconds - 2 * bucket) < 1e-12 && abs(costly.iterationSeconds - (0.020 + 0.0015 + 2 * bucket)) < 1e-12)
        // Without overlap the calibration changes nothing; where it does not apply (a dedicated node
        // of 4 cores) the overlapped step is priced as without it.
        let off = JobConfiguration(topology: Topology(nodes: 1, ranksPerNode: 2))
        #expect(try m.point(off) == prediction(sharedCores: 2, onCompute: nil).point(off))
        let spare = try prediction(sharedCores: 0, coresPerNode: 4, onCompute: 0.016).point(overlap)
        #expect(spare == (try prediction(sharedCores: 0, coresPerNode: 4, onCompute: nil).point(overlap)))
    }
}
