import CostModel
import Foundation

extension RunOnDisk {
    /// A run read as a calibration for `predict` and `plan`: one rank, iterations, finite figures.
    public static func calibration(path: String) throws -> RunOnDisk {
        let cal = try RunOnDisk(path: path)
        guard cal.ranks == 1 else { throw RunError.runDirectory("\(path): a calibration must be a 1-rank run (it has \(cal.ranks))") }
        guard cal.summary.iterations > 0 else { throw RunError.runDirectory("\(path): the run has no iterations") }
        let figures = [("seconds", cal.summary.seconds), ("mean_power_w", cal.summary.meanPowerW),
                       ("compute seconds", cal.summary.secondsByPhase["compute"] ?? .nan)]
        if let bad = figures.first(where: { !$0.1.isFinite || $0.1 < 0 }) {
            throw RunError.runDirectory("\(path): its \(bad.0) is \(bad.1); a calibration needs finite times and power (rerun it)")
        }
        return cal
    }

    /// The calibration's per-rank batch (samples or tokens per rank-step) and compute seconds per step.
    public var computeAtBatch: ScalingPrediction.ComputeAtBatch {
        .init(batch: Double(summary.samples) / Double(summary.iterations * summary.ranks),
              seconds: (summary.secondsByPhase["compute"] ?? 0) / iterations)
    }
}

extension ScalingPrediction {
    /// The model calibrated on a one-node, one-rank run: its compute time and everything else per
    /// iteration, samples (or tokens) per epoch and per rank-step, its buckets, its mean power, and
    /// the node's idle watts (given, else the estimate's, else 0).
    public init(calibration cal: RunOnDisk, network: ClusterCostModel, idleWatts: Double?, ranksPerNode: Int, sharedCores: Int,
                idleWhileCommunicating: Bool) {
        let s = cal.summary, iterations = cal.iterations, atBatch = cal.computeAtBatch
        // Everything but compute (with one rank, "comm" is only the local averaging of the buckets).
        let other = (s.seconds - (s.secondsByPhase["compute"] ?? 0)) / iterations
        let gradientBytes = Double(s.parameters * 4)
        self.init(computeSeconds: atBatch.seconds, otherSeconds: other, samplesPerEpoch: s.figures.samplesPerEpoch.map(Double.init) ?? Double(s.samples) / cal.epochs,
                  batchPerRank: atBatch.batch,  // samples or tokens, as samplesPerEpoch
                  bucketBytes: s.commBucketsBytes.isEmpty ? [gradientBytes] : s.commBucketsBytes.map(Double.init),
                  calibrationWatts: s.meanPowerW, idleWatts: idleWatts ?? s.estimate?.nodeIdleWatts ?? 0, network: network,
                  ranksPerNode: ranksPerNode, sharedCores: sharedCores, idleWhileCommunicating: idleWhileCommunicating)
    }
}

/// One row of `predict --errors`: the prediction against a measured run.
public struct PredictionError: Codable, Equatable, Sendable {
    public var nodes: Int
    public var tIterPredictedS: Double
    public var tIterMeasuredS: Double
    public var joulesPerSamplePredicted: Double
    public var joulesPerSampleMeasured: Double
    public var tIterError: Double { (tIterPredictedS - tIterMeasuredS) / tIterMeasuredS }
    public var energyError: Double { (joulesPerSamplePredicted - joulesPerSampleMeasured) / joulesPerSampleMeasured }

    enum CodingKeys: String, CodingKey {
        case nodes, tIterPredictedS = "t_iter_predicted_s", tIterMeasuredS = "t_iter_measured_s", tIterError = "t_iter_error"
        case joulesPerSamplePredicted = "j_per_sample_predicted", joulesPerSampleMeasured = "j_per_sample_measured"
        case energyError = "energy_error"
    }

    /// The prediction against `measured` (nil for a run with another ranks-per-node): time per
    /// iteration, and energy per sample (or token) — per sample, because a run sized by --steps
    /// does the same steps at every node count, not an epoch's samples.
    public init?(measured m: RunOnDisk, model: ScalingPrediction, ranksPerNode: Int) throws {
        guard m.ranks == m.nodes * ranksPerNode else { return nil }
        let pt = try model.point(nodes: m.nodes)
        self.init(nodes: m.nodes, tIterPredictedS: pt.iterationSeconds, tIterMeasuredS: m.summary.seconds / m.iterations,
                  joulesPerSamplePredicted: pt.joulesPerSample, joulesPerSampleMeasured: m.summary.joulesPerSample)
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
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodes, forKey: .nodes); try c.encode(tIterPredictedS, forKey: .tIterPredictedS)
        try c.encode(tIterMeasuredS, forKey: .tIterMeasuredS); try c.encode(tIterError, forKey: .tIterError)
        try c.encode(joulesPerSamplePredicted, forKey: .joulesPerSamplePredicted)
        try c.encode(joulesPerSampleMeasured, forKey: .joulesPerSampleMeasured)
        try c.encode(energyError, forKey: .energyError)
    }
}
