import Foundation
import Model

/// How every run file is encoded and decoded: one encoder, one decoder, so a file is read by the
/// code that wrote it. Keys are sorted (the order is the same in every file and on every rank);
/// a non-finite number, which JSON cannot hold, is written as the string "nan", "inf" or "-inf".
public enum RunFileCoding {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// One JSON line (no newline).
    public static func line<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// A whole file: pretty, ending with a newline.
    public static func document<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder(pretty: true).encode(value), as: UTF8.self) + "\n"
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder().decode(type, from: Data(text.utf8))
    }
}

/// How a run ended (`status` in summary.json).
public enum RunStatus: String, Codable, Sendable {
    case complete
    /// SIGINT/SIGTERM: every rank stopped at the same iteration, with a checkpoint.
    case interrupted
    /// `--energy-budget-j` reached: a normal end.
    case energyBudget = "energy_budget"
    case failed

    /// Whether the command line exits with success.
    public var isSuccess: Bool { self == .complete || self == .energyBudget }
}

/// One line of iterations.jsonl: one iteration of the whole job, rank 0's account of every rank's record.
public struct IterationLine: Codable, Equatable, Sendable {
    public var iter: Int
    public var epoch: Int
    /// Mean over ranks of each rank's batch-mean loss (nil where it was not finite).
    public var loss: Double?
    public var lr: Double
    /// Mean over ranks: iterations tile each rank's training loop.
    public var seconds: Double
    public var computeS: Double
    /// Time inside the gradient all-reduce (with overlap, partly hidden behind backward).
    public var commS: Double
    /// Time the step waited for communication after backward.
    public var commExposedS: Double
    public var dataS: Double
    public var optimizerS: Double
    public var evalS: Double
    public var idleS: Double
    /// Bytes each rank sent in the all-reduce (max over ranks).
    public var commBytes: Int
    public var busbwGBps: Double
    public var samples: Int
    public var energyJ: Double
    public var energyComputeJ: Double
    public var energyCommJ: Double
    public var energyOtherJ: Double
    public var powerW: Double
    public var energySource: String
    public var rankEnergyJ: [Double]

    enum CodingKeys: String, CodingKey {
        case iter, epoch, loss, lr, seconds, computeS = "compute_s", commS = "comm_s", commExposedS = "comm_exposed_s"
        case dataS = "data_s", optimizerS = "optimizer_s", evalS = "eval_s", idleS = "idle_s", commBytes = "comm_bytes"
        case busbwGBps = "busbw_GBps", samples, energyJ = "energy_j", energyComputeJ = "energy_compute_j"
        case energyCommJ = "energy_comm_j", energyOtherJ = "energy_other_j", powerW = "power_w"
        case energySource = "energy_source", rankEnergyJ = "rank_energy_j"
    }

    /// Every line of an iterations.jsonl (an empty or missing file: none).
    public static func readAll(path: String) throws -> [IterationLine] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").enumerated().map { n, line in
            do { return try RunFileCoding.decode(IterationLine.self, String(line)) } catch {
                throw TrainerError.runDirectory("\(path) line \(n + 1) is not an iteration record: \(error)")
            }
        }
    }
}

/// What a run failed with, when it failed before its figures existed (`summary.json` of a failed run).
public struct FailedRun: Codable, Equatable, Sendable {
    public var status = RunStatus.failed
    public var error: String
    /// The checkpoint left in the run directory, or "none".
    public var checkpoint: String?
}

/// The facility-level account (`accounting` in summary.json): E = E_compute + E_transfer + E_storage + E_aux.
public struct AccountingSummary: Codable, Equatable, Sendable {
    public var model = "E = E_compute + E_transfer + E_storage + E_aux; E_aux = (PUE - 1) * E_IT; E_transfer = network_joules_per_byte * bytes moved by all ranks"
    public var eComputeJ: Double
    public var eTransferJ: Double
    public var eStorageJ: Double
    public var eAuxJ: Double
    public var eTotalJ: Double
    public var pue: Double
    public var networkJoulesPerByte: Double
    public var carbonGPerKwh: Double

    enum CodingKeys: String, CodingKey {
        case model, eComputeJ = "e_compute_j", eTransferJ = "e_transfer_j", eStorageJ = "e_storage_j", eAuxJ = "e_aux_j"
        case eTotalJ = "e_total_j", pue, networkJoulesPerByte = "network_joules_per_byte", carbonGPerKwh = "carbon_g_per_kwh"
    }
}

/// The estimate's formula and parameters (`estimate` in summary.json), present when any joule is modelled.
public struct EstimateSummary: Codable, Equatable, Sendable {
    public var formula: String
    public var wattsPerBusyCore: Double
    public var nodeIdleWatts: Double
    public var note = "no energy counter on this node: joules are modelled from CPU time, not measured"

    enum CodingKeys: String, CodingKey {
        case formula, wattsPerBusyCore = "watts_per_busy_core", nodeIdleWatts = "node_idle_watts", note
    }
}

/// summary.json of a run that trained (complete, interrupted, stopped by its budget, or failed late).
public struct RunSummary: Codable, Equatable, Sendable {
    public var status: RunStatus
    public var ranks: Int
    public var nodes: Int
    public var epochs: Int
    public var iterations: Int
    public var samples: Int
    /// The training loop's wall time: Σ over iterations of the ranks' mean iteration time.
    public var seconds: Double
    public var wallSeconds: Double
    /// `seconds` without data loading, evaluation and checkpoints.
    public var trainSeconds: Double
    public var samplesPerS: Double
    public var finalLoss: Double?
    /// Each epoch's evaluation, in the model's order (written as `test_<name>` and `test_<name>_per_epoch`).
    public var evaluations: [[Metric]] = []
    public var parameters: Int
    public var skippedSteps: Int
    public var parameterChecksum: String
    public var peakRssMib: Double
    public var secondsByPhase: [String: Double]
    public var commBytes: Double
    public var commS: Double
    public var commExposedS: Double
    public var commAlgorithm: String
    public var commBucketsBytes: [Int]
    public var commBucketAlgorithms: [String]
    public var overlap: Bool
    public var wireDtype: String
    public var busbwGBps: Double
    public var energyJ: Double
    public var energyKwh: Double
    public var energyComputeJ: Double
    public var energyCommJ: Double
    public var energyOtherJ: Double
    public var energyByPhaseJ: [String: Double]
    public var commEnergyShare: Double
    public var joulesPerSample: Double
    public var samplesPerJoule: Double
    public var meanPowerW: Double
    public var rankEnergyJ: [Double]
    public var energySource: String
    public var energySourceByNode: [String]
    public var accounting: AccountingSummary
    public var co2G: Double
    public var cost: Double?
    public var estimate: EstimateSummary?
    public var notes: [String]
    public var config: TrainConfig

    enum CodingKeys: String, CodingKey {
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
        case energySource = "energy_source", energySourceByNode = "energy_source_by_node", accounting, co2G = "co2_g"
        case cost, estimate, notes, config
    }

    /// `test_<name>` (the last epoch) and `test_<name>_per_epoch`, one pair per metric.
    struct MetricKey: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
    static let metricOrderKey = MetricKey(stringValue: "eval_metrics")

    /// The metrics' names in the model's order.
    public var metricNames: [String] { evaluations.first?.map(\.name) ?? [] }

    /// The last epoch's value of metric `name`.
    public func lastMetric(_ name: String) -> Double? { evaluations.last?.first { $0.name == name }?.value }
}

extension RunSummary {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(RunStatus.self, forKey: .status)
        ranks = try c.decode(Int.self, forKey: .ranks); nodes = try c.decode(Int.self, forKey: .nodes)
        epochs = try c.decode(Int.self, forKey: .epochs); iterations = try c.decode(Int.self, forKey: .iterations)
        samples = try c.decode(Int.self, forKey: .samples); seconds = try c.decode(Double.self, forKey: .seconds)
        wallSeconds = try c.decode(Double.self, forKey: .wallSeconds); trainSeconds = try c.decode(Double.self, forKey: .trainSeconds)
        samplesPerS = try c.decode(Double.self, forKey: .samplesPerS); finalLoss = try c.decodeIfPresent(Double.self, forKey: .finalLoss)
        parameters = try c.decode(Int.self, forKey: .parameters); skippedSteps = try c.decode(Int.self, forKey: .skippedSteps)
        parameterChecksum = try c.decode(String.self, forKey: .parameterChecksum)
        peakRssMib = try c.decode(Double.self, forKey: .peakRssMib)
        secondsByPhase = try c.decode([String: Double].self, forKey: .secondsByPhase)
        commBytes = try c.decode(Double.self, forKey: .commBytes); commS = try c.decode(Double.self, forKey: .commS)
        commExposedS = try c.decode(Double.self, forKey: .commExposedS)
        commAlgorithm = try c.decode(String.self, forKey: .commAlgorithm)
        commBucketsBytes = try c.decode([Int].self, forKey: .commBucketsBytes)
        commBucketAlgorithms = try c.decode([String].self, forKey: .commBucketAlgorithms)
        overlap = try c.decode(Bool.self, forKey: .overlap); wireDtype = try c.decode(String.self, forKey: .wireDtype)
        busbwGBps = try c.decode(Double.self, forKey: .busbwGBps); energyJ = try c.decode(Double.self, forKey: .energyJ)
        energyKwh = try c.decode(Double.self, forKey: .energyKwh)
        energyComputeJ = try c.decode(Double.self, forKey: .energyComputeJ)
        energyCommJ = try c.decode(Double.self, forKey: .energyCommJ); energyOtherJ = try c.decode(Double.self, forKey: .energyOtherJ)
        energyByPhaseJ = try c.decode([String: Double].self, forKey: .energyByPhaseJ)
        commEnergyShare = try c.decode(Double.self, forKey: .commEnergyShare)
        joulesPerSample = try c.decode(Double.self, forKey: .joulesPerSample)
        samplesPerJoule = try c.decode(Double.self, forKey: .samplesPerJoule)
        meanPowerW = try c.decode(Double.self, forKey: .meanPowerW); rankEnergyJ = try c.decode([Double].self, forKey: .rankEnergyJ)
        energySource = try c.decode(String.self, forKey: .energySource)
        energySourceByNode = try c.decode([String].self, forKey: .energySourceByNode)
        accounting = try c.decode(AccountingSummary.self, forKey: .accounting); co2G = try c.decode(Double.self, forKey: .co2G)
        cost = try c.decodeIfPresent(Double.self, forKey: .cost); estimate = try c.decodeIfPresent(EstimateSummary.self, forKey: .estimate)
        notes = try c.decode([String].self, forKey: .notes); config = try c.decode(TrainConfig.self, forKey: .config)

        let m = try decoder.container(keyedBy: MetricKey.self)
        let written = m.allKeys.map(\.stringValue).filter { $0.hasPrefix("test_") && $0.hasSuffix("_per_epoch") }
            .map { String($0.dropFirst(5).dropLast(10)) }
        // Files before `eval_metrics` existed held one metric; otherwise keep the model's order.
        let names = try m.decodeIfPresent([String].self, forKey: Self.metricOrderKey) ?? written.sorted()
        let series = try names.map { try m.decode([Double?].self, forKey: MetricKey(stringValue: "test_\($0)_per_epoch")) }
        let count = series.map(\.count).min() ?? 0
        evaluations = (0..<count).map { e in zip(names, series).map { Metric(name: $0, value: $1[e] ?? .nan) } }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status); try c.encode(ranks, forKey: .ranks); try c.encode(nodes, forKey: .nodes)
        try c.encode(epochs, forKey: .epochs); try c.encode(iterations, forKey: .iterations); try c.encode(samples, forKey: .samples)
        try c.encode(seconds, forKey: .seconds); try c.encode(wallSeconds, forKey: .wallSeconds)
        try c.encode(trainSeconds, forKey: .trainSeconds); try c.encode(samplesPerS, forKey: .samplesPerS)
        try c.encode(finalLoss, forKey: .finalLoss); try c.encode(parameters, forKey: .parameters)
        try c.encode(skippedSteps, forKey: .skippedSteps); try c.encode(parameterChecksum, forKey: .parameterChecksum)
        try c.encode(peakRssMib, forKey: .peakRssMib); try c.encode(secondsByPhase, forKey: .secondsByPhase)
        try c.encode(commBytes, forKey: .commBytes); try c.encode(commS, forKey: .commS)
        try c.encode(commExposedS, forKey: .commExposedS); try c.encode(commAlgorithm, forKey: .commAlgorithm)
        try c.encode(commBucketsBytes, forKey: .commBucketsBytes); try c.encode(commBucketAlgorithms, forKey: .commBucketAlgorithms)
        try c.encode(overlap, forKey: .overlap); try c.encode(wireDtype, forKey: .wireDtype); try c.encode(busbwGBps, forKey: .busbwGBps)
        try c.encode(energyJ, forKey: .energyJ); try c.encode(energyKwh, forKey: .energyKwh)
        try c.encode(energyComputeJ, forKey: .energyComputeJ); try c.encode(energyCommJ, forKey: .energyCommJ)
        try c.encode(energyOtherJ, forKey: .energyOtherJ); try c.encode(energyByPhaseJ, forKey: .energyByPhaseJ)
        try c.encode(commEnergyShare, forKey: .commEnergyShare); try c.encode(joulesPerSample, forKey: .joulesPerSample)
        try c.encode(samplesPerJoule, forKey: .samplesPerJoule); try c.encode(meanPowerW, forKey: .meanPowerW)
        try c.encode(rankEnergyJ, forKey: .rankEnergyJ); try c.encode(energySource, forKey: .energySource)
        try c.encode(energySourceByNode, forKey: .energySourceByNode); try c.encode(accounting, forKey: .accounting)
        try c.encode(co2G, forKey: .co2G); try c.encode(cost, forKey: .cost); try c.encodeIfPresent(estimate, forKey: .estimate)
        try c.encode(notes, forKey: .notes); try c.encode(config, forKey: .config)

        var m = encoder.container(keyedBy: MetricKey.self)
        let names = metricNames
        try m.encode(names, forKey: Self.metricOrderKey)
        for name in names {
            let series = evaluations.map { $0.first { $0.name == name }?.value }
            try m.encode(series.last ?? nil, forKey: MetricKey(stringValue: "test_\(name)"))
            try m.encode(series, forKey: MetricKey(stringValue: "test_\(name)_per_epoch"))
        }
    }
}

/// What summary.json holds: the figures of a run that trained, or what stopped one that could not.
public enum SummaryFile {
    case figures(RunSummary)
    case failed(FailedRun)

    /// Reads DIR/summary.json; errors name the directory and what is missing.
    public static func read(directory: String) throws -> SummaryFile {
        let path = directory + "/" + RunDirectory.summaryFile
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TrainerError.runDirectory("\(directory) holds no summary.json: not a run directory, or a run still in progress")
        }
        if let summary = try? RunFileCoding.decode(RunSummary.self, text) { return .figures(summary) }
        if let stub = try? RunFileCoding.decode(FailedRun.self, text) { return .failed(stub) }
        throw TrainerError.runDirectory("\(path) is not a Ringwatt summary (not JSON, or fields missing)")
    }
}
