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
        try lines([value])[0]
    }

    /// One JSON line per value: what `encoder()` writes, through `JSONText` (a tenth of the cost).
    public static func lines<T: Encodable>(_ values: [T]) throws -> [String] {
        try JSONText.lines(values)
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
    /// SIGUSR1 (Slurm's warning before a time limit or preemption, `--signal=B:USR1@…`): every
    /// rank stopped at the same iteration with a checkpoint, to be resumed (a requeued job does it).
    case preempted
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
    /// The slowest rank's compute in the iteration: the step waits for it at the all-reduce, so
    /// compute_max_s − compute_s is the imbalance between ranks (absent in files from before).
    public var computeMaxS: Double? = nil
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
    /// energy_j / samples: J per sample, or per token for a language model (absent in files from before).
    public var joulesPerSample: Double?
    /// The machines' idle watts × the iteration's seconds, and the rest (absent without an idle baseline).
    public var energyIdleJ: Double? = nil
    public var energyDynamicJ: Double? = nil
    /// When the iteration began on the run's clock (mean over ranks; power.csv's t_s).
    public var startS: Double? = nil

    package enum CodingKeys: String, CodingKey {
        case iter, epoch, loss, lr, seconds, computeS = "compute_s", computeMaxS = "compute_max_s", commS = "comm_s", commExposedS = "comm_exposed_s"
        case dataS = "data_s", optimizerS = "optimizer_s", evalS = "eval_s", idleS = "idle_s", commBytes = "comm_bytes"
        case busbwGBps = "busbw_GBps", samples, energyJ = "energy_j", energyComputeJ = "energy_compute_j"
        case energyCommJ = "energy_comm_j", energyOtherJ = "energy_other_j", powerW = "power_w"
        case energySource = "energy_source", rankEnergyJ = "rank_energy_j", joulesPerSample = "joules_per_sample"
        case energyIdleJ = "energy_idle_j", energyDynamicJ = "energy_dynamic_j", startS = "start_s"
    }

    /// Every line of an iterations.jsonl (an empty or missing file: none).
    public static func readAll(path: String) throws -> [IterationLine] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").enumerated().map { n, line in
            do { return try RunFileCoding.decode(IterationLine.self, String(line)) } catch {
                throw RunError.runDirectory("\(path) line \(n + 1) is not an iteration record: \(error)")
            }
        }
    }

    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(iter: Int, epoch: Int, loss: Double? = nil, lr: Double, seconds: Double, computeS: Double,
                 commS: Double, commExposedS: Double, dataS: Double, optimizerS: Double, evalS: Double, idleS: Double,
                 commBytes: Int, busbwGBps: Double, samples: Int, energyJ: Double, energyComputeJ: Double,
                 energyCommJ: Double, energyOtherJ: Double, powerW: Double, energySource: String,
                 rankEnergyJ: [Double], joulesPerSample: Double? = nil, energyIdleJ: Double? = nil,
                 energyDynamicJ: Double? = nil, startS: Double? = nil, computeMaxS: Double? = nil) {
        self.iter = iter; self.epoch = epoch; self.loss = loss; self.lr = lr; self.seconds = seconds;
        self.computeS = computeS; self.commS = commS; self.commExposedS = commExposedS; self.dataS = dataS;
        self.optimizerS = optimizerS; self.evalS = evalS; self.idleS = idleS; self.commBytes = commBytes;
        self.busbwGBps = busbwGBps; self.samples = samples; self.energyJ = energyJ;
        self.energyComputeJ = energyComputeJ; self.energyCommJ = energyCommJ; self.energyOtherJ = energyOtherJ;
        self.powerW = powerW; self.energySource = energySource; self.rankEnergyJ = rankEnergyJ;
        self.joulesPerSample = joulesPerSample; self.energyIdleJ = energyIdleJ; self.energyDynamicJ = energyDynamicJ;
        self.startS = startS; self.computeMaxS = computeMaxS
    }

}

/// What a run failed with, when it failed before its figures existed (`summary.json` of a failed run).
public struct FailedRun: Codable, Equatable, Sendable {
    public var status = RunStatus.failed
    public var error: String
    /// The checkpoint left in the run directory, or "none".
    public var checkpoint: String?
    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(error: String, checkpoint: String? = nil) {
        self.error = error; self.checkpoint = checkpoint
    }

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

    package enum CodingKeys: String, CodingKey {
        case model, eComputeJ = "e_compute_j", eTransferJ = "e_transfer_j", eStorageJ = "e_storage_j", eAuxJ = "e_aux_j"
        case eTotalJ = "e_total_j", pue, networkJoulesPerByte = "network_joules_per_byte", carbonGPerKwh = "carbon_g_per_kwh"
    }

    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(eComputeJ: Double, eTransferJ: Double, eStorageJ: Double, eAuxJ: Double, eTotalJ: Double, pue: Double,
                 networkJoulesPerByte: Double, carbonGPerKwh: Double) {
        self.eComputeJ = eComputeJ; self.eTransferJ = eTransferJ; self.eStorageJ = eStorageJ; self.eAuxJ = eAuxJ;
        self.eTotalJ = eTotalJ; self.pue = pue; self.networkJoulesPerByte = networkJoulesPerByte;
        self.carbonGPerKwh = carbonGPerKwh
    }

}

/// The estimate's formula and parameters (`estimate` in summary.json), present when any joule is modelled.
public struct EstimateSummary: Codable, Equatable, Sendable {
    public var formula: String
    public var wattsPerBusyCore: Double
    public var nodeIdleWatts: Double
    public var note = "no energy counter on this node: joules are modelled from CPU time, not measured"

    package enum CodingKeys: String, CodingKey {
        case formula, wattsPerBusyCore = "watts_per_busy_core", nodeIdleWatts = "node_idle_watts", note
    }

    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(formula: String, wattsPerBusyCore: Double, nodeIdleWatts: Double) {
        self.formula = formula; self.wattsPerBusyCore = wattsPerBusyCore; self.nodeIdleWatts = nodeIdleWatts
    }

}

/// What summary.json holds: the figures of a run that trained, or what stopped one that could not.
public enum SummaryFile {
    case figures(RunSummary)
    case failed(FailedRun)

    /// Reads DIR/summary.json; errors name the directory and what is missing.
    public static func read(directory: String) throws -> SummaryFile {
        let path = directory + "/" + RunDirectory.summaryFile
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw RunError.runDirectory(errno == ENOENT
                ? "\(directory) holds no summary.json: not a run directory, or a run still in progress"
                : "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFREG, let data = FileManager.default.contents(atPath: path) else {
            throw RunError.runDirectory("cannot read \(path): not a regular, readable file")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw RunError.runDirectory("\(path) is not a Ringwatt summary: not text (binary or damaged)")
        }
        if let summary = try? RunFileCoding.decode(RunSummary.self, text) { return .figures(summary) }
        if let stub = try? RunFileCoding.decode(FailedRun.self, text) { return .failed(stub) }
        throw RunError.runDirectory("\(path) is not a Ringwatt summary (not JSON, or fields missing)")
    }
}
