import Energy
import Foundation
import Model

/// summary.json of a run that trained (complete, interrupted, stopped by its budget, or failed
/// late): the figures, whose names are the file's field names, and its evaluations, written as
/// `test_<metric>` (the last) and `test_<metric>_per_epoch` (each, at epoch ends and every
/// --eval-every steps) for each of the model's metrics, with `eval_metrics` naming them in the
/// model's order and `eval_steps` giving the step of each.
@dynamicMemberLookup
public struct RunSummary: Equatable, Sendable {
    public var figures: RunFigures
    public var evaluations: [Evaluation]

    public subscript<T>(dynamicMember path: KeyPath<RunFigures, T>) -> T { figures[keyPath: path] }

    /// The metrics' names in the model's order.
    public var metricNames: [String] { evaluations.first?.metrics.map(\.name) ?? [] }

    /// The last evaluation's value of metric `name`.
    public func lastMetric(_ name: String) -> Double? { evaluations.last?.value(name) }

    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(figures: RunFigures, evaluations: [Evaluation]) {
        self.figures = figures; self.evaluations = evaluations
    }

}

extension RunSummary: Codable {
    package struct MetricKey: CodingKey {
        package var stringValue: String
        package init(stringValue: String) { self.stringValue = stringValue }
        package var intValue: Int? { nil }
        package init?(intValue: Int) { nil }
    }
    package static let metricOrderKey = MetricKey(stringValue: "eval_metrics")
    package static let stepsKey = MetricKey(stringValue: "eval_steps")

    public init(from decoder: Decoder) throws {
        figures = try RunFigures(from: decoder)
        let m = try decoder.container(keyedBy: MetricKey.self)
        let written = m.allKeys.map(\.stringValue).filter { $0.hasPrefix("test_") && $0.hasSuffix("_per_epoch") }
            .map { String($0.dropFirst(5).dropLast(10)) }
        // Files from before `eval_metrics` held one metric; otherwise keep the model's order.
        let names = try m.decodeIfPresent([String].self, forKey: Self.metricOrderKey) ?? written.sorted()
        let series = try names.map { try m.decode([Double?].self, forKey: MetricKey(stringValue: "test_\($0)_per_epoch")) }
        let count = series.map(\.count).min() ?? 0
        // Files from before `eval_steps` evaluated at epoch ends only.
        let perEpoch = count > 0 ? figures.iterations / max(1, figures.epochs) : 0
        let steps = try m.decodeIfPresent([Int].self, forKey: Self.stepsKey) ?? (0..<count).map { ($0 + 1) * perEpoch }
        evaluations = (0..<count).map { e in
            Evaluation(step: e < steps.count ? steps[e] : 0, metrics: zip(names, series).map { Metric(name: $0, value: $1[e] ?? .nan) })
        }
    }

    public func encode(to encoder: Encoder) throws {
        try figures.encode(to: encoder)
        var m = encoder.container(keyedBy: MetricKey.self)
        try m.encode(metricNames, forKey: Self.metricOrderKey)
        try m.encode(evaluations.map(\.step), forKey: Self.stepsKey)
        for name in metricNames {
            let series = evaluations.map { $0.value(name) }
            try m.encode(series.last ?? nil, forKey: MetricKey(stringValue: "test_\(name)"))
            try m.encode(series, forKey: MetricKey(stringValue: "test_\(name)_per_epoch"))
        }
    }
}

/// The figures of summary.json (field names in `CodingKeys`). Absent optionals are left out.
public struct RunFigures: Codable, Equatable, Sendable {
    public var status: RunStatus
    public var ranks, nodes, epochs, iterations, samples: Int
    /// The training loop's wall time: Σ over iterations of the ranks' mean iteration time.
    public var seconds: Double
    public var wallSeconds: Double
    /// `seconds` without data loading, evaluation and checkpoints.
    public var trainSeconds: Double
    public var samplesPerS: Double
    /// The last flushed iteration's mean loss (absent where it was not finite).
    public var finalLoss: Double?
    public var parameters: Int
    public var skippedSteps: Int
    /// FNV-1a of the final parameters' bits, hexadecimal: equal checksums, identical weights.
    public var parameterChecksum: String
    public var peakRssMib: Double
    public var secondsByPhase: [String: Double]
    /// Bytes each rank sent in all-reduces, summed over iterations (max over ranks per iteration).
    public var commBytes: Double
    public var commS: Double
    public var commExposedS: Double
    public var commAlgorithm: String
    public var commBucketsBytes: [Int]
    public var commBucketAlgorithms: [String]
    public var overlap: Bool
    public var wireDtype: String
    public var busbwGBps: Double
    /// Joules: the cluster's, split by phase and into compute / comm / other.
    public var energyJ, energyKwh, energyComputeJ, energyCommJ, energyOtherJ: Double
    public var energyByPhaseJ: [String: Double]
    public var commEnergyShare: Double
    public var joulesPerSample: Double
    public var samplesPerJoule: Double
    public var meanPowerW: Double
    /// What `samples` counts: "sample" (the classifier) or "token" (the language model); absent
    /// in files from before, which counted samples.
    public var sampleUnit: String?
    /// J per sample (or token) split compute / comm / other.
    public var joulesPerSampleByCategory: [String: Double]?
    public var joulesPerParameter: Double?
    public var rankEnergyJ: [Double]
    /// Where every joule came from: the label, and per node.
    public var energySource: String
    public var energySourceByNode: [String]
    public var accounting: AccountingSummary
    public var co2G: Double
    /// At `--price-per-kwh` (absent without a price).
    public var cost: Double?
    /// The estimate's formula and parameters, where any joule is modelled.
    public var estimate: EstimateSummary?
    public var notes: [String]
    public var config: TrainConfig
    // How the energy figures are formed (absent in files from before).
    /// The machines' idle watts, summed; their product with the loop's time; the rest.
    public var idlePowerW: Double? = nil
    public var energyIdleJ: Double? = nil
    public var energyDynamicJ: Double? = nil
    public var energyDynamicByPhaseJ: [String: Double]? = nil
    /// Fitted power per phase for the cluster (Σ over machines), ± standard error.
    public var phasePowerW: [String: PhaseRegression.Estimate]? = nil
    public var machines: [MachineSummary]? = nil
    /// Per MPI node (emulated host): its ranks' joules.
    public var energyByNodeJ: [Double]? = nil
    public var energyAttribution: String? = nil
    /// Each energy figure and how it is formed: measured, apportioned, fitted or estimated.
    public var energyMethods: [String: String]? = nil
    public var energyResolution: EnergyResolution? = nil
    public var metadata: RunMetadata? = nil
    /// What the configuration needs per rank by `MemoryEstimate` (peak RSS adds the process's fixed cost).
    public var memoryEstimateMib: Double? = nil
    /// Samples (or tokens) one epoch of the training set holds over all ranks: what `predict` and
    /// `plan` scale epochs by (a run cut short by --steps does not see a whole one).
    public var samplesPerEpoch: Int? = nil
    /// The run's resumes and what they wasted (absent for a run never resumed).
    public var faults: FaultSummary? = nil

    package enum CodingKeys: String, CodingKey {
        case status, ranks, nodes, epochs, iterations, samples, seconds, wallSeconds = "wall_seconds"
        case trainSeconds = "train_seconds", samplesPerS = "samples_per_s", finalLoss = "final_loss", parameters
        case skippedSteps = "skipped_steps", parameterChecksum = "parameter_checksum", peakRssMib = "peak_rss_mib"
        case secondsByPhase = "seconds_by_phase", commBytes = "comm_bytes", commS = "comm_s", commExposedS = "comm_exposed_s"
        case commAlgorithm = "comm_algorithm", commBucketsBytes = "comm_buckets_bytes"
        case commBucketAlgorithms = "comm_bucket_algorithms", overlap, wireDtype = "wire_dtype", busbwGBps = "busbw_GBps"
        case energyJ = "energy_j", energyKwh = "energy_kwh", energyComputeJ = "energy_compute_j"
        case energyCommJ = "energy_comm_j", energyOtherJ = "energy_other_j", energyByPhaseJ = "energy_by_phase_j"
        case commEnergyShare = "comm_energy_share", joulesPerSample = "joules_per_sample"
        case samplesPerJoule = "samples_per_joule", meanPowerW = "mean_power_w", rankEnergyJ = "rank_energy_j"
        case sampleUnit = "sample_unit", joulesPerSampleByCategory = "joules_per_sample_by_category"
        case joulesPerParameter = "joules_per_parameter"
        case energySource = "energy_source", energySourceByNode = "energy_source_by_node", accounting, co2G = "co2_g"
        case cost, estimate, notes, config
        case idlePowerW = "idle_power_w", energyIdleJ = "energy_idle_j", energyDynamicJ = "energy_dynamic_j"
        case energyDynamicByPhaseJ = "energy_dynamic_by_phase_j", phasePowerW = "phase_power_w", machines
        case energyByNodeJ = "energy_by_node_j", energyAttribution = "energy_attribution", energyMethods = "energy_methods"
        case energyResolution = "energy_resolution", metadata, memoryEstimateMib = "memory_estimate_mib"
        case samplesPerEpoch = "samples_per_epoch", faults
    }

    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(status: RunStatus, ranks: Int, nodes: Int, epochs: Int, iterations: Int, samples: Int,
                 seconds: Double, wallSeconds: Double, trainSeconds: Double, samplesPerS: Double,
                 finalLoss: Double? = nil, parameters: Int, skippedSteps: Int, parameterChecksum: String,
                 peakRssMib: Double, secondsByPhase: [String: Double], commBytes: Double, commS: Double,
                 commExposedS: Double, commAlgorithm: String, commBucketsBytes: [Int], commBucketAlgorithms: [String],
                 overlap: Bool, wireDtype: String, busbwGBps: Double, energyJ: Double, energyKwh: Double,
                 energyComputeJ: Double, energyCommJ: Double, energyOtherJ: Double, energyByPhaseJ: [String: Double],
                 commEnergyShare: Double, joulesPerSample: Double, samplesPerJoule: Double, meanPowerW: Double,
                 sampleUnit: String? = nil, joulesPerSampleByCategory: [String: Double]? = nil,
                 joulesPerParameter: Double? = nil, rankEnergyJ: [Double], energySource: String,
                 energySourceByNode: [String], accounting: AccountingSummary, co2G: Double, cost: Double? = nil,
                 estimate: EstimateSummary? = nil, notes: [String], config: TrainConfig, idlePowerW: Double? = nil,
                 energyIdleJ: Double? = nil, energyDynamicJ: Double? = nil,
                 energyDynamicByPhaseJ: [String: Double]? = nil,
                 phasePowerW: [String: PhaseRegression.Estimate]? = nil, machines: [MachineSummary]? = nil,
                 energyByNodeJ: [Double]? = nil, energyAttribution: String? = nil,
                 energyMethods: [String: String]? = nil, energyResolution: EnergyResolution? = nil,
                 metadata: RunMetadata? = nil) {
        self.status = status; self.ranks = ranks; self.nodes = nodes; self.epochs = epochs;
        self.iterations = iterations; self.samples = samples; self.seconds = seconds; self.wallSeconds = wallSeconds;
        self.trainSeconds = trainSeconds; self.samplesPerS = samplesPerS; self.finalLoss = finalLoss;
        self.parameters = parameters; self.skippedSteps = skippedSteps; self.parameterChecksum = parameterChecksum;
        self.peakRssMib = peakRssMib; self.secondsByPhase = secondsByPhase; self.commBytes = commBytes;
        self.commS = commS; self.commExposedS = commExposedS; self.commAlgorithm = commAlgorithm;
        self.commBucketsBytes = commBucketsBytes; self.commBucketAlgorithms = commBucketAlgorithms;
        self.overlap = overlap; self.wireDtype = wireDtype; self.busbwGBps = busbwGBps; self.energyJ = energyJ;
        self.energyKwh = energyKwh; self.energyComputeJ = energyComputeJ; self.energyCommJ = energyCommJ;
        self.energyOtherJ = energyOtherJ; self.energyByPhaseJ = energyByPhaseJ; self.commEnergyShare = commEnergyShare;
        self.joulesPerSample = joulesPerSample; self.samplesPerJoule = samplesPerJoule; self.meanPowerW = meanPowerW;
        self.sampleUnit = sampleUnit; self.joulesPerSampleByCategory = joulesPerSampleByCategory;
        self.joulesPerParameter = joulesPerParameter; self.rankEnergyJ = rankEnergyJ; self.energySource = energySource;
        self.energySourceByNode = energySourceByNode; self.accounting = accounting; self.co2G = co2G; self.cost = cost;
        self.estimate = estimate; self.notes = notes; self.config = config; self.idlePowerW = idlePowerW;
        self.energyIdleJ = energyIdleJ; self.energyDynamicJ = energyDynamicJ;
        self.energyDynamicByPhaseJ = energyDynamicByPhaseJ; self.phasePowerW = phasePowerW; self.machines = machines;
        self.energyByNodeJ = energyByNodeJ; self.energyAttribution = energyAttribution;
        self.energyMethods = energyMethods; self.energyResolution = energyResolution; self.metadata = metadata
    }

}
