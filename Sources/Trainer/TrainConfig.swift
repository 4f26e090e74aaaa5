import Collectives
import Energy
import Model

/// Where training data comes from.
public enum DataSpec: Sendable, Equatable {
    /// A directory holding train-/t10k- images and labels in IDX format (gzipped or not).
    case directory(String)
    /// Explicit IDX files.
    case files(trainImages: String, trainLabels: String, testImages: String, testLabels: String)
    /// Generated: `samples` training and `samples / 6` test samples.
    case synthetic(samples: Int, features: Int, classes: Int)

    public static let fashionMNIST = DataSpec.directory("/usr/share/datasets/fashion-mnist")

    /// Parses `--data`: a directory, or `synthetic` / `synthetic:SAMPLES:FEATURES:CLASSES`.
    public static func parse(_ text: String) throws -> DataSpec {
        if text == "synthetic" { return .synthetic(samples: 60000, features: 784, classes: 10) }
        if text.hasPrefix("synthetic:") {
            let parts = text.dropFirst(10).split(separator: ":").map { Int($0) }
            guard parts.count == 3, let s = parts[0], let f = parts[1], let c = parts[2], s > 0, f > 0, c >= 2 else {
                throw ConfigError.invalid("--data synthetic:SAMPLES:FEATURES:CLASSES needs three positive integers (classes ≥ 2), got '\(text)'")
            }
            return .synthetic(samples: s, features: f, classes: c)
        }
        return .directory(text)
    }

    public var description: String {
        switch self {
        case let .directory(d): return d
        case let .files(a, b, c, d): return [a, b, c, d].joined(separator: ",")
        case let .synthetic(s, f, c): return "synthetic:\(s):\(f):\(c)"
        }
    }
}

/// What to do when the loss or the averaged gradient is NaN or infinite.
public enum NonfinitePolicy: String, CaseIterable, Sendable {
    /// Skip the update (counted in the summary as `skipped_steps`).
    case skip
    /// Stop, naming the ranks and layers; the last checkpoint stays.
    case stop
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public static func invalid(_ message: String) -> ConfigError { ConfigError(description: message) }
}

/// Everything a training run is configured by. Every rank parses the same command line; the
/// trainer checks collectively that they agree (a hash of this struct's canonical JSON).
public struct TrainConfig: Sendable, Equatable {
    // Model and optimisation
    public var layers: [Int] = [784, 256, 128, 10]
    public var batchSize = 64
    public var epochs = 1
    public var steps: Int? = nil
    public var optimizer = OptimizerKind.sgd
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var schedule = ScheduleKind.cosine
    public var warmupSteps = 100
    public var seed: UInt64 = 1
    public var evalBatch = 1000

    // Data and output
    public var data = DataSpec.fashionMNIST
    public var out = "runs/latest"
    public var overwrite = false
    /// Rank 0 gathers records and writes files every this many iterations (and at each epoch end).
    public var flushEvery = 100

    // Reliability
    /// Checkpoint every this many iterations (and always at each epoch end); nil: epoch ends only.
    public var checkpointEvery: Int? = nil
    /// Continue the run in this directory from its checkpoint (`out` becomes this directory).
    public var resume: String? = nil
    /// Compare a parameter checksum across ranks every this many iterations (0: only at the end).
    public var verifyEvery = 500
    public var onNonfinite = NonfinitePolicy.stop
    /// A step or collective taking longer than this aborts the job (0: no watchdog).
    public var stallSeconds = 120.0

    // Communication
    public var algorithm = AllReduceAlgorithm.auto
    public var segmentBytes = 1 << 20
    public var smallMessageBytes = 16 << 10
    public var largeMessageBytes = 512 << 10
    /// Gradient buckets: at least this many bytes of the pieces backward finishes (row blocks of
    /// about this size), from the last layer down (nil: automatic — 100 kB when overlap is on by
    /// auto or chosen either way, else one bucket).
    public var bucketBytes: Int? = nil
    /// All-reduce buckets on a communication thread while backward goes on (nil: automatic — on
    /// across nodes with a core per rank, or with a spare core per rank; off when all cores compute).
    public var overlap: Bool? = nil
    /// Gradient values on the wire (sums stay Float32).
    public var wire = WireFormat.f32

    // Energy
    public var powerSource = SourcePreference.auto
    public var sampleHz = 50.0
    public var includeDRAM = false
    public var estimate = EstimateModel()
    public var accounting = EnergyAccounting()
    public var energyBudgetJoules: Double? = nil
    public var powercapRoot = "/sys/class/powercap"
    public var hwmonRoot = "/sys/class/hwmon"

    public init() {}

    /// Checks every field that can be checked without the data. Messages name the flag.
    public func validate() throws {
        func need(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError.invalid(message) } }
        try need(layers.count >= 2, "--layers needs at least an input and an output width, e.g. 784-256-128-10")
        try need(layers.allSatisfy { $0 > 0 }, "--layers widths must all be positive, got \(layers.map(String.init).joined(separator: "-"))")
        try need(batchSize > 0, "--batch-size must be positive, got \(batchSize)")
        try need(epochs > 0, "--epochs must be positive, got \(epochs)")
        if let steps { try need(steps > 0, "--steps must be positive, got \(steps)") }
        try need(learningRate > 0 && learningRate.isFinite, "--lr must be a positive number, got \(learningRate)")
        try need(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1), got \(momentum)")
        try need(weightDecay >= 0 && weightDecay.isFinite, "--weight-decay must be ≥ 0, got \(weightDecay)")
        try need(warmupSteps >= 0, "--warmup-steps must be ≥ 0, got \(warmupSteps)")
        try need(evalBatch > 0, "--eval-batch must be positive, got \(evalBatch)")
        try need(flushEvery > 0, "--flush-every must be positive, got \(flushEvery)")
        if let c = checkpointEvery { try need(c > 0, "--checkpoint-every must be positive, got \(c)") }
        try need(verifyEvery >= 0, "--verify-every must be ≥ 0, got \(verifyEvery)")
        try need(stallSeconds >= 0 && stallSeconds.isFinite, "--stall-seconds must be ≥ 0, got \(stallSeconds)")
        try need(segmentBytes >= 4, "--segment-bytes must be at least 4, got \(segmentBytes)")
        try need(smallMessageBytes >= 0 && largeMessageBytes >= 0, "--small-message-bytes and --large-message-bytes must be ≥ 0")
        if let b = bucketBytes { try need(b >= 0, "--bucket-mb must be ≥ 0") }
        try need(sampleHz > 0 && sampleHz <= 10_000, "--sample-hz must be in (0, 10000], got \(sampleHz)")
        try need(estimate.wattsPerBusyCore >= 0 && estimate.nodeIdleWatts >= 0, "estimate watts must be ≥ 0")
        try need(accounting.pue >= 1, "--pue must be ≥ 1, got \(accounting.pue)")
        try need(accounting.networkJoulesPerByte >= 0, "--network-joules-per-byte must be ≥ 0")
        try need(accounting.carbonGramsPerKWh >= 0, "--carbon-g-per-kwh must be ≥ 0")
        if let p = accounting.pricePerKWh { try need(p >= 0, "--price-per-kwh must be ≥ 0") }
        if let b = energyBudgetJoules { try need(b > 0, "--energy-budget-j must be positive, got \(b)") }
        try need(!out.isEmpty, "--out must name a directory")
    }

    /// Parses "784-256-128-10" (or commas).
    public static func parseLayers(_ text: String) throws -> [Int] {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "," || $0 == "x" })
        let widths = parts.compactMap { Int($0) }
        guard !parts.isEmpty, widths.count == parts.count else {
            throw ConfigError.invalid("--layers expects widths joined by '-', e.g. 784-256-128-10, got '\(text)'")
        }
        return widths
    }

    /// Options that may differ between a run and its resumption (they do not change the maths).
    public static let resumableKeys: Set<String> = ["out", "resume", "flush_every", "checkpoint_every", "verify_every",
                                                    "stall_seconds", "sample_hz", "energy_budget_j", "overlap"]

    /// The configuration as ordered JSON (the `config` object of summary.json).
    public var json: JSON {
        var pairs: [(String, JSON)] = [
            ("layers", .array(layers.map { .int($0) })),
            ("batch_size", .int(batchSize)),
            ("epochs", .int(epochs)),
            ("steps", steps.map { .int($0) } ?? .null),
            ("optimizer", .string(optimizer.rawValue)),
            ("lr", .float(learningRate)),
            ("momentum", .float(momentum)),
            ("weight_decay", .float(weightDecay)),
            ("schedule", .string(schedule.rawValue)),
            ("warmup_steps", .int(warmupSteps)),
            ("seed", .int(Int(truncatingIfNeeded: seed))),
            ("eval_batch", .int(evalBatch)),
            ("data", .string(data.description)),
            ("out", .string(out)),
            ("flush_every", .int(flushEvery)),
            ("checkpoint_every", checkpointEvery.map { .int($0) } ?? .null),
            ("resume", resume.map { .string($0) } ?? .null),
            ("verify_every", .int(verifyEvery)),
            ("on_nonfinite", .string(onNonfinite.rawValue)),
            ("stall_seconds", .number(stallSeconds)),
            ("algorithm", .string(algorithm.rawValue)),
            ("segment_bytes", .int(segmentBytes)),
            ("small_message_bytes", .int(smallMessageBytes)),
            ("large_message_bytes", .int(largeMessageBytes)),
            ("bucket_bytes", bucketBytes.map { .int($0) } ?? .string("auto")),
            ("overlap", overlap.map { .bool($0) } ?? .string("auto")),
            ("wire_dtype", .string(wire.rawValue)),
            ("power_source", .string(powerSource.rawValue)),
            ("sample_hz", .number(sampleHz)),
            ("dram", .bool(includeDRAM)),
            ("estimate_watts_per_busy_core", .number(estimate.wattsPerBusyCore)),
            ("estimate_node_idle_watts", .number(estimate.nodeIdleWatts)),
            ("pue", .number(accounting.pue)),
            ("network_joules_per_byte", .number(accounting.networkJoulesPerByte)),
            ("carbon_g_per_kwh", .number(accounting.carbonGramsPerKWh)),
            ("price_per_kwh", accounting.pricePerKWh.map { .number($0) } ?? .null),
            ("energy_budget_j", energyBudgetJoules.map { .number($0) } ?? .null),
        ]
        if powercapRoot != "/sys/class/powercap" { pairs.append(("powercap_root", .string(powercapRoot))) }
        if hwmonRoot != "/sys/class/hwmon" { pairs.append(("hwmon_root", .string(hwmonRoot))) }
        return .object(pairs)
    }
}
