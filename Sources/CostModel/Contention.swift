import Collectives

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
/// data, the guard): memory-bound passes that contend more than the products do. Repeated, each
/// k-rank run is paired with a 1-rank run taken beside it and the ratios are the median of the
/// pairs' (`PlanInputs.calibrations`), stated at the base run's times. A machine with r
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

/// A calibration on one node with k ranks and overlap on (the trainer's buckets), beside the
/// overlap-off one at k: what the communication thread costs compute on a machine whose cores all
/// compute, measured rather than derived. Beyond its own CPU the thread costs compute its cache and
/// a switch each time it wakes (the MLP on a Zen 1 guest: 1.4–8× the thread's all-reduce time), a
/// property of the CPU and the scheduler:
///
///   δ = (t_compute(k ranks, overlap on) − t_compute(k ranks, overlap off)) / buckets   (per bucket, ≥ 0)
///
/// Repeated, each overlap-on run is paired with an overlap-off one taken beside it and the
/// difference is the median of the pairs' (`PlanInputs.calibrations`): a machine's drift over a
/// study cancels within a pair, where the difference of two medians can take two runs' drift.
///
/// A machine of r ≥ k ranks, its cores all computing (r ≥ C, and k ≥ C), is priced at the
/// calibration with the most ranks ≤ r: compute stretches by buckets · δ · max(1, r/C) / max(1, k/C)
/// (the thread's cost time-sliced as compute is), and by the thread's CPU beyond the
/// calibration's own on the same buckets where its path costs more (`Overlap.swift`).
public struct OverlapCalibration: Sendable, Equatable {
    public var ranks: Int
    /// What the thread cost each rank's compute a step: the median training iteration's compute
    /// (its slowest rank's) overlap on, less overlap off (may be negative: noise).
    public var threadSeconds: Double
    /// Buckets it all-reduced a step, and the gradient's values on its wire.
    public var buckets: Int
    public var wire: WireFormat

    public init(ranks: Int, threadSeconds: Double, buckets: Int, wire: WireFormat = .f32) {
        self.ranks = ranks; self.threadSeconds = threadSeconds; self.buckets = buckets; self.wire = wire
    }
}

extension ScalingPrediction {
    /// What the communication thread costs each rank's compute a step (`OverlapCalibration`) on a
    /// machine of `ranks` ranks reducing `buckets` buckets, and the calibration's ranks and wire;
    /// nil where none applies (spare cores, cores unknown, no calibration at or below `ranks`).
    public func threadCost(ranksPerMachine ranks: Int, buckets: Int) -> (seconds: Double, measuredAtRanks: Int, wire: WireFormat)? {
        let cores = machineCores
        guard cores > 0, ranks >= cores else { return nil }
        let candidates = overlapMachine.filter { $0.ranks >= cores && $0.ranks <= ranks && $0.buckets > 0 }
        guard let c = candidates.max(by: { $0.ranks < $1.ranks }) else { return nil }
        let perBucket = max(0, c.threadSeconds) / Double(c.buckets)
        let slicing = timeSlicing(ranks: ranks) / timeSlicing(ranks: c.ranks)
        return (Double(buckets) * perBucket * slicing, c.ranks, c.wire)
    }

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

    /// How much longer `ranks` busy ranks take on the machine's cores than on their own, max(1, r/C)
    /// (1 where the cores are unknown).
    public func timeSlicing(ranks: Int) -> Double {
        machineCores > 0 ? max(1, Double(ranks) / Double(machineCores)) : 1
    }

    /// The cores one machine's ranks share: all hosts' (`sharedCores`), else a dedicated node's (0: unknown).
    public var machineCores: Int { sharedCores > 0 ? sharedCores : coresPerNode }

    /// κ for a machine of `ranks` busy ranks: from the calibration with the most ranks ≤ `ranks`.
    public func contention(ranksPerMachine ranks: Int) -> Contention {
        let candidates = sharedMachine.filter { $0.ranks > 1 && $0.ranks <= ranks }
        guard let c = candidates.max(by: { $0.ranks < $1.ranks }) else { return .none }
        let slicing = timeSlicing(ranks: c.ranks)
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
