/// Ranks that share a machine slow each other beyond time-slicing its cores: they share its
/// memory bandwidth and last-level cache, and on a virtual machine its "cores" are threads of a
/// host. How much is a property of the machine (a GPT step on one 2-core guest: 1.0× one hour,
/// 1.45× another), so `plan` measures it rather than assumes it: a calibration on one node with
/// k ranks (overlap off) beside the one-rank calibration.
///
///   κ_c(k) = t_compute(k ranks) / (t_compute(1 rank) · max(1, k / C))   (C the machine's cores; 1 when unknown)
///   κ_o(k) = t_other(k ranks)   / (t_other(1 rank)   · max(1, k / C))
///
/// t_other is everything in a step but compute and the exposed all-reduce (the optimizer, the
/// data, the guard): memory-bound passes that contend more than the products do. A machine with r
/// busy ranks is priced at the calibration with the most ranks ≤ r (none: κ = 1, no contention),
/// on top of the time-slicing stretch max(1, r/C).
public struct SharedMachineCalibration: Sendable, Equatable {
    /// Ranks that ran on the one node.
    public var ranks: Int
    /// Per rank, the median training iteration's compute, and its seconds outside compute and the all-reduce.
    public var computeSeconds: Double
    public var otherSeconds: Double

    public init(ranks: Int, computeSeconds: Double, otherSeconds: Double) {
        self.ranks = ranks; self.computeSeconds = computeSeconds; self.otherSeconds = otherSeconds
    }
}

extension ScalingPrediction {
    /// How much slower than one rank alone each of `ranks` busy ranks on one machine computes
    /// (and does the rest of its step), beyond time-slicing; and the ranks it was measured at.
    public struct Contention: Sendable, Equatable {
        public var compute: Double
        public var other: Double
        /// The calibration it comes from (1: none applies, no contention).
        public var measuredAtRanks: Int

        public static let none = Contention(compute: 1, other: 1, measuredAtRanks: 1)
        public init(compute: Double, other: Double, measuredAtRanks: Int) {
            self.compute = compute; self.other = other; self.measuredAtRanks = measuredAtRanks
        }
    }

    /// The cores one machine's ranks share: all hosts' (`sharedCores`), else a dedicated node's (0: unknown).
    public var machineCores: Int { sharedCores > 0 ? sharedCores : coresPerNode }

    /// κ for a machine of `ranks` busy ranks: from the calibration with the most ranks ≤ `ranks`.
    public func contention(ranksPerMachine ranks: Int) -> Contention {
        let candidates = sharedMachine.filter { $0.ranks > 1 && $0.ranks <= ranks }
        guard let c = candidates.max(by: { $0.ranks < $1.ranks }) else { return .none }
        let slicing = machineCores > 0 ? max(1, Double(c.ranks) / Double(machineCores)) : 1
        return Contention(compute: c.computeSeconds / (slicing * computeSeconds),
                          other: otherSeconds > 0 ? c.otherSeconds / (slicing * otherSeconds) : 1, measuredAtRanks: c.ranks)
    }
}

extension ScalingPrediction.Point {
    /// Ranks on one machine: all of them when the hosts share one machine's cores, else a node's.
    public func ranksPerMachine(sharedCores: Int) -> Int {
        sharedCores > 0 ? configuration.topology.ranks : configuration.topology.ranksPerNode
    }
}
