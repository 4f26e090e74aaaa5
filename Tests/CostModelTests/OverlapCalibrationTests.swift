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
    func prediction(sharedCores: Int, coresPerNode: Int = 0, onCompute: Double?) -> ScalingPrediction {
        var m = ScalingPrediction(computeSeconds: 0.010, otherSeconds: 0.001, samplesPerEpoch: 6400, batchPerRank: 32,
                                  bucketBytes: [1e6, 1e6], calibrationWatts: 30, idleWatts: 20, network: network, sharedCores: sharedCores)
        m.coresPerNode = coresPerNode
        m.sharedMachine = [.init(ranks: 2, computeSeconds: 0.012, otherSeconds: 0.0015)]
        m.overlapMachine = onCompute.map { [.init(ranks: 2, threadSeconds: $0 - 0.012, buckets: 4)] } ?? []
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
        // Cores unknown; dedicated nodes of 4 cores
        // (2 ranks leave spare cores, and a calibration of 2 ranks there measured spare cores too).
        #expect(prediction(sharedCores: 0, onCompute: 0.016).threadCost(ranksPerMachine: 2, buckets: 2) == nil)
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

    /// 2 emulated hosts × 1 rank on the 2 shared cores, overlap on, waits that spin: the buckets
    /// cross the inter level (1e6·β = 1 ms each), the calibration's crossed the node's shared memory
    /// (0.12 ms each). On the 12 ms compute (κ 1.2), forward 4 ms: bucket 1 is ready at 8 ms, done at
    /// 9; bucket 2 ready at 12, done at 13 — half the communication ends before backward does, so
    /// the thread's CPU then is 0.5 · 2 ms; the calibration's on the same buckets 0.5 · 0.24 ms.
    /// t_cal 2 ms of a backward of 8: h_0 = 0.75, and t_h = 2 + 0.75 · (1 − 0.12) = 2.66 ms.
    /// Laid out on 14.66 ms, bucket 2 is still the 1 ms exposed; hiding in the share
    /// 1 − 2.66 / 8 = 0.6675: exposed 2 − 0.6675 · 1 ms.
    @Test func theThreadsCPUBeyondTheCalibrationsCountsAcrossHosts() throws {
        let hosts = JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 1), overlap: true)
        let p = try prediction(sharedCores: 2, onCompute: 0.016).point(hosts)
        #expect(abs(p.exposedCommSeconds - (0.002 - 0.6675 * 0.001)) < 1e-12, "\(p.exposedCommSeconds)")
        #expect(abs(p.iterationSeconds - (0.01466 + 0.0015 + p.exposedCommSeconds)) < 1e-12, "\(p.iterationSeconds)")
        // The calibration's CPU cannot be derived without the intra level: its measured cost alone,
        // t_h = 2 ms (hiding 0.75 of the 1 ms the schedule on 14 ms hides).
        var noIntra = prediction(sharedCores: 2, onCompute: 0.016)
        noIntra.network.intra = nil
        let alone = try noIntra.point(hosts)
        #expect(abs(alone.exposedCommSeconds - (0.002 - 0.75 * 0.001)) < 1e-12)
        #expect(abs(alone.iterationSeconds - (0.014 + 0.0015 + alone.exposedCommSeconds)) < 1e-12)
        // A calibration whose thread cost all of backward (t_cal 8 ms, h_0 = 0) hid nothing: its
        // buckets ran after backward, and no CPU beyond it is charged — compute 20 ms, all exposed.
        let costly = try prediction(sharedCores: 2, onCompute: 0.028).point(hosts)
        #expect(abs(costly.exposedCommSeconds - 0.002) < 1e-12 && abs(costly.iterationSeconds - (0.020 + 0.0015 + 0.002)) < 1e-12)
        // A configuration whose thread spends less CPU than the calibration's (a node whose shared
        // memory is slower than the network: 2 ms a bucket, s_cal · cpu_cal = 0.5 · 4 ms) is not
        // credited for it: t_h = t_cal.
        var slowNode = prediction(sharedCores: 2, onCompute: 0.016)
        slowNode.network.intra = LevelCost(RingCostModel(alpha: 0, beta: 2e-9, gamma: 0))
        #expect(abs(try slowNode.point(hosts).iterationSeconds - alone.iterationSeconds) < 1e-12)
    }

    /// On the calibration's own configuration (one node of its ranks, its wire, its buckets) the
    /// thread costs what the calibration measured, whatever its CPU: the second term is 0. With a
    /// bf16 calibration, a bf16 configuration there adds nothing; an f32 calibration's thread did
    /// not convert, so the bf16 one costs its conversion (2 · ½ · 1e6 · 1e-9 = 1 ms a bucket) more,
    /// in the share of it that runs before backward ends.
    @Test func theCalibrationsOwnConfigurationCostsWhatItMeasured() throws {
        var m = prediction(sharedCores: 2, onCompute: 0.016)
        m.network.conversionSecondsPerByte = [.bf16: 1e-9]
        let one = Topology(nodes: 1, ranksPerNode: 2)
        let bf16 = JobConfiguration(topology: one, wire: .bf16, overlap: true)
        m.overlapMachine = [.init(ranks: 2, threadSeconds: 0.004, buckets: 4, wire: .bf16)]
        let calibrated = try m.point(bf16)
        // t_h = t_cal = 2 ms: compute 14 ms.
        #expect(abs(calibrated.iterationSeconds - calibrated.exposedCommSeconds - (0.014 + 0.0015)) < 1e-12)
        m.overlapMachine = [.init(ranks: 2, threadSeconds: 0.004, buckets: 4, wire: .f32)]
        let converting = try m.point(bf16)
        // Each bf16 bucket: 2α + ½·1e6·β = 0.07 ms on the wire + 1 ms converting; on 12 ms, bucket 1
        // (ready at 8) ends at 9.07, bucket 2 (ready at 12) at 13.07: s = 1.07 / 2.14, thread CPU
        // 2.14 ms. The f32 calibration's on these buckets: s_cal = 0.5 of 0.24 ms.
        let beyond = 1.07 / 2.14 * 2.14e-3 - 0.5 * 0.24e-3
        #expect(abs(converting.iterationSeconds - converting.exposedCommSeconds - (0.014 + 0.75 * beyond + 0.0015)) < 1e-12)
    }
}
