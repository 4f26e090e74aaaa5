import Testing
import Collectives
import CostModel
import Energy

/// The two-level cost model, overlap, the stretch of shared cores, strong scaling, and the plan's
/// frontier and picks, each against a case worked by hand.
@Suite struct ClusterCostModelTests {
    let intra = RingCostModel(alpha: 1e-5, beta: 1e-10, gamma: 1e-11)
    let inter = RingCostModel(alpha: 1e-4, beta: 8e-9, gamma: 1e-11)
    var network: ClusterCostModel { ClusterCostModel(intra: intra, inter: inter, conversionSecondsPerByte: [.bf16: 2e-11, .f16: 3e-11]) }

    func ring(_ l: RingCostModel, n: Double, p: Int, w: Double = 1, c: Double = 0) -> Double {
        let q = Double(p - 1) / Double(p)
        return 2 * Double(p - 1) * l.alpha + 2 * q * n * w * l.beta + q * n * l.gamma + 2 * q * n * c
    }

    @Test func ringPaysTheLevelItCrosses() throws {
        let n = 4e6
        // One node of 4 ranks: all intra.
        #expect(abs(try network.seconds(bytes: n, topology: Topology(nodes: 1, ranksPerNode: 4)) - ring(intra, n: n, p: 4)) < 1e-15)
        // 4 nodes of one rank: all inter.
        #expect(abs(try network.seconds(bytes: n, topology: Topology(nodes: 4, ranksPerNode: 1)) - ring(inter, n: n, p: 4)) < 1e-15)
        // 2 nodes × 2 ranks: every step waits for the links that leave a node (inter is slower in α and β).
        #expect(abs(try network.seconds(bytes: n, topology: Topology(nodes: 2, ranksPerNode: 2)) - ring(inter, n: n, p: 4)) < 1e-15)
        // A node whose own transport is slower per byte than the network: each step pays the slower
        // level — the node's own for 1 MB pieces, the network's (its larger α) for 100-byte ones.
        let slow = RingCostModel(alpha: 1e-6, beta: 2e-8, gamma: 1e-11)
        let slowIntra = ClusterCostModel(intra: slow, inter: inter)
        #expect(abs(try slowIntra.seconds(bytes: n, topology: Topology(nodes: 2, ranksPerNode: 2)) - ring(slow, n: n, p: 4)) < 1e-15)
        #expect(abs(try slowIntra.seconds(bytes: 400, topology: Topology(nodes: 2, ranksPerNode: 2)) - ring(inter, n: 400, p: 4)) < 1e-15)
        #expect(try network.seconds(bytes: n, topology: Topology(nodes: 1, ranksPerNode: 1)) == 0)
    }

    @Test(arguments: WireFormat.allCases)
    func wireFormatsHalveTheWireAndPayTheConversion(wire: WireFormat) throws {
        let n = 4e6, t = Topology(nodes: 4, ranksPerNode: 1)
        let expected = ring(inter, n: n, p: 4, w: wire == .f32 ? 1 : 0.5, c: [.f32: 0, .bf16: 2e-11, .f16: 3e-11][wire]!)
        #expect(abs(try network.seconds(bytes: n, topology: t, wire: wire) - expected) < 1e-15)
    }

    @Test func recursiveDoublingStepsAtTheirLevel() throws {
        let n = 1000.0, step = { (l: RingCostModel) in l.alpha + n * l.beta + n * l.gamma }
        // 2 nodes × 2 ranks: partners at distance 1 share a node, at distance 2 they don't.
        let t = try network.seconds(bytes: n, topology: Topology(nodes: 2, ranksPerNode: 2), algorithm: .recursiveDoubling)
        #expect(abs(t - (step(intra) + step(inter))) < 1e-15)
        // 3 ranks on 3 nodes: a fold (n there and back, one reduction) and one doubling step, all inter.
        let three = try network.seconds(bytes: n, topology: Topology(nodes: 3, ranksPerNode: 1), algorithm: .recursiveDoubling)
        #expect(abs(three - (2 * (inter.alpha + n * inter.beta) + n * inter.gamma + step(inter))) < 1e-15)
        // auto resolves as the trainer does: below 16 KiB, recursive doubling.
        #expect(try network.seconds(bytes: n, topology: Topology(nodes: 2, ranksPerNode: 2), algorithm: .auto) == t)
    }

    @Test func halvingDoublingHalvesTheSteps() throws {
        let n = 1e5
        // 4 ranks on 4 nodes: reduce-scatter n/2 then n/4 (with reduction), all-gather the same, all inter.
        let expected = [n / 2, n / 4].map { 2 * (inter.alpha + $0 * inter.beta) + $0 * inter.gamma }.reduce(0, +)
        #expect(abs(try network.seconds(bytes: n, topology: Topology(nodes: 4, ranksPerNode: 1), algorithm: .halvingDoubling) - expected) < 1e-15)
    }

    /// Rows measured on a straight line give the line back at any rank count; rows off the line
    /// (a shaped link's burst: small pieces fast) are what the steps pay, interpolated.
    @Test func measuredRowsSetTheStepCost() throws {
        let line = RingCostModel(alpha: 1e-4, beta: 8e-9, gamma: 0)
        let onLine = LevelCost(line, rows: [1e4, 1e5, 1e6, 1e7].map { .init(bytes: $0, seconds: line.seconds(bytes: $0, ranks: 2)) }, ranks: 2)
        let t = Topology(nodes: 4, ranksPerNode: 1)
        let fromRows = try ClusterCostModel(intra: nil, inter: onLine).seconds(bytes: 3e6, topology: t)
        #expect(abs(fromRows - line.seconds(bytes: 3e6, ranks: 4)) < 1e-12)
        // Beyond the largest row: the line's slope; below the smallest: the smallest row's time.
        #expect(abs(try ClusterCostModel(intra: nil, inter: onLine).seconds(bytes: 8e7, topology: t) - line.seconds(bytes: 8e7, ranks: 4)) < 1e-12)
        #expect(abs(onLine.step(wire: 10, reduced: 0) - line.seconds(bytes: 1e4, ranks: 2) / 2) < 1e-15)
        // A burst: 1 MB all-reduces in 2 ms on 2 ranks, 4 MB in 32 ms. On 4 ranks 4 MB goes in
        // pieces of 1 MB: each step what the 2-rank ring paid per step for 2 MB (a third of the
        // way between the rows: 12 ms / 2), six steps: 36 ms. But back to back they are one
        // stream: a rank moves 6 MB, which one call of the 2-rank ring moves in 32 ms + 2 MB at
        // the line's 8 ns a byte = 48 ms (`RingStreamTests`).
        let burst = LevelCost(line, rows: [.init(bytes: 1e6, seconds: 0.002), .init(bytes: 4e6, seconds: 0.032)], ranks: 2)
        let network = ClusterCostModel(intra: nil, inter: burst)
        #expect(abs(network.streamSeconds(bytes: 4e6, topology: t) - 0.048) < 1e-12)
        #expect(abs(try network.seconds(bytes: 4e6, topology: t) - max(6 * (0.002 + (2e6 - 1e6) * 0.030 / 3e6) / 2, 0.048)) < 1e-12)
        // On 2 ranks the ring is the fit's own call: the rows, interpolated.
        #expect(abs(try network.seconds(bytes: 2e6, topology: Topology(nodes: 2, ranksPerNode: 1)) - 0.012) < 1e-12)
        // At another link rate the rows no longer apply.
        #expect(burst.atLink(gbit: 10, fitLinkGbit: 1).rows.isEmpty)
    }

    @Test func aMissingLevelIsNamed() {
        let interOnly = ClusterCostModel(intra: nil, inter: inter)
        #expect(throws: ClusterCostModel.MissingLevel(level: "intra", topology: Topology(nodes: 1, ranksPerNode: 2))) {
            try interOnly.seconds(bytes: 1e6, topology: Topology(nodes: 1, ranksPerNode: 2))
        }
        #expect(throws: ClusterCostModel.MissingLevel(level: "intra", topology: Topology(nodes: 2, ranksPerNode: 2))) {
            try interOnly.seconds(bytes: 1e6, topology: Topology(nodes: 2, ranksPerNode: 2))
        }
        #expect(throws: ClusterCostModel.MissingLevel(level: "inter", topology: Topology(nodes: 2, ranksPerNode: 1))) {
            try ClusterCostModel(intra: intra, inter: nil).seconds(bytes: 1e6, topology: Topology(nodes: 2, ranksPerNode: 1))
        }
    }

    /// Machines with more ranks than cores are priced at the levels fitted without spinning waits
    /// (the trainer's waits do not spin there); with a core per rank, or the cores unknown, at `network`.
    @Test func machinesWithMoreRanksThanCoresTakeTheFitsWithoutSpin() throws {
        var m = prediction(sharedCores: 2)
        let slow = RingCostModel(alpha: 0, beta: 3e-9, gamma: 0)
        m.networkWithoutSpin = ClusterCostModel(intra: intra, inter: slow)
        let two = try m.point(JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 1)))
        let four = try m.point(JobConfiguration(topology: Topology(nodes: 4, ranksPerNode: 1)))
        #expect(abs(two.exposedCommSeconds - 2 * ring(RingCostModel(alpha: 0, beta: 1e-9, gamma: 0), n: 1e6, p: 2)) < 1e-12)
        #expect(abs(four.exposedCommSeconds - 2 * ring(slow, n: 1e6, p: 4)) < 1e-12)
        // Dedicated nodes of 2 cores: 2 ranks a node have a core each, 4 do not.
        m.sharedCores = 0; m.coresPerNode = 2
        #expect(m.network(ranksPerMachine: 2) == m.network && m.network(ranksPerMachine: 4) == m.networkWithoutSpin)
        m.coresPerNode = 0
        #expect(m.network(ranksPerMachine: 4) == m.network, "cores unknown: the fits as given")
    }

    /// Rows that make one call after a pause cheap per byte (a shaping link's burst: 100 kB in
    /// 0.1 ms, 1 MB in 8 ms) do not make ten 100 kB buckets cost 1 ms: together they cost what the
    /// whole 1 MB does, each its share; where the buckets cost more than the whole (α), as priced.
    @Test func bucketsAreNoFasterThanOneStreamOfTheirBytes() throws {
        let line = RingCostModel(alpha: 1e-5, beta: 8e-9, gamma: 0)
        let bursty = LevelCost(line, rows: [.init(bytes: 1e5, seconds: 1e-4), .init(bytes: 1e6, seconds: 8e-3)], ranks: 2)
        var m = prediction()
        m.bucketBytes = Array(repeating: 1e5, count: 10)
        m.network = ClusterCostModel(intra: bursty, inter: bursty)
        let t = Topology(nodes: 2, ranksPerNode: 1)
        let off = try m.point(JobConfiguration(topology: t))
        #expect(abs(off.exposedCommSeconds - 8e-3) < 1e-12, "\(off.exposedCommSeconds)")
        // Overlap: 0.8 ms a bucket from the first ready one (after forward and backward's first
        // tenth): the last ends at 10/3 ms + 0.6667 ms + 8 ms, exposed past the 10 ms compute.
        let on = try m.point(JobConfiguration(topology: t, overlap: true))
        #expect(abs(on.exposedCommSeconds - (0.010 / 3 + 0.010 * 2 / 3 / 10 + 8e-3 - 0.010)) < 1e-12, "\(on.exposedCommSeconds)")
        // The line alone: ten α cost more than one, the buckets stay as priced.
        m.network = ClusterCostModel(intra: line, inter: line)
        let each = try m.network.seconds(bytes: 1e5, topology: t)
        #expect(abs(try m.point(JobConfiguration(topology: t)).exposedCommSeconds - 10 * each) < 1e-12)
    }

    /// 10 ms compute (a third forward, two thirds backward), 1 ms other, two buckets of 1 MB on 2 nodes.
    func prediction(sharedCores: Int = 0) -> ScalingPrediction {
        ScalingPrediction(computeSeconds: 0.010, otherSeconds: 0.001, samplesPerEpoch: 6400, batchPerRank: 32,
                          bucketBytes: [1e6, 1e6], calibrationWatts: 30, idleWatts: 20,
                          network: ClusterCostModel(intra: intra, inter: RingCostModel(alpha: 0, beta: 1e-9, gamma: 0)),
                          sharedCores: sharedCores)
    }

    @Test func overlapHidesBucketsBehindBackward() throws {
        let m = prediction(), t = Topology(nodes: 2, ranksPerNode: 1)
        let c = 2 * 0.5 * 1e6 * 1e-9  // one bucket: 1 ms
        let off = try m.point(JobConfiguration(topology: t))
        #expect(abs(off.iterationSeconds - (0.011 + 2 * c)) < 1e-12 && abs(off.exposedCommSeconds - 2 * c) < 1e-12)
        // Bucket 1 ready halfway through backward (at 6.67 ms), done at 7.67 ms; bucket 2 ready at
        // the end (10 ms): only its 1 ms is exposed.
        let on = try m.point(JobConfiguration(topology: t, overlap: true))
        #expect(abs(on.exposedCommSeconds - c) < 1e-12 && abs(on.iterationSeconds - (0.011 + c)) < 1e-12)
        // At 100 Mbit-like costs (10 ms a bucket) the first is still running when backward ends:
        // exposed = (6.67 + 10 + 10) − 10 ms.
        var slow = m
        slow.network.inter = LevelCost(RingCostModel(alpha: 0, beta: 1e-8, gamma: 0))
        let partly = try slow.point(JobConfiguration(topology: t, overlap: true))
        #expect(abs(partly.exposedCommSeconds - (0.010 / 3 + 0.010 / 3 + 0.020 - 0.010)) < 1e-12)
        // Energy: the exposed part at busy power (spinning waits), the rest of the step too.
        let busy = 2 * 30.0
        #expect(abs(on.commJoules - busy * on.steps * c) < 1e-9)
    }

    /// With overlap and no spare core, the communication thread's CPU comes out of compute.
    @Test func overlapWithoutASpareCoreStretchesCompute() throws {
        var m = prediction(sharedCores: 2)
        m.network.inter?.cpuShare = 0.5
        m.commPower = .measured
        let t = Topology(nodes: 2, ranksPerNode: 1), c = 2 * 0.5 * 1e6 * 1e-9  // 1 ms a bucket
        let pt = try m.point(JobConfiguration(topology: t, overlap: true))
        // 2 ranks on 2 cores, none spare. At 10 ms of compute bucket 1 is ready at 6.67 ms and done
        // at 7.67 (hidden), bucket 2 ready at 10 and done at 11 (exposed): half the communication
        // runs beside backward, 2 ranks × 0.5 × 1 ms = 1 ms of CPU over 2 cores: compute 10 →
        // 10.5 ms. Laid out again: bucket 1 ready at 3.5 + 7/2 = 7 ms, done 8; bucket 2 at 10.5,
        // done 11.5: 1 ms exposed.
        #expect(abs(pt.exposedCommSeconds - c) < 1e-12)
        #expect(abs(pt.iterationSeconds - (0.0105 + 0.001 + c)) < 1e-12)
        // All of it hidden (2 buckets of 0.1 MB, 0.1 ms each, the last ready at 10 ms: exposed 0.1
        // ms; bucket 1 hidden): 2 × 0.5 × 0.1 ms over 2 cores = 0.05 ms more compute.
        var small = m
        small.bucketBytes = [1e5, 1e5]
        let hiddenOnly = try small.point(JobConfiguration(topology: t, overlap: true))
        #expect(abs(hiddenOnly.iterationSeconds - (0.01005 + 0.001 + 0.0001)) < 1e-12)
        // Dedicated nodes of 4 cores: 3 spare cores per node absorb it.
        m.sharedCores = 0
        m.coresPerNode = 4
        #expect(abs(try m.point(JobConfiguration(topology: t, overlap: true)).iterationSeconds - (0.011 + c)) < 1e-12)
        // Bucket layouts given for a size are used as they are.
        m.bucketLayouts[5e5] = [1.5e6, 5e5]
        #expect(m.buckets(JobConfiguration(topology: t, bucketBytes: 5e5)) == [1.5e6, 5e5])
        #expect(m.buckets(JobConfiguration(topology: t, bucketBytes: 7e5)) == [7e5, 1.3e6])
        #expect(m.buckets(JobConfiguration(topology: t, bucketBytes: .infinity)) == [2e6])
    }

    @Test func sharedCoresStretchComputeAndShareIdle() throws {
        let m = prediction(sharedCores: 2)
        let pt = try m.point(JobConfiguration(topology: Topology(nodes: 2, ranksPerNode: 2)))
        // 4 ranks on 2 cores: compute and other take twice as long; one machine's idle once.
        #expect(pt.steps == 50)  // 6400 / (4 · 32)
        let comm = try m.network.seconds(bytes: 1e6, topology: Topology(nodes: 2, ranksPerNode: 2))
        #expect(abs(pt.iterationSeconds - (2 * 0.011 + 2 * comm)) < 1e-12)
        #expect(abs(pt.computeJoules - (20 + 4 * 10 / 2) * 50 * 2 * 0.010) < 1e-9)
        #expect(abs(pt.idleJoules - 20 * 50 * 2 * 0.011) < 1e-9)
    }

    /// While communicating a rank draws what its CPU share costs: the fit's measured share, or
    /// all (busy) or nothing (idle) of its dynamic power.
    @Test func communicationPowerFollowsTheMeasuredShare() throws {
        var m = prediction(sharedCores: 2)
        m.network.inter?.cpuShare = 0.25
        m.network.intra?.cpuShare = 0.9
        let t = Topology(nodes: 4, ranksPerNode: 1), c = JobConfiguration(topology: t)
        func commWatts(_ power: ScalingPrediction.CommPower) throws -> Double {
            m.commPower = power
            let pt = try m.point(c)
            return pt.commJoules / (pt.steps * pt.exposedCommSeconds)
        }
        // One machine (shared cores): its idle once, plus 4 ranks × 0.25 of a core × 10 W.
        #expect(abs(try commWatts(.measured) - (20 + 1 * 10)) < 1e-9)
        #expect(abs(try commWatts(.idle) - 20) < 1e-9)
        #expect(abs(try commWatts(.busy) - (20 + 2 * 10)) < 1e-9, "busy: as many cores as there are, no more")
        // One node: the intra level's share; 2 ranks × 0.9 of the 2 cores.
        m.commPower = .measured
        let one = try m.point(JobConfiguration(topology: Topology(nodes: 1, ranksPerNode: 2)))
        #expect(abs(one.commJoules / (one.steps * one.exposedCommSeconds) - (20 + 1.8 * 10)) < 1e-9)
        // Dedicated nodes: each its own idle.
        m.sharedCores = 0
        #expect(abs(try commWatts(.measured) - (4 * 20 + 1 * 10)) < 1e-9)
    }

    /// The share measured at each size: interpolated in log bytes, the ends beyond them; the
    /// single share without sizes; per bucket by its bytes on the wire.
    @Test func communicationShareFollowsTheSizeOnTheWire() throws {
        let line = RingCostModel(alpha: 0, beta: 1e-9, gamma: 0)
        #expect(LevelCost(line, cpuShare: 0.3).cpuShare(bytes: 1e4) == 0.3)
        // Given in any order: the level keeps them by size.
        let level = LevelCost(line, cpuShare: 0.3, cpuShares: [.init(bytes: 1e5, share: 0.2), .init(bytes: 1e3, share: 0.8)])
        #expect(abs(level.cpuShare(bytes: 1e4)! - 0.5) < 1e-12, "halfway in log bytes")
        #expect(level.cpuShare(bytes: 10) == 0.8 && level.cpuShare(bytes: 1e9) == 0.2)
        var m = prediction(sharedCores: 2)
        m.commPower = .measured
        m.bucketBytes = [1e3, 1e5]
        m.network.inter = level
        let t = Topology(nodes: 4, ranksPerNode: 1)
        // 4 ranks on one machine of 2 cores: the buckets' times c_i (β only: 2·(3/4)·b·1e-9) weight
        // their shares 0.8 and 0.2; P_comm = 20 + min(4·u, 2)·10.
        let c = [1e3, 1e5].map { 2 * 0.75 * $0 * 1e-9 }, u = (0.8 * c[0] + 0.2 * c[1]) / (c[0] + c[1])
        let pt = try m.point(JobConfiguration(topology: t))
        #expect(abs(pt.commJoules / (pt.steps * pt.exposedCommSeconds) - (20 + 4 * u * 10)) < 1e-9)
        // A bf16 wire sends half the bytes: the 1e5-byte bucket is looked up at 5e4. Its
        // conversion (2·(3/4)·b·2e-11, part of each c_i) is CPU work, counted whole and once.
        m.network.conversionSecondsPerByte = [.bf16: 2e-11]
        let bf16 = try m.point(JobConfiguration(topology: t, wire: .bf16))
        let half = [5e2, 5e4].map { level.cpuShare(bytes: $0)! }
        let times = try [1e3, 1e5].map { try m.network.seconds(bytes: $0, topology: t, wire: .bf16) }
        let convert = [1e3, 1e5].map { 2 * 0.75 * $0 * 2e-11 }
        let ub = (0..<2).map { half[$0] * (times[$0] - convert[$0]) + convert[$0] }.reduce(0, +) / (times[0] + times[1])
        #expect(abs(bf16.commJoules / (bf16.steps * bf16.exposedCommSeconds) - (20 + 4 * ub * 10)) < 1e-9)
    }

    @Test func strongScalingReadsComputeAtTheBatch() throws {
        var m = prediction()
        // One calibration: proportional.
        #expect(m.compute(atBatch: 16) == (0.005, .proportional))
        // Two: a line through them, interpolated inside and extrapolated outside.
        m.computeByBatch = [.init(batch: 32, seconds: 0.010), .init(batch: 64, seconds: 0.018)]
        let inside = m.compute(atBatch: 48), outside = m.compute(atBatch: 16)
        #expect(abs(inside.seconds - 0.014) < 1e-15 && inside.basis == .interpolated)
        #expect(abs(outside.seconds - 0.006) < 1e-15 && outside.basis == .extrapolated)
        #expect(m.compute(atBatch: 64) == (0.018, .measured))
        // A global batch of 128 over 4 ranks: 32 each, 50 steps an epoch.
        let plan = try Plan(prediction: m, configurations: [JobConfiguration(topology: Topology(nodes: 4, ranksPerNode: 1)),
                                                            JobConfiguration(topology: Topology(nodes: 3, ranksPerNode: 1))],
                            work: 6400, globalBatch: 128, accounting: EnergyAccounting())
        #expect(plan.rows.count == 1 && plan.rows[0].batchPerRank == 32 && plan.rows[0].steps == 50)
        #expect(plan.notes == ["3×1: a global batch of 128 does not divide over 3 ranks; left out"])
    }

    @Test func frontierKeepsWhatNothingBeatsOnBoth() {
        // (time, energy): b beats c on both; a and b tie on energy (the faster stays); d is fastest.
        let points: [(seconds: Double, joules: Double)] = [(10, 5), (12, 5), (14, 6), (4, 9), (6, 9)]
        #expect(Plan.frontier(points) == [3, 0])
        #expect(Plan.frontier([(1, 1)]) == [0])
    }

    func plan() throws -> Plan {
        let m = prediction()
        let configs = [1, 2, 4].map { JobConfiguration(topology: Topology(nodes: $0, ranksPerNode: 1)) }
        return try Plan(prediction: m, configurations: configs, work: 64_000, globalBatch: nil,
                        accounting: EnergyAccounting(pue: 1.5, carbonGramsPerKWh: 400))
    }

    @Test func picksAndMargins() throws {
        let p = try plan()
        // Facility energy is IT × PUE, CO₂ its kWh × intensity.
        let r = p.rows[0]
        #expect(abs(r.facility.totalJ - 1.5 * (r.computeJoules + r.commJoules + r.idleJoules)) < 1e-9)
        #expect(abs(r.facility.co2Grams - r.facility.totalJ / 3.6e6 * 400) < 1e-12)
        // One node: no communication, least energy; more nodes finish sooner.
        let least = try p.leastEnergy(deadline: nil)
        #expect(least.row.configuration.topology.nodes == 1)
        let sorted = p.rows.map(\.joules).sorted()
        #expect(abs(least.margin! - (sorted[1] - sorted[0]) / sorted[0]) < 1e-12)
        let fastest = try p.fastest(energyBudget: nil)
        #expect(fastest.row.configuration.topology.nodes == 4)
        // A deadline one node misses moves the pick.
        let deadline = p.rows.first { $0.configuration.topology.nodes == 2 }!.seconds
        #expect(try p.leastEnergy(deadline: deadline).row.configuration.topology.nodes == 2)
        // A budget the fastest exceeds moves that pick.
        let budget = p.rows.first { $0.configuration.topology.nodes == 2 }!.joules
        #expect(try p.fastest(energyBudget: budget).row.configuration.topology.nodes <= 2)
    }

    @Test func anInfeasibleDeadlineNamesTheFastest() throws {
        let p = try plan()
        let fastest = p.rows.min { $0.seconds < $1.seconds }!
        #expect(throws: Plan.PlanError.deadlineUnmet(deadline: 0.001, fastest: "4×1 f32", seconds: fastest.seconds)) {
            try p.leastEnergy(deadline: 0.001)
        }
        #expect(throws: Plan.PlanError.budgetUnmet(budget: 1e-9, cheapest: "1×1", joules: p.rows.map(\.joules).min()!)) {
            try p.fastest(energyBudget: 1e-9)
        }
        #expect("\(Plan.PlanError.deadlineUnmet(deadline: 60, fastest: "4×1 f32", seconds: 90))"
                == "no configuration meets the deadline of 60 s: the fastest, 4×1 f32, takes 90 s")
    }
}
