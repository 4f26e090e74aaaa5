/// Figures that compare a run with a baseline run of the same work per epoch.
public struct ScalingFigures: Sendable, Equatable {
    /// Baseline time per epoch over this run's.
    public var speedup: Double
    /// Speed-up per unit of added nodes: 1 is perfect scaling.
    public var efficiency: Double
    /// Energy-delay product per epoch, J·s: lower is better on both counts.
    public var energyDelay: Double

    public init(secondsPerEpoch t: Double, joulesPerEpoch e: Double, nodes: Int,
                baselineSecondsPerEpoch t0: Double, baselineNodes n0: Int) {
        speedup = t0 / t
        efficiency = speedup / (Double(nodes) / Double(n0))
        energyDelay = e * t
    }
}

/// Time and energy per epoch at N nodes from a one-node, one-rank calibration and the ring's cost
/// model, for weak scaling (a fixed batch per rank), p = nodes × ranks per node:
///
///   steps(N)  = ceil(samples per epoch / (p · batch))
///   t_iter(N) = s(N) · (t_compute + t_other) + Σ over buckets of t_ring(n_b, p)
///   s(N)      = max(1, p / shared cores) when all hosts share that many cores (the emulated cluster), else 1
///   P(N)      = M · P_idle + nodes · r · (P_1 − P_idle) / s(N);  M · P_idle during communication when waits sleep
///   M         = machines: 1 when all hosts share one machine's cores (--shared-cores), else nodes
///   E_epoch   = P(N) · steps · t_iter, split compute / comm / other by time
/// (A machine's idle power is counted once however many hosts it carries, as the measurement counts it.)
public struct ScalingPrediction: Sendable, Equatable {
    public var computeSeconds: Double
    /// Everything but compute per iteration, from the calibration.
    public var otherSeconds: Double
    public var samplesPerEpoch: Double
    public var batchPerRank: Double
    /// Bytes of each gradient bucket: one all-reduce each per step, each paying the latency terms.
    public var bucketBytes: [Double]
    /// The calibration's mean power (one rank) and a node's idle power, W.
    public var calibrationWatts: Double
    public var idleWatts: Double
    public var ring: RingCostModel
    public var ranksPerNode: Int
    /// Cores all hosts share (0: dedicated nodes).
    public var sharedCores: Int
    /// Ranks waiting in communication draw idle power (sleeping waits) rather than busy power.
    public var idleWhileCommunicating: Bool

    public init(computeSeconds: Double, otherSeconds: Double, samplesPerEpoch: Double, batchPerRank: Double,
                bucketBytes: [Double], calibrationWatts: Double, idleWatts: Double, ring: RingCostModel,
                ranksPerNode: Int = 1, sharedCores: Int = 0, idleWhileCommunicating: Bool = false) {
        self.computeSeconds = computeSeconds; self.otherSeconds = otherSeconds
        self.samplesPerEpoch = samplesPerEpoch; self.batchPerRank = batchPerRank; self.bucketBytes = bucketBytes
        self.calibrationWatts = calibrationWatts; self.idleWatts = idleWatts; self.ring = ring
        self.ranksPerNode = ranksPerNode; self.sharedCores = sharedCores; self.idleWhileCommunicating = idleWhileCommunicating
    }

    public struct Point: Sendable, Equatable {
        public var nodes: Int
        public var steps: Double
        public var iterationSeconds: Double
        public var epochSeconds: Double
        public var computeJoules: Double
        public var commJoules: Double
        public var otherJoules: Double
        public var samplesPerEpoch: Double
        public var joules: Double { computeJoules + commJoules + otherJoules }
        public var joulesPerSample: Double { joules / samplesPerEpoch }
    }

    public func point(nodes: Int) -> Point {
        let p = Double(nodes * ranksPerNode)
        let steps = (samplesPerEpoch / (p * batchPerRank)).rounded(.up)
        let stretch = sharedCores > 0 ? max(1, p / Double(sharedCores)) : 1
        let comm = bucketBytes.map { ring.seconds(bytes: $0, ranks: nodes * ranksPerNode) }.reduce(0, +)
        let iteration = stretch * (computeSeconds + otherSeconds) + comm
        let n = Double(nodes), machines = sharedCores > 0 ? 1 : n
        let busy = machines * idleWatts + n * Double(ranksPerNode) * max(0, calibrationWatts - idleWatts) / stretch
        let communicating = idleWhileCommunicating ? machines * idleWatts : busy
        return Point(nodes: nodes, steps: steps, iterationSeconds: iteration, epochSeconds: steps * iteration,
                     computeJoules: busy * steps * stretch * computeSeconds,
                     commJoules: communicating * steps * comm,
                     otherJoules: busy * steps * stretch * otherSeconds, samplesPerEpoch: samplesPerEpoch)
    }
}
