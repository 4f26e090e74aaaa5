import Foundation
import Collectives
import Datasets
import Energy
import Model

/// Which workload `train` runs.
public enum ModelKind: String, CaseIterable, Sendable, Codable {
    /// The MLP classifier on labelled images (Fashion-MNIST by default).
    case mlp
    /// The byte-level GPT on a text corpus (Debian's fortunes by default).
    case gpt
}

/// What to do when the loss or the averaged gradient is NaN or infinite.
public enum NonfinitePolicy: String, CaseIterable, Sendable, Codable {
    /// Skip the update (counted in the summary as `skipped_steps`).
    case skip
    /// Stop, naming the ranks and layers; the last checkpoint stays.
    case stop
}

/// Everything a training run is configured by, and the one place its defaults are written (the
/// command line's options start from these). Every rank parses the same command line; the trainer
/// checks collectively that they agree. Written as the `config` object of summary.json and of the
/// checkpoint header (`Codable`, below), and read back by the same code.
public struct TrainConfig: Sendable, Equatable {
    // Model and optimisation
    public var model = ModelKind.mlp
    /// The MLP's widths, input to output.
    public var layers: [Int] = [784, 256, 128, 10]
    /// The GPT's size.
    public var gpt = GPTShape.standard
    public var batchSize = 64
    public var epochs = 1
    public var steps: Int? = nil
    public var optimizer = OptimizerKind.sgd
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var schedule = ScheduleKind.cosine
    public var warmupSteps = 100
    /// The cosine schedule ends at this fraction of the base rate.
    public var lrMinFactor: Float = 0
    /// Clip the averaged gradient to this global L2 norm (0: no clipping).
    public var gradClip = 0.0
    public var seed: UInt64 = 1
    public var evalBatch = 1000
    /// The language model's validation windows (spread evenly over the validation text).
    public var evalWindows = 256
    /// Evaluate also every this many steps (0: at epoch ends only).
    public var evalEvery = 0

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
    // The all-reduce's defaults are its own (AllReduce.Options), stated once there.
    public var algorithm = AllReduce.Options().algorithm
    public var segmentBytes = AllReduce.Options().segmentBytes
    public var smallMessageBytes = AllReduce.Options().smallMessageBytes
    public var largeMessageBytes = AllReduce.Options().largeMessageBytes
    /// Gradient buckets: at least this many bytes of the pieces backward finishes (row blocks of
    /// about this size), from the last layer down (nil: automatic — 100 kB when overlap is on by
    /// auto or chosen either way, else one bucket).
    public var bucketBytes: Int? = nil
    /// All-reduce buckets on a communication thread while backward goes on (nil: automatic — on
    /// across nodes with a core per rank, or with a spare core per rank; off when all cores compute).
    public var overlap: Bool? = nil
    /// Gradient values on the wire (sums stay Float32).
    public var wire = AllReduce.Options().wire

    // Energy
    public var powerSource = SourcePreference.auto
    public var sampleHz = 50.0
    /// Seconds every machine's sources are read with all ranks asleep before training (its idle
    /// power); 0 skips it. Not needed, so not taken, where every machine's CPU is estimated.
    public var idleSeconds = 3.0
    public var includeDRAM = false
    public var estimate = EstimateModel()
    public var accounting = EnergyAccounting()
    public var energyBudgetJoules: Double? = nil
    public var powercapRoot = "/sys/class/powercap"
    public var hwmonRoot = "/sys/class/hwmon"

    public init() {}

    /// Every default, for a model: the MLP's are this type's initial values; the GPT's are
    /// GPT-2-style training (AdamW β 0.9/0.95, decay 0.1, 3e-3 warming up over 100 steps then cosine
    /// to a tenth, clipping at norm 1) on Debian's fortunes, 8 sequences per rank.
    public static func defaults(for model: ModelKind) -> TrainConfig {
        var c = TrainConfig()
        c.model = model
        guard model == .gpt else { return c }
        c.batchSize = 8
        c.evalBatch = 8
        c.optimizer = .adamw
        c.learningRate = 3e-3
        c.weightDecay = 0.1
        c.lrMinFactor = 0.1
        c.gradClip = 1
        c.data = .text(TextCorpus.fortunes)
        return c
    }

    /// Checks every field that can be checked without the data. Messages name the flag.
    public func validate() throws {
        func need(_ ok: Bool, _ message: String) throws { if !ok { throw RunError.configuration(message) } }
        try need(gpt.layers > 0 && gpt.channels > 0 && gpt.heads > 0 && gpt.context > 0,
                 "--n-layer, --n-embd, --n-head and --context must be positive")
        try need(gpt.channels % gpt.heads == 0, "--n-embd (\(gpt.channels)) must be a multiple of --n-head (\(gpt.heads))")
        try need(lrMinFactor >= 0 && lrMinFactor <= 1, "--lr-min-factor must be in [0, 1], got \(lrMinFactor)")
        try need(gradClip >= 0 && gradClip.isFinite, "--grad-clip must be ≥ 0 (0: off), got \(gradClip)")
        try need(model != .gpt || data.isText, "--model gpt reads text: --data FILE|DIR (default \(TextCorpus.fortunes))")
        try need(model != .mlp || !data.isText, "--model mlp reads labelled images: --data DIR or synthetic[:…], not text")
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
        try need(evalWindows > 0, "--eval-windows must be positive, got \(evalWindows)")
        try need(evalEvery >= 0, "--eval-every must be ≥ 0 (0: at epoch ends only), got \(evalEvery)")
        try need(flushEvery > 0, "--flush-every must be positive, got \(flushEvery)")
        if let c = checkpointEvery { try need(c > 0, "--checkpoint-every must be positive, got \(c)") }
        try need(verifyEvery >= 0, "--verify-every must be ≥ 0, got \(verifyEvery)")
        try need(stallSeconds >= 0 && stallSeconds.isFinite, "--stall-seconds must be ≥ 0, got \(stallSeconds)")
        try need(segmentBytes >= 4, "--segment-bytes must be at least 4, got \(segmentBytes)")
        try need(smallMessageBytes >= 0 && largeMessageBytes >= 0, "--small-message-bytes and --large-message-bytes must be ≥ 0")
        if let b = bucketBytes { try need(b > 0, "--bucket-mb must be positive (leave it out for the automatic choice)") }
        try need(sampleHz > 0 && sampleHz <= 10_000, "--sample-hz must be in (0, 10000], got \(sampleHz)")
        try need(idleSeconds >= 0 && idleSeconds <= 600, "--idle-seconds must be in [0, 600], got \(idleSeconds)")
        try need(estimate.wattsPerBusyCore >= 0 && estimate.nodeIdleWatts >= 0, "estimate watts must be ≥ 0")
        try need(accounting.pue >= 1, "--pue must be ≥ 1, got \(accounting.pue)")
        try need(accounting.networkJoulesPerByte >= 0, "--network-joules-per-byte must be ≥ 0")
        try need(accounting.carbonGramsPerKWh >= 0, "--carbon-g-per-kwh must be ≥ 0")
        if let p = accounting.pricePerKWh { try need(p >= 0, "--price-per-kwh must be ≥ 0") }
        if let b = energyBudgetJoules { try need(b > 0, "--energy-budget-j must be positive, got \(b)") }
        try need(!out.isEmpty, "--out must name a directory")
        // Last: the sizes are positive by now; whether they fit one rank's machine at all.
        try MemoryEstimate(self).check(ranksOnMachine: 1)
    }

    /// Parses "784-256-128-10" (or commas).
    public static func parseLayers(_ text: String) throws -> [Int] {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == "," || $0 == "x" })
        let widths = parts.compactMap { Int($0) }
        guard !parts.isEmpty, widths.count == parts.count else {
            throw RunError.configuration("--layers expects widths joined by '-', e.g. 784-256-128-10, got '\(text)'")
        }
        return widths
    }

    /// Options that may differ between a run and its resumption (they do not change the maths).
    public static let resumableKeys: Set<String> = ["out", "resume", "flush_every", "checkpoint_every", "verify_every",
                                                    "stall_seconds", "sample_hz", "energy_budget_j", "overlap"]

    /// The keys whose values differ between two configurations (as written to run files).
    public func differingKeys(from other: TrainConfig) -> [String] {
        func object(_ c: TrainConfig) -> [String: NSObject] {
            let data = (try? RunFileCoding.encoder().encode(c)) ?? Data()
            return (try? JSONSerialization.jsonObject(with: data) as? [String: NSObject]) ?? [:]
        }
        let a = object(self), b = object(other)
        return Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }
    }
}
