import Foundation
import Collectives
import Datasets
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
    /// A text file, or a directory of them, read as bytes (the language model's data).
    case text(String)

    public static let fashionMNIST = DataSpec.directory("/usr/share/datasets/fashion-mnist")

    /// Parses `--data`: a directory, or `synthetic` / `synthetic:SAMPLES:FEATURES:CLASSES`.
    public static func parse(_ text: String) throws -> DataSpec {
        if text.hasPrefix("text:") { return .text(String(text.dropFirst(5))) }
        if text == "synthetic" { return .synthetic(samples: 60000, features: 784, classes: 10) }
        if text.hasPrefix("synthetic:") {
            let parts = text.dropFirst(10).split(separator: ":").map { Int($0) }
            guard parts.count == 3, let s = parts[0], let f = parts[1], let c = parts[2], s > 0, f > 0, c >= 2 else {
                throw RunError.configuration("--data synthetic:SAMPLES:FEATURES:CLASSES needs three positive integers (classes ≥ 2), got '\(text)'")
            }
            return .synthetic(samples: s, features: f, classes: c)
        }
        return .directory(text)
    }

    public var isText: Bool { if case .text = self { true } else { false } }

    public var description: String {
        switch self {
        case let .directory(d): return d
        case let .files(a, b, c, d): return [a, b, c, d].joined(separator: ",")
        case let .synthetic(s, f, c): return "synthetic:\(s):\(f):\(c)"
        case let .text(path): return "text:" + path
        }
    }
}

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

extension TrainConfig: Codable {
    package enum CodingKeys: String, CodingKey {
        case model, gptLayers = "gpt_layers", gptChannels = "gpt_channels", gptHeads = "gpt_heads", context
        case lrMinFactor = "lr_min_factor", gradClip = "grad_clip", evalWindows = "eval_windows", evalEvery = "eval_every"
        case layers, batchSize = "batch_size", epochs, steps, optimizer, lr, momentum, weightDecay = "weight_decay"
        case schedule, warmupSteps = "warmup_steps", seed, evalBatch = "eval_batch", data, out
        case flushEvery = "flush_every", checkpointEvery = "checkpoint_every", resume, verifyEvery = "verify_every"
        case onNonfinite = "on_nonfinite", stallSeconds = "stall_seconds", algorithm, segmentBytes = "segment_bytes"
        case smallMessageBytes = "small_message_bytes", largeMessageBytes = "large_message_bytes"
        case bucketBytes = "bucket_bytes", overlap, wire = "wire_dtype", powerSource = "power_source"
        case sampleHz = "sample_hz", idleSeconds = "idle_seconds", dram, estimateCoreWatts = "estimate_watts_per_busy_core"
        case estimateIdleWatts = "estimate_node_idle_watts", pue, networkJoulesPerByte = "network_joules_per_byte"
        case carbon = "carbon_g_per_kwh", price = "price_per_kwh", energyBudget = "energy_budget_j"
        case powercapRoot = "powercap_root", hwmonRoot = "hwmon_root"
    }

    /// Absent keys keep this type's defaults, so configurations written before a field existed still read.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.model, &model); try read(.gptLayers, &gpt.layers); try read(.gptChannels, &gpt.channels)
        try read(.gptHeads, &gpt.heads); try read(.context, &gpt.context)
        try read(.lrMinFactor, &lrMinFactor); try read(.gradClip, &gradClip); try read(.evalWindows, &evalWindows); try read(.evalEvery, &evalEvery)
        try read(.layers, &layers); try read(.batchSize, &batchSize); try read(.epochs, &epochs)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps)
        try read(.optimizer, &optimizer); try read(.lr, &learningRate); try read(.momentum, &momentum)
        try read(.weightDecay, &weightDecay); try read(.schedule, &schedule); try read(.warmupSteps, &warmupSteps)
        if let s = try c.decodeIfPresent(Int.self, forKey: .seed) { seed = UInt64(truncatingIfNeeded: s) }
        try read(.evalBatch, &evalBatch)
        if let d = try c.decodeIfPresent(String.self, forKey: .data) { data = try DataSpec.parse(d) }
        try read(.out, &out); try read(.flushEvery, &flushEvery)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery)
        resume = try c.decodeIfPresent(String.self, forKey: .resume)
        try read(.verifyEvery, &verifyEvery); try read(.onNonfinite, &onNonfinite); try read(.stallSeconds, &stallSeconds)
        try read(.algorithm, &algorithm); try read(.segmentBytes, &segmentBytes)
        try read(.smallMessageBytes, &smallMessageBytes); try read(.largeMessageBytes, &largeMessageBytes)
        bucketBytes = try c.decodeIfPresent(AutoOr<Int>.self, forKey: .bucketBytes)?.value
        overlap = try c.decodeIfPresent(AutoOr<Bool>.self, forKey: .overlap)?.value
        try read(.wire, &wire); try read(.powerSource, &powerSource); try read(.sampleHz, &sampleHz); try read(.idleSeconds, &idleSeconds); try read(.dram, &includeDRAM)
        try read(.estimateCoreWatts, &estimate.wattsPerBusyCore); try read(.estimateIdleWatts, &estimate.nodeIdleWatts)
        try read(.pue, &accounting.pue); try read(.networkJoulesPerByte, &accounting.networkJoulesPerByte)
        try read(.carbon, &accounting.carbonGramsPerKWh)
        accounting.pricePerKWh = try c.decodeIfPresent(Double.self, forKey: .price)
        energyBudgetJoules = try c.decodeIfPresent(Double.self, forKey: .energyBudget)
        try read(.powercapRoot, &powercapRoot); try read(.hwmonRoot, &hwmonRoot)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model); try c.encode(gpt.layers, forKey: .gptLayers)
        try c.encode(gpt.channels, forKey: .gptChannels); try c.encode(gpt.heads, forKey: .gptHeads)
        try c.encode(gpt.context, forKey: .context); try c.encode(lrMinFactor, forKey: .lrMinFactor)
        try c.encode(gradClip, forKey: .gradClip); try c.encode(evalWindows, forKey: .evalWindows)
        try c.encode(evalEvery, forKey: .evalEvery)
        try c.encode(layers, forKey: .layers); try c.encode(batchSize, forKey: .batchSize); try c.encode(epochs, forKey: .epochs)
        try c.encode(steps, forKey: .steps); try c.encode(optimizer, forKey: .optimizer); try c.encode(learningRate, forKey: .lr)
        try c.encode(momentum, forKey: .momentum); try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(schedule, forKey: .schedule); try c.encode(warmupSteps, forKey: .warmupSteps)
        try c.encode(Int(truncatingIfNeeded: seed), forKey: .seed); try c.encode(evalBatch, forKey: .evalBatch)
        try c.encode(data.description, forKey: .data); try c.encode(out, forKey: .out); try c.encode(flushEvery, forKey: .flushEvery)
        try c.encode(checkpointEvery, forKey: .checkpointEvery); try c.encode(resume, forKey: .resume)
        try c.encode(verifyEvery, forKey: .verifyEvery); try c.encode(onNonfinite, forKey: .onNonfinite)
        try c.encode(stallSeconds, forKey: .stallSeconds); try c.encode(algorithm, forKey: .algorithm)
        try c.encode(segmentBytes, forKey: .segmentBytes); try c.encode(smallMessageBytes, forKey: .smallMessageBytes)
        try c.encode(largeMessageBytes, forKey: .largeMessageBytes)
        try c.encode(AutoOr(bucketBytes), forKey: .bucketBytes); try c.encode(AutoOr(overlap), forKey: .overlap)
        try c.encode(wire, forKey: .wire); try c.encode(powerSource, forKey: .powerSource); try c.encode(sampleHz, forKey: .sampleHz)
        try c.encode(idleSeconds, forKey: .idleSeconds)
        try c.encode(includeDRAM, forKey: .dram); try c.encode(estimate.wattsPerBusyCore, forKey: .estimateCoreWatts)
        try c.encode(estimate.nodeIdleWatts, forKey: .estimateIdleWatts); try c.encode(accounting.pue, forKey: .pue)
        try c.encode(accounting.networkJoulesPerByte, forKey: .networkJoulesPerByte)
        try c.encode(accounting.carbonGramsPerKWh, forKey: .carbon); try c.encode(accounting.pricePerKWh, forKey: .price)
        try c.encode(energyBudgetJoules, forKey: .energyBudget)
        // Fixture roots only: the real ones are the same on every machine and say nothing.
        let defaults = TrainConfig()
        if powercapRoot != defaults.powercapRoot { try c.encode(powercapRoot, forKey: .powercapRoot) }
        if hwmonRoot != defaults.hwmonRoot { try c.encode(hwmonRoot, forKey: .hwmonRoot) }
    }
}

/// A setting that is a value or "auto" in run files.
package struct AutoOr<T: Codable>: Codable {
    package var value: T?
    package init(_ value: T?) { self.value = value }
    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        value = (try? c.decode(String.self)) == "auto" ? nil : try c.decode(T.self)
    }
    package func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encode("auto") }
    }
}
