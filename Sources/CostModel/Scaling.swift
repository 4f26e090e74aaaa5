import Collectives

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

/// One way to run the job: where the ranks sit and how the gradient travels.
public struct JobConfiguration: Sendable, Equatable, Hashable {
    public var topology: Topology
    public var wire: WireFormat
    /// Buckets all-reduced while backward still runs (a communication thread), or after it.
    public var overlap: Bool
    /// Bucket size in bytes (.infinity: the whole gradient in one); nil: the calibration run's own buckets.
    public var bucketBytes: Double?
    public var algorithm: AllReduceAlgorithm

    public init(topology: Topology, wire: WireFormat = .f32, overlap: Bool = false, bucketBytes: Double? = nil,
                algorithm: AllReduceAlgorithm = .ring) {
        self.topology = topology; self.wire = wire; self.overlap = overlap; self.bucketBytes = bucketBytes; self.algorithm = algorithm
    }

    /// "2×2 bf16 overlap 100 kB", "4×1 f32 1 bucket".
    public var label: String {
        guard topology.ranks > 1 else { return topology.label }  // nothing travels
        return topology.label + " " + wire.rawValue + (overlap ? " overlap" : "")
            + (bucketBytes.map { " " + Self.size($0) } ?? "")
    }

    static func size(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "1 bucket" }
        return bytes < 1e6 ? String(format: "%g kB", bytes / 1e3) : String(format: "%g MB", bytes / 1e6)
    }
}

/// Time and energy per epoch on N nodes of k ranks from a one-node, one-rank calibration and the
/// all-reduce's cost on a two-level network (`ClusterCostModel`), p = N·k:
///
///   b         = the calibration's batch per rank (weak scaling), or G / p (strong: --global-batch G)
///   steps     = ceil(samples per epoch / (p · b))
///   s         = max(1, p / shared cores) when all hosts share that many cores (the emulated cluster), else 1
///   κ_c, κ_o  = how much ranks sharing a machine (p of them, or k on a dedicated node) slow each
///               other's compute and the rest of their step beyond s (`Contention`; 1 uncalibrated)
///   c_i       = t_allreduce(bucket i)  (ClusterCostModel, for the wire format and algorithm; on a
///               machine with more ranks than cores, the fits whose waits did not spin, as the
///               trainer's do not there: `networkWithoutSpin`), scaled up together where they
///               sum to less than t_allreduce(the whole gradient): buckets are no faster than one
///               stream of their bytes (the fit's rows time each call after a pause, and a
///               shaping link passes one such call as a burst that back-to-back buckets do not get)
///   no overlap: t_iter = s·(κ_c·t_compute(b) + κ_o·t_other) + Σ c_i
///   overlap:    the communication thread's CPU while backward runs (h · (Σ cpu_i + conv) a rank:
///               h the share of the communication that ends before backward does, from the
///               schedule below at the unstretched compute; cpu_i as for P_comm below; conv the
///               conversion to and from a 16-bit wire, 2q·n·c_w a bucket) runs on the cores the
///               machine's ranks leave spare during backward, and stretches compute by what does
///               not fit: t_c = s·κ_c·t_compute + max(0, r·h·(Σ cpu_i + conv) − spare·s·β_b·t_compute) / C
///               (C cores and r ranks per machine, spare = C − r; nothing with --cores-per-node
///               unknown); the schedule is then laid out again on t_c. What runs after backward
///               is exposed: the ranks wait through it, and it takes no compute's core.
///               Bucket i is ready once backward (a fraction β_b of compute, from the end of the
///               buffer down) has produced its bytes; one thread reduces them in order:
///               start_i = max(ready_i, end_(i−1)); exposed = max(0, end_last − t_c). On a machine
///               whose cores all compute, nothing is hidden (exposed = Σ c_i, t_c unstretched) when
///               the thread's CPU a step exceeds the rank's compute: the scheduler owes it no core
///               (`Overlap.swift`). Where an overlap calibration measured what the thread costs
///               compute there (`OverlapCalibration`), that cost replaces the derivation, plus
///               the thread's CPU while backward runs beyond the calibration's own on these
///               buckets (its node's shared memory against this configuration's path: t_h,
///               `Overlap.swift`): t_c = s·κ_c·t_compute + t_h, and the schedule's hiding counts in the share
///               max(0, 1 − t_h / (β_b·s·κ_c·t_compute)).
///               t_iter = t_c + s·κ_o·t_other + exposed
///   P_busy    = M · P_idle + p · (P_1 − P_idle) / s
///   P_comm    = M · P_idle + min(p · u, cores) · (P_1 − P_idle): u = Σ cpu_i / Σ c_i, cpu_i the CPU
///               seconds a rank spends in bucket i's all-reduce: its conversion to and from a
///               16-bit wire, and of the rest of c_i all (spinning waits), none (sleeping waits:
///               the conversion not counted either), or what the fit measured
///               (`ClusterCostModel.cpuSeconds`: the fit's share at that size on the wire while
///               its ring would have moved the rank's bytes, the share of its smallest message's
///               wait for the rest); cores = shared cores or p
///   M         = machines: 1 when all hosts share one machine's cores (--shared-cores), else N
///   E_epoch   = steps · (P_busy · s · (κ_c·t_compute + κ_o·t_other) + P_comm · exposed)
/// t_compute(b): the calibration's at its batch; with calibrations at two or more batches, the
/// least-squares line through them (interpolated, or extrapolated past them); with one, scaled in
/// proportion to b. (A machine's idle power is counted once however many hosts it carries, as the
/// measurement counts it.)
public struct ScalingPrediction: Sendable, Equatable {
    public var computeSeconds: Double
    /// Everything but compute per iteration, from the calibration (independent of the batch).
    public var otherSeconds: Double
    public var samplesPerEpoch: Double
    public var batchPerRank: Double
    /// Bytes of each gradient bucket, in the order they are reduced: one all-reduce each per step.
    public var bucketBytes: [Double]
    /// The calibration's mean power (one rank) and a node's idle power, W.
    public var calibrationWatts: Double
    public var idleWatts: Double
    public var network: ClusterCostModel
    public var ranksPerNode: Int
    /// Cores all hosts share (0: dedicated nodes).
    public var sharedCores: Int
    /// What a rank draws while it communicates.
    public var commPower: CommPower

    public enum CommPower: String, Sendable, CaseIterable {
        /// Busy power: waits spin.
        case busy
        /// The machines' idle power only: waits sleep and copies cost nothing.
        case idle
        /// The CPU share the fit measured in its ring (busy where it did not measure one).
        case measured
    }
    /// Compute seconds per rank-step at other batches: (batch, seconds) from calibration runs.
    public var computeByBatch: [ComputeAtBatch]
    /// Share of compute that is backward (when buckets become ready): 2/3 — backward does two of
    /// the three matrix products per layer (the input and the weight gradients).
    public var backwardFraction = 2.0 / 3
    /// Bucket sizes → the bytes of each bucket the trainer forms for that size, in the order they
    /// are reduced (from the model's layers: `CommPlan.bucketLayout`); sizes not here are cut evenly.
    public var bucketLayouts: [Double: [Double]] = [:]
    /// Cores of a dedicated node (0: unknown, taken as a spare core for each rank's communication
    /// thread); with `sharedCores` the machine's.
    public var coresPerNode = 0
    /// The levels fitted with waits that sleep at once (`--comm-spin-us 0`) where `network`'s spun
    /// first: the trainer's waits on a machine with more ranks than cores (`CommSpin.auto`), which
    /// prices those machines; nil: `network` prices every machine.
    public var networkWithoutSpin: ClusterCostModel?
    /// Calibrations on one node with more than one rank, at the calibration's batch per rank:
    /// how much ranks that share a machine slow each other (`contention(ranksPerMachine:)`).
    public var sharedMachine: [SharedMachineCalibration] = []
    /// Calibrations on one node with more than one rank and overlap on, each beside an
    /// overlap-off one at its ranks: what the communication thread costs compute (`threadCost`).
    public var overlapMachine: [OverlapCalibration] = []

    public struct ComputeAtBatch: Sendable, Equatable {
        public var batch: Double
        public var seconds: Double
        public init(batch: Double, seconds: Double) { self.batch = batch; self.seconds = seconds }
    }

    public init(computeSeconds: Double, otherSeconds: Double, samplesPerEpoch: Double, batchPerRank: Double,
                bucketBytes: [Double], calibrationWatts: Double, idleWatts: Double, network: ClusterCostModel,
                ranksPerNode: Int = 1, sharedCores: Int = 0, commPower: CommPower = .busy,
                computeByBatch: [ComputeAtBatch] = []) {
        self.computeSeconds = computeSeconds; self.otherSeconds = otherSeconds
        self.samplesPerEpoch = samplesPerEpoch; self.batchPerRank = batchPerRank; self.bucketBytes = bucketBytes
        self.calibrationWatts = calibrationWatts; self.idleWatts = idleWatts; self.network = network
        self.ranksPerNode = ranksPerNode; self.sharedCores = sharedCores; self.commPower = commPower
        self.computeByBatch = computeByBatch
    }

    /// One network level for everything: `predict`'s model.
    public init(computeSeconds: Double, otherSeconds: Double, samplesPerEpoch: Double, batchPerRank: Double,
                bucketBytes: [Double], calibrationWatts: Double, idleWatts: Double, ring: RingCostModel,
                ranksPerNode: Int = 1, sharedCores: Int = 0, commPower: CommPower = .busy) {
        self.init(computeSeconds: computeSeconds, otherSeconds: otherSeconds, samplesPerEpoch: samplesPerEpoch,
                  batchPerRank: batchPerRank, bucketBytes: bucketBytes, calibrationWatts: calibrationWatts,
                  idleWatts: idleWatts, network: ClusterCostModel(oneLevel: ring), ranksPerNode: ranksPerNode,
                  sharedCores: sharedCores, commPower: commPower)
    }

    public struct Point: Sendable, Equatable {
        public var configuration: JobConfiguration
        public var nodes: Int { configuration.topology.nodes }
        /// Samples (or tokens) all ranks take in one step.
        public var globalBatch: Double
        public var steps: Double
        public var iterationSeconds: Double
        /// Communication not hidden behind backward, per iteration.
        public var exposedCommSeconds: Double
        public var epochSeconds: Double
        /// Per epoch: energy while computing, while communicating (exposed), in everything else.
        public var computeJoules: Double
        public var commJoules: Double
        public var otherJoules: Double
        /// Per epoch: the machines' idle power over the compute and other time (part of
        /// computeJoules + otherJoules; what remains of those is the ranks' dynamic power).
        public var idleJoules: Double
        public var samplesPerEpoch: Double
        /// How much the ranks sharing a machine slowed each other (beyond time-slicing) in this price.
        public var contention: Contention = .none
        /// Priced at the fits whose waits did not spin (`networkWithoutSpin`: more ranks than cores).
        public var pricedWithoutSpin = false
        public var joules: Double { computeJoules + commJoules + otherJoules }
        public var joulesPerSample: Double { joules / samplesPerEpoch }
    }

    /// How per-rank compute time at batch `b` was formed.
    public enum ComputeBasis: String, Sendable { case measured, interpolated, extrapolated, proportional }

    /// Compute seconds per rank-step at batch `b`, and how that figure was formed.
    public func compute(atBatch b: Double) -> (seconds: Double, basis: ComputeBasis) {
        var points = computeByBatch
        if !points.contains(where: { $0.batch == batchPerRank }) { points.append(.init(batch: batchPerRank, seconds: computeSeconds)) }
        if let exact = points.first(where: { $0.batch == b }) { return (exact.seconds, .measured) }
        let batches = Set(points.map(\.batch))
        guard batches.count >= 2 else { return (computeSeconds * b / batchPerRank, .proportional) }
        let n = Double(points.count), sx = points.map(\.batch).reduce(0, +), sy = points.map(\.seconds).reduce(0, +)
        let sxx = points.map { $0.batch * $0.batch }.reduce(0, +), sxy = points.map { $0.batch * $0.seconds }.reduce(0, +)
        let slope = (n * sxy - sx * sy) / (n * sxx - sx * sx), intercept = (sy - slope * sx) / n
        let inside = b >= batches.min()! && b <= batches.max()!
        return (max(0, intercept + slope * b), inside ? .interpolated : .extrapolated)
    }

    /// The buckets of `configuration`: the calibration's, or the gradient cut into buckets of
    /// `bucketBytes` (the last takes the remainder; the trainer cuts at layer pieces, so its
    /// buckets differ by up to a piece).
    public func buckets(_ configuration: JobConfiguration) -> [Double] {
        guard let size = configuration.bucketBytes else { return bucketBytes }
        let total = bucketBytes.reduce(0, +)
        guard size.isFinite, size < total else { return [total] }
        if let layout = bucketLayouts[size] { return layout }
        let count = max(1, Int(total / size))
        return Array(repeating: size, count: count - 1) + [total - size * Double(count - 1)]
    }

    /// Weak scaling at `nodes` nodes of `ranksPerNode` ranks, one level of configuration as `predict` has it.
    public func point(nodes: Int) throws -> Point {
        try point(JobConfiguration(topology: Topology(nodes: nodes, ranksPerNode: ranksPerNode)))
    }

    /// `configuration` with a batch per rank of `batch` (default: the calibration's, weak scaling).
    public func point(_ configuration: JobConfiguration, batchPerRank batch: Double? = nil) throws -> Point {
        let t = configuration.topology, p = Double(t.ranks), b = batch ?? batchPerRank
        let steps = (samplesPerEpoch / (p * b)).rounded(.up)
        let stretch = sharedCores > 0 ? max(1, p / Double(sharedCores)) : 1
        let compute = compute(atBatch: b).seconds
        let buckets = buckets(configuration)
        let ranksPerMachine = sharedCores > 0 ? p : Double(t.ranksPerNode)
        let network = self.network(ranksPerMachine: Int(ranksPerMachine))
        let comms = try network.bucketSeconds(buckets, configuration)
        let commSeconds = comms.reduce(0, +)
        let (commCPU, conversion) = threadCPU(buckets, comms: comms, configuration, network: network)
        // `share`: the all-reduces' CPU over their time.
        let share = commSeconds > 0 && commPower != .idle ? (commCPU + conversion) / commSeconds : 0
        let contention = contention(ranksPerMachine: Int(ranksPerMachine))
        var computeWall = stretch * contention.compute * compute, exposed = commSeconds
        let other = stretch * contention.other * otherSeconds
        if configuration.overlap {
            (computeWall, exposed) = overlapped(comms, buckets: buckets, compute: computeWall, threadCPU: commCPU + conversion,
                                                configuration: configuration, ranksPerMachine: ranksPerMachine, stretch: stretch)
        }
        let iteration = computeWall + other + exposed
        let n = Double(t.nodes), machines = sharedCores > 0 ? 1 : n
        let busy = machines * idleWatts + p * max(0, calibrationWatts - idleWatts) / stretch
        let cores = sharedCores > 0 ? Double(sharedCores) : p
        let communicating = machines * idleWatts + min(p * share, cores) * max(0, calibrationWatts - idleWatts)
        return Point(configuration: configuration, globalBatch: p * b, steps: steps, iterationSeconds: iteration,
                     exposedCommSeconds: exposed, epochSeconds: steps * iteration,
                     computeJoules: busy * steps * computeWall, commJoules: communicating * steps * exposed,
                     otherJoules: busy * steps * other,
                     idleJoules: machines * idleWatts * steps * (computeWall + other), samplesPerEpoch: samplesPerEpoch,
                     contention: contention, pricedWithoutSpin: pricedWithoutSpin(ranksPerMachine: Int(ranksPerMachine)))
    }
}
