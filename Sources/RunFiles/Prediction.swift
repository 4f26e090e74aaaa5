import Collectives
import CostModel
import Foundation
import Support

extension RunOnDisk {
    /// A run read as a calibration for `predict` and `plan`: one rank (or, with `oneNode`, any
    /// number on one node, overlap off: how much ranks sharing a machine slow each other),
    /// iterations, finite figures.
    public static func calibration(path: String, oneNode: Bool = false) throws -> RunOnDisk {
        let cal = try RunOnDisk(path: path)
        if oneNode {
            guard cal.nodes == 1 else { throw RunError.runDirectory("\(path): a calibration must be a 1-node run (it has \(cal.nodes))") }
        } else {
            guard cal.ranks == 1 else { throw RunError.runDirectory("\(path): a calibration must be a 1-rank run (it has \(cal.ranks))") }
        }
        guard cal.summary.iterations > 0 else { throw RunError.runDirectory("\(path): the run has no iterations") }
        let figures = [("seconds", cal.summary.seconds), ("mean_power_w", cal.summary.meanPowerW),
                       ("compute seconds", cal.summary.secondsByPhase["compute"] ?? .nan)]
        if let bad = figures.first(where: { !$0.1.isFinite || $0.1 < 0 }) {
            throw RunError.runDirectory("\(path): its \(bad.0) is \(bad.1); a calibration needs finite times and power (rerun it)")
        }
        return cal
    }

    /// The steady state `predict` and `plan` model and compare, on both sides: the median
    /// training iteration. Evaluation happens per epoch or every so many steps, not per step, and
    /// the first iterations pay one-time costs (connections, page faults) a per-step model has no
    /// term for; the median also stands where a noisy machine stalls a few steps.
    func medianOfTraining(_ value: (IterationLine) -> Double) -> Double {
        median(trainingIterations.map(value)) ?? 0
    }

    /// Seconds of the median training iteration.
    public var trainingSecondsPerIteration: Double { medianOfTraining(\.seconds) }

    /// Joules per sample (token) of the median training iteration.
    public var trainingJoulesPerSample: Double { medianOfTraining { $0.energyJ / Double(max(1, $0.samples)) } }

    /// Watts of the median training iteration (the cluster's).
    public var trainingWatts: Double { medianOfTraining { $0.seconds > 0 ? $0.energyJ / $0.seconds : 0 } }

    /// The calibration's per-rank batch (samples or tokens per rank-step) and compute seconds per step.
    public var computeAtBatch: ScalingPrediction.ComputeAtBatch {
        .init(batch: Double(summary.samples) / Double(summary.iterations * summary.ranks), seconds: medianOfTraining(\.computeS))
    }

    /// Everything but compute in a median training step (with one rank, "comm" is only the local
    /// averaging of the buckets).
    public var otherSecondsPerIteration: Double { max(0, trainingSecondsPerIteration - computeAtBatch.seconds) }

    /// A one-node calibration's compute — its slowest rank's, which the step waits for (the mean
    /// in files from before `compute_max_s`) — and the rest of its step outside the all-reduce
    /// (`SharedMachineCalibration`). The others wait out the imbalance inside the all-reduce, so
    /// the rest is the step less the ranks' mean compute and mean exposed communication.
    public var sharedMachineCalibration: SharedMachineCalibration {
        .init(ranks: ranks, computeSeconds: medianOfTraining { $0.computeMaxS ?? $0.computeS },
              otherSeconds: medianOfTraining { max(0, $0.seconds - $0.computeS - $0.commExposedS) })
    }
}

extension RunOnDisk {
    /// The configuration this run trained with, as a plan's grid names it.
    public var jobConfiguration: JobConfiguration {
        let s = summary, t = Topology(nodes: s.nodes, ranksPerNode: max(1, s.ranks / max(1, s.nodes)))
        guard s.ranks > 1 else { return JobConfiguration(topology: t, algorithm: s.config.algorithm) }
        let bucket = s.commBucketsBytes.count <= 1 ? Double.infinity
                                                   : Double(s.config.bucketBytes ?? GradientBuckets.automaticBytes)
        return JobConfiguration(topology: t, wire: WireFormat(rawValue: s.wireDtype) ?? .f32, overlap: s.overlap,
                                bucketBytes: bucket, algorithm: s.config.algorithm)
    }
}

extension ScalingPrediction {
    /// The model calibrated on a one-node, one-rank run: its compute time and everything else in
    /// its median training iteration, samples (or tokens) per epoch and per rank-step, its buckets,
    /// its power in that iteration, and the node's idle watts (given, else the estimate's, else 0).
    public init(calibration cal: RunOnDisk, network: ClusterCostModel, idleWatts: Double?, ranksPerNode: Int, sharedCores: Int,
                commPower: ScalingPrediction.CommPower) {
        let s = cal.summary, atBatch = cal.computeAtBatch
        let other = cal.otherSecondsPerIteration, gradientBytes = Double(s.parameters * 4)
        self.init(computeSeconds: atBatch.seconds, otherSeconds: other, samplesPerEpoch: s.figures.samplesPerEpoch.map(Double.init) ?? Double(s.samples) / cal.epochs,
                  batchPerRank: atBatch.batch,  // samples or tokens, as samplesPerEpoch
                  bucketBytes: s.commBucketsBytes.isEmpty ? [gradientBytes] : s.commBucketsBytes.map(Double.init),
                  calibrationWatts: cal.trainingWatts, idleWatts: idleWatts ?? s.estimate?.nodeIdleWatts ?? 0, network: network,
                  ranksPerNode: ranksPerNode, sharedCores: sharedCores, commPower: commPower)
    }
}

/// One row of `predict --errors`: the prediction against a measured run.
public struct PredictionError: Codable, Equatable, Sendable {
    public var nodes: Int
    /// The configuration's label and the run's directory (`plan --measured`).
    public var configuration: String?
    public var run: String?
    public var tIterPredictedS: Double
    public var tIterMeasuredS: Double
    public var joulesPerSamplePredicted: Double
    public var joulesPerSampleMeasured: Double
    public var tIterError: Double { (tIterPredictedS - tIterMeasuredS) / tIterMeasuredS }
    public var energyError: Double { (joulesPerSamplePredicted - joulesPerSampleMeasured) / joulesPerSampleMeasured }

    enum CodingKeys: String, CodingKey {
        case nodes, tIterPredictedS = "t_iter_predicted_s", tIterMeasuredS = "t_iter_measured_s", tIterError = "t_iter_error"
        case joulesPerSamplePredicted = "j_per_sample_predicted", joulesPerSampleMeasured = "j_per_sample_measured"
        case energyError = "energy_error", configuration, run
    }

    /// The prediction against `measured` (nil for a run with another ranks-per-node): time per
    /// training iteration, and energy per sample (or token) of the training iterations — per
    /// sample, because a run sized by --steps does the same steps at every node count, not an
    /// epoch's samples; evaluation and checkpoints left out on both sides.
    public init?(measured m: RunOnDisk, model: ScalingPrediction, ranksPerNode: Int) throws {
        guard m.ranks == m.nodes * ranksPerNode else { return nil }
        let pt = try model.point(nodes: m.nodes)
        self.init(nodes: m.nodes, tIterPredictedS: pt.iterationSeconds, tIterMeasuredS: m.trainingSecondsPerIteration,
                  joulesPerSamplePredicted: pt.joulesPerSample, joulesPerSampleMeasured: m.trainingJoulesPerSample)
    }

    public init(nodes: Int, tIterPredictedS: Double, tIterMeasuredS: Double, joulesPerSamplePredicted: Double, joulesPerSampleMeasured: Double) {
        self.nodes = nodes; self.tIterPredictedS = tIterPredictedS; self.tIterMeasuredS = tIterMeasuredS
        self.joulesPerSamplePredicted = joulesPerSamplePredicted; self.joulesPerSampleMeasured = joulesPerSampleMeasured
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(nodes: try c.decode(Int.self, forKey: .nodes), tIterPredictedS: try c.decode(Double.self, forKey: .tIterPredictedS),
                  tIterMeasuredS: try c.decode(Double.self, forKey: .tIterMeasuredS),
                  joulesPerSamplePredicted: try c.decode(Double.self, forKey: .joulesPerSamplePredicted),
                  joulesPerSampleMeasured: try c.decode(Double.self, forKey: .joulesPerSampleMeasured))
        configuration = try c.decodeIfPresent(String.self, forKey: .configuration)
        run = try c.decodeIfPresent(String.self, forKey: .run)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodes, forKey: .nodes); try c.encode(tIterPredictedS, forKey: .tIterPredictedS)
        try c.encode(tIterMeasuredS, forKey: .tIterMeasuredS); try c.encode(tIterError, forKey: .tIterError)
        try c.encode(joulesPerSamplePredicted, forKey: .joulesPerSamplePredicted)
        try c.encode(joulesPerSampleMeasured, forKey: .joulesPerSampleMeasured)
        try c.encode(energyError, forKey: .energyError)
        try c.encodeIfPresent(configuration, forKey: .configuration)
        try c.encodeIfPresent(run, forKey: .run)
    }

    /// A plan's row against the measured run of the same configuration.
    public init(measured m: RunOnDisk, row: Plan.Row) {
        self.init(nodes: m.nodes, tIterPredictedS: row.point.iterationSeconds, tIterMeasuredS: m.trainingSecondsPerIteration,
                  joulesPerSamplePredicted: row.point.joulesPerSample, joulesPerSampleMeasured: m.trainingJoulesPerSample)
        configuration = row.configuration.label; run = m.path
    }
}
