import Foundation
import Collectives
import CostModel
import Energy
import Support

/// What `ringwatt plan` prices, read from what the user gives it: the grid of configurations
/// from its comma-separated lists, the two-level network from `bench-allreduce --fit` files, and
/// the calibration runs (one model; repeated runs at one batch size stand for it by their median).
/// Every bad input is a `RunError.configuration` of one line.
public enum PlanInputs {
    /// Every configuration: node counts 1, 2, 4 … `maxNodes` × ranks per node × wire × overlap ×
    /// bucket size. One rank has nothing to send (one configuration); one bucket leaves only when
    /// backward is over, so it is not combined with overlap.
    public static func grid(ranksPerNode: String, wire: String, overlap: String, bucketMb: String, maxNodes: Int,
                            algorithm: AllReduceAlgorithm) throws -> [JobConfiguration] {
        let perNode = try list(ranksPerNode, "ranks-per-node") { Int($0).flatMap { $0 >= 1 && $0 <= 4096 ? $0 : nil } }
        let wires = try list(wire, "wire") { WireFormat(rawValue: $0) }
        let overlaps = try list(overlap, "overlap") { ["off": false, "on": true][$0] }
        let buckets: [Double] = try list(bucketMb, "bucket-mb") { s -> Double? in
            switch s {
            case "auto": Double(GradientBuckets.automaticBytes)
            case "whole": Double.infinity
            default: Double(s).flatMap { $0 > 0 && $0.isFinite ? $0 * 1e6 : nil }
            }
        }
        var configurations: [JobConfiguration] = [], n = 1
        while n <= maxNodes {
            for k in perNode {
                let t = Topology(nodes: n, ranksPerNode: k)
                if t.ranks == 1 { configurations.append(JobConfiguration(topology: t, algorithm: algorithm)); continue }
                for w in wires { for o in overlaps { for b in buckets where !(o && b.isInfinite) {
                    configurations.append(JobConfiguration(topology: t, wire: w, overlap: o, bucketBytes: b, algorithm: algorithm))
                } } }
            }
            n *= 2
        }
        return configurations
    }

    /// A comma-separated list, repeats dropped, every item read by `parse`.
    static func list<T>(_ text: String, _ name: String, _ parse: (String) -> T?) throws -> [T] {
        var items: [String] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !items.contains(item) {
            items.append(item)
        }
        let values = items.compactMap(parse)
        guard !items.isEmpty, values.count == items.count else { throw RunError.configuration("--\(name): cannot read '\(text)'") }
        return values
    }

    /// The two levels from the fit files, at `linkGbit` if given — a level fitted more than once
    /// on as many ranks stands as the median of its fits (`RingFitFile.median`); the inter-node
    /// level fitted on more ranks prices the rings of as many ranks and more
    /// (`ClusterCostModel.widerInter`) — and where fits were also given with waits that sleep at
    /// once (`comm_spin_us` 0 with `comm_wait_us` > 0) beside fits whose waits spun first, the
    /// levels from those (each fit missing there taken from the others):
    /// `ScalingPrediction.networkWithoutSpin`, for machines with more ranks than cores. An
    /// inter-node ring wider than a pair fitted with more ranks than `cores` (0: unknown) on a machine
    /// is refused: it times the scheduler, not the network (2 emulated hosts × 2 ranks on 2 cores:
    /// a 4 kB ring 4.6 ms, against 0.42 ms on 2 hosts × 1; the MLP priced 20–140 % too slow).
    /// Inter-node rings of different widths fitted at different link rates are refused.
    public static func networks(fits paths: [String], linkGbit: Double?, fitLinkGbit: Double?, cores: Int = 0) throws
        -> (network: ClusterCostModel, withoutSpin: ClusterCostModel?) {
        // Keyed "intra", and "inter" with its ranks ("inter 2", "inter 4"): the fits of a key combine.
        var spun: [String: [(path: String, file: RingFitFile)]] = [:], slept = spun
        for (i, path) in paths.enumerated() {
            guard !paths[..<i].contains(path) else { throw RunError.configuration("\(path): given to --fit twice; give each fit once") }
            let file = try RingFitFile.read(path: path)
            let key = file.level == "intra" ? "intra" : "inter \(file.ranks ?? 2)"
            if file.level == "inter", let ranks = file.ranks, ranks > 2, cores > 0, let onOne = file.ranksPerMachine, onOne > cores {
                throw RunError.configuration("\(path): its ring ran \(onOne) ranks on a machine of \(cores) cores, which times the scheduler, not the network; fit the inter-node ring of \(ranks) ranks where each has a core")
            }
            if file.commSpinUs == 0 && (file.commWaitUs ?? 0) > 0 { slept[key, default: []].append((path, file)) }
            else { spun[key, default: []].append((path, file)) }
        }
        let spinning = try spun.mapValues(RingFitFile.median), sleeping = try slept.mapValues(RingFitFile.median)
        func levels(_ own: [String: RingFitFile], else other: [String: RingFitFile] = [:]) throws -> ClusterCostModel? {
            let fits = own.merging(other) { mine, _ in mine }
            let intra = fits["intra"]
            let inter = fits.filter { $0.key.hasPrefix("inter ") }.map(\.value).sorted { ($0.ranks ?? 2) < ($1.ranks ?? 2) }
            guard let any = inter.first ?? intra else { return nil }
            if let narrow = inter.first, let odd = inter.first(where: { $0.linkGbit != narrow.linkGbit }) {
                func rate(_ f: RingFitFile) -> String { f.linkGbit.map { String(format: "%g Gbit/s", $0) } ?? "an unknown rate" }
                throw RunError.configuration("--fit: the inter-node ring of \(narrow.ranks ?? 2) ranks was fitted at \(rate(narrow)), the one of \(odd.ranks ?? 2) at \(rate(odd)); fit every width on one link (--link-gbit rescales them together)")
            }
            let network = ClusterCostModel(intra: intra?.levelCost, inter: inter.first?.levelCost,
                                           widerInter: inter.dropFirst().map(\.levelCost), conversionSecondsPerByte: any.conversion)
            guard let linkGbit else { return network }
            guard let first = inter.first else { throw RunError.configuration("--link-gbit changes the inter-node level, and no --fit is one") }
            return network.atLink(gbit: linkGbit, fitLinkGbit: fitLinkGbit ?? first.linkGbit)
        }
        if spinning.isEmpty, let network = try levels(sleeping) { return (network, nil) }
        guard let network = try levels(spinning) else { throw RunError.configuration("--fit: give the bench-allreduce --fit file(s) of the levels to plan over") }
        return (network, sleeping.isEmpty ? nil : try levels(sleeping, else: spinning))
    }

    /// The calibration runs, one model, on one node: the first 1-rank run; per batch size the
    /// median 1-rank run of those at it (a noisy machine calibrated more than once); and per rank
    /// count above one — at the first run's batch per rank — how much its ranks slowed each other
    /// with overlap off (`byRanks`) and what the communication thread cost compute with it on
    /// (`overlap`). Both are measured as pairs, each taken beside its partner (one experiment):
    /// the i-th overlap-off run of k ranks given against the i-th 1-rank run at that batch, the
    /// i-th overlap-on run of k against the i-th overlap-off one; the median of the pairs' ratios
    /// (differences) stands for them. A machine whose speed drifts over the calibrations moves
    /// both runs of a pair alike, where the medians of each kind can come from different speeds.
    public struct Calibrations {
        public var base: RunOnDisk
        public var byBatch: [Double: RunOnDisk]
        public var byRanks: [Int: SharedMachineCalibration]
        public var overlap: [OverlapCalibration] = []
        /// Per rank count, every pair's figure — its compute ratio, or the thread's cost a step —
        /// for the table to show how far the pairs agree.
        public var pairs = Pairs()

        public struct Pairs {
            public var contention: [Int: [Double]] = [:]
            public var overlap: [Int: [Double]] = [:]
            public init() {}
        }
    }

    public static func calibrations(_ paths: [String]) throws -> Calibrations {
        let runs = try paths.map { try RunOnDisk.calibration(path: $0, oneNode: true) }
        guard let first = runs.first(where: { $0.ranks == 1 }) else {
            throw RunError.configuration("--calibration: give at least one 1-node, 1-rank run")
        }
        for other in runs where other.path != first.path {
            let a = first.summary, b = other.summary
            guard a.config.model == b.config.model, a.parameters == b.parameters else {
                throw RunError.configuration("\(other.path) trains another model (\(b.config.model.rawValue), \(b.parameters) parameters) than \(first.path) (\(a.config.model.rawValue), \(a.parameters)); calibrate one model")
            }
            guard other.ranks == 1 || other.computeAtBatch.batch == first.computeAtBatch.batch else {
                throw RunError.configuration("\(other.path) ran \(other.ranks) ranks at \(other.computeAtBatch.batch) a rank; calibrate more ranks on a node at the batch of \(first.path) (\(first.computeAtBatch.batch))")
            }
        }
        func median(_ group: [RunOnDisk]) -> RunOnDisk {
            group.sorted { $0.trainingSecondsPerIteration < $1.trainingSecondsPerIteration }[group.count / 2]
        }
        let single = runs.filter { $0.ranks == 1 }
        let byBatch = Dictionary(grouping: single) { $0.computeAtBatch.batch }.mapValues(median)
        let base = byBatch[first.computeAtBatch.batch]!, alone = single.filter { $0.computeAtBatch.batch == base.computeAtBatch.batch }
        let offByRanks = Dictionary(grouping: runs.filter { $0.ranks > 1 && !$0.summary.overlap }) { $0.ranks }
        let onByRanks = Dictionary(grouping: runs.filter { $0.ranks > 1 && $0.summary.overlap }) { $0.ranks }
        // Every pair's figure once: the calibrations are their medians, the table shows their range.
        var calibrations = Calibrations(base: base, byBatch: byBatch, byRanks: [:])
        for (k, off) in offByRanks {
            let ratios = try contentionPairs(off, alone: alone)
            calibrations.pairs.contention[k] = ratios.map(\.compute)
            calibrations.byRanks[k] = SharedMachineCalibration(ranks: k, computeSeconds: Support.median(ratios.map(\.compute))! * base.computeAtBatch.seconds,
                                                               otherSeconds: Support.median(ratios.map(\.other))! * base.otherSecondsPerIteration)
        }
        for (k, on) in onByRanks.sorted(by: { $0.key < $1.key }) {
            let differences = try overlapPairs(on, off: offByRanks[k] ?? [])
            calibrations.pairs.overlap[k] = differences
            calibrations.overlap.append(OverlapCalibration(ranks: k, threadSeconds: Support.median(differences)!,
                                                           buckets: on[0].summary.commBucketsBytes.count, wire: on[0].summary.config.wire))
        }
        return calibrations
    }

    /// How much k ranks on one node slowed each other (overlap off), pair by pair (`runs[i]` against
    /// `alone[i]`, the 1-rank runs at their batch): the ratio of their compute (the slowest rank's
    /// against the lone rank's) and of the rest of their steps (1 where the lone rank's is 0). Their
    /// medians, stated at the base run's compute and rest, are the `SharedMachineCalibration`, so
    /// that the contention priced is the pairs' ratio. Every run of k ranks has its partner.
    static func contentionPairs(_ runs: [RunOnDisk], alone: [RunOnDisk]) throws -> [(compute: Double, other: Double)] {
        guard runs.count <= alone.count else {
            throw RunError.configuration("\(runs[alone.count].path) ran \(runs[0].ranks) ranks with overlap off; give a 1-rank calibration at its batch beside it (one for each run of more ranks, paired in the order given: how much ranks sharing a machine slow each other is the ratio)")
        }
        return zip(runs, alone).map { together, one in
            let t = together.sharedMachineCalibration, c = one.computeAtBatch.seconds, o = one.otherSecondsPerIteration
            return (c > 0 ? t.computeSeconds / c : 1, o > 0 ? t.otherSeconds / o : 1)
        }
    }

    /// What the communication thread cost compute on one node of k ranks, pair by pair (`on[i]`
    /// against `off[i]`): the overlap-on run's compute less the overlap-off run's. Every overlap-on
    /// run has its pair, and all reduce the same buckets on the same wire.
    static func overlapPairs(_ on: [RunOnDisk], off: [RunOnDisk]) throws -> [Double] {
        let first = on[0], k = first.ranks
        for (i, run) in on.enumerated() {
            guard i < off.count else {
                throw RunError.configuration("\(run.path) ran \(k) ranks with overlap on; give a calibration of \(k) ranks with --overlap off beside it (one for each run with overlap on, paired in the order given: what the communication thread costs is the difference)")
            }
            guard run.summary.commBucketsBytes.count > 1 else {
                throw RunError.configuration("\(run.path) ran overlap on with one bucket, which nothing overlaps; calibrate with the trainer's buckets (leave --bucket-mb out)")
            }
            let a = first.summary, b = run.summary
            guard a.commBucketsBytes == b.commBucketsBytes, a.config.wire == b.config.wire else {
                throw RunError.configuration("\(run.path) reduced other buckets or another wire than \(first.path) with overlap on at \(k) ranks; calibrate one bucket size and wire")
            }
        }
        return zip(on, off).map { $0.sharedMachineCalibration.computeSeconds - $1.sharedMachineCalibration.computeSeconds }
    }
}
