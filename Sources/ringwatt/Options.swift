import ArgumentParser
import Collectives
import Foundation
import Energy
import Model
import RunFiles
import Trainer

extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension AllReduceAlgorithm: ExpressibleByArgument {}
extension SourcePreference: ExpressibleByArgument {}
extension NonfinitePolicy: ExpressibleByArgument {}
extension WireFormat: ExpressibleByArgument {}

/// Every default below is the configuration type's own: one place states them. Options whose
/// default depends on the workload are optional here and name both defaults in their help.
private let defaults = TrainConfig()
private let gptDefaults = TrainConfig.defaults(for: .gpt)
private func perModel<T>(_ path: KeyPath<TrainConfig, T>) -> String {
    "\(defaults[keyPath: path]) for mlp, \(gptDefaults[keyPath: path]) for gpt"
}

extension ModelKind: ExpressibleByArgument {}

/// GPT sizes with a name.
enum GPTSize: String, ExpressibleByArgument, CaseIterable {
    case standard, small, tiny
    var shape: GPTShape {
        switch self {
        case .standard: .standard
        case .small: .small
        case .tiny: .tiny
        }
    }
}

struct ModelOptions: ParsableArguments {
    @Option(help: "Workload: mlp (the classifier on images) or gpt (the byte-level language model on text).")
    var model = defaults.model
    @Option(help: "MLP layer widths, input to output, joined by '-' (default: \(defaults.layers.map(String.init).joined(separator: "-"))).")
    var layers: String?
    @Option(help: "GPT size: standard (L 4, C 256, H 4, T 128, 3.26 M parameters, the default), small (L 6, C 384, H 6, T 256, 10.8 M) or tiny (L 2, C 32, H 4, T 16); the four options below override it.")
    var size: GPTSize?
    @Option(name: .customLong("n-layer"), help: "GPT blocks L.")
    var nLayer: Int?
    @Option(name: .customLong("n-embd"), help: "GPT channels C (a multiple of the heads).")
    var nEmbd: Int?
    @Option(name: .customLong("n-head"), help: "GPT attention heads H.")
    var nHead: Int?
    @Option(help: "GPT context T in bytes (tokens).")
    var context: Int?
    @Option(help: "Samples (mlp) or sequences of T bytes (gpt) per rank per step; the global batch is this × ranks (default: \(perModel(\.batchSize))).")
    var batchSize: Int?
    @Option(help: "Epochs to train (also the learning-rate schedule's length); a gpt epoch is a pass over the training text's bytes.")
    var epochs = defaults.epochs
    @Option(help: "Stop after this many steps in all (overrides --epochs for the schedule's length).")
    var steps: Int?
    @Option(help: "Optimizer: sgd, adam or adamw (default: \(perModel(\.optimizer.rawValue))).")
    var optimizer: OptimizerKind?
    @Option(help: "Base (peak) learning rate (default: \(perModel(\.learningRate))).")
    var lr: Float?
    @Option(help: "SGD momentum (default: \(defaults.momentum); sgd only).")
    var momentum: Float?
    @Option(help: "Weight decay: L2 added to the gradient (sgd, adam), decoupled on the matrices (adamw) (default: \(perModel(\.weightDecay))).")
    var weightDecay: Float?
    @Option(help: "Learning-rate schedule: cosine (linear warm-up, then cosine decay) or constant.")
    var schedule = defaults.schedule
    @Option(help: "Warm-up steps of the schedule.")
    var warmupSteps = defaults.warmupSteps
    @Option(help: "The cosine schedule ends at this fraction of the base rate (default: \(perModel(\.lrMinFactor))).")
    var lrMinFactor: Float?
    @Option(help: "Clip the averaged gradient to this global L2 norm, 0 for none (default: \(perModel(\.gradClip))).")
    var gradClip: Double?
    @Option(help: "Seed for initialisation and data order.")
    var seed: UInt64 = defaults.seed
    @Option(help: "Samples (mlp) or sequences (gpt) per evaluation batch (default: \(perModel(\.evalBatch))).")
    var evalBatch: Int?

    @Option(help: "GPT: validation windows of T+1 bytes, spread evenly over the validation text (default: \(defaults.evalWindows)).")
    var evalWindows: Int?

    @Option(help: "Evaluate also every N steps (0: at epoch ends only); energy and tokens to reach a target come from these points.")
    var evalEvery = defaults.evalEvery

    /// The configuration's model part: the workload's defaults, then what was given. An option
    /// that does not apply to the workload or the optimizer is refused, never silently dropped
    /// (and so never recorded as if it had applied).
    func apply(to c: inout TrainConfig) throws {
        let gptOnly = [("--size", size != nil), ("--n-layer", nLayer != nil), ("--n-embd", nEmbd != nil), ("--n-head", nHead != nil),
                       ("--context", context != nil), ("--eval-windows", evalWindows != nil)].filter(\.1).map(\.0)
        if model != .gpt, let first = gptOnly.first {
            throw ValidationError("\(first) applies to --model gpt; this run trains the MLP (drop it, or add --model gpt)")
        }
        if model == .gpt, layers != nil {
            throw ValidationError("--layers applies to --model mlp; the GPT's shape is --size or --n-layer/--n-embd/--n-head/--context")
        }
        if let layers { c.layers = try TrainConfig.parseLayers(layers) }
        if let size { c.gpt = size.shape }
        if let v = nLayer { c.gpt.layers = v }
        if let v = nEmbd { c.gpt.channels = v }
        if let v = nHead { c.gpt.heads = v }
        if let v = context { c.gpt.context = v }
        if let v = batchSize { c.batchSize = v }
        c.epochs = epochs
        c.steps = steps
        if let v = optimizer { c.optimizer = v }
        if let v = lr { c.learningRate = v }
        if let momentum {
            guard c.optimizer == .sgd else {
                throw ValidationError("--momentum applies to --optimizer sgd; \(c.optimizer.rawValue) keeps its own moment estimates (β1 0.9)")
            }
            c.momentum = momentum
        }
        if let v = weightDecay { c.weightDecay = v }
        c.schedule = schedule
        c.warmupSteps = warmupSteps
        if let v = lrMinFactor { c.lrMinFactor = v }
        if let v = gradClip { c.gradClip = v }
        c.seed = seed
        if let v = evalBatch { c.evalBatch = v }
        if let evalWindows { c.evalWindows = evalWindows }
        c.evalEvery = evalEvery
    }
}

struct DataOptions: ParsableArguments {
    @Option(help: "mlp: a directory with train-/t10k- IDX files (.gz or plain), or synthetic[:SAMPLES:FEATURES:CLASSES]; gpt: a text file or a directory of them (default: \(perModel(\.data.description))).")
    var data: String?
    @Option(help: "Run directory rank 0 writes (default: \(defaults.out)).")
    var out: String?
    @Flag(help: "Replace a previous run's files in --out.")
    var overwrite = false
    @Option(help: "Gather records to rank 0 and write them every N iterations (and at each epoch end).")
    var flushEvery = defaults.flushEvery
    @Flag(help: "Write DIR/timeline.json (Chrome trace events: phases, layers, buckets, power) for Perfetto.")
    var timeline = false
    @Flag(help: "Print nothing but errors and the final summary.")
    var quiet = false
    @Flag(help: "Print a progress line at every flush and debug notes.")
    var verbose = false
    @Option(help: "Without a terminal, print a progress line every N iterations.")
    var logEvery = ProgressOptions().logEvery
}

struct ReliabilityOptions: ParsableArguments {
    @Option(help: "Checkpoint every N iterations (checkpoints are also written at each epoch end).")
    var checkpointEvery: Int?
    @Option(help: "Continue the run in this directory from its checkpoint (same rank count and options).")
    var resume: String?
    @Flag(help: "With --resume: allow another global batch (per-rank batch × ranks) than the checkpoint's, e.g. on fewer ranks after losing a node; the data continue from the samples the epoch had used and the learning-rate schedule by samples seen.")
    var elastic = false
    @Option(help: ArgumentHelp("Why this --resume happens (the launchers say which rank died, where and how): recorded in restarts.jsonl, and the gap before it charged at the machines' idle power, as time they were held.", valueName: "text"))
    var restartReason: String?
    @Option(help: "Compare per-layer parameter checksums across ranks every N iterations (0: only at the end).")
    var verifyEvery = defaults.verifyEvery
    @Option(help: "On NaN/Inf in the averaged gradient: skip the step, or stop naming ranks and layers.")
    var onNonfinite = defaults.onNonfinite
    @Option(help: "Abort the job when a rank makes no progress for this many seconds (0: never).")
    var stallSeconds = defaults.stallSeconds
}

/// How our all-reduce runs: shared by `train` and `bench-allreduce`.
struct AllReduceOptions: ParsableArguments {
    @Option(help: "The ring's reduce-scatter sends each step's chunk in segments of this many bytes (two in flight).")
    var segmentBytes = defaults.segmentBytes
    @Option(help: "auto uses recursive doubling below this many bytes.")
    var smallMessageBytes = defaults.smallMessageBytes
    @Option(help: "auto uses halving-doubling (more than 2 ranks) below this many bytes, the ring above.")
    var largeMessageBytes = defaults.largeMessageBytes
    @Option(help: "Values on the wire: f32, or bf16/f16 (half the bytes, sums still in f32).")
    var wireDtype = defaults.wire
    @Option(help: "Wait for messages by spinning (0) or by testing and sleeping in between — N µs at first, then an eighth of the time waited, up to 1 ms — which leaves cores to the kernel's network processing and to compute when ranks share them (default from RINGWATT_COMM_WAIT_US; launch/emucluster.sh sets 50).")
    var commWaitUs = Int(ProcessInfo.processInfo.environment["RINGWATT_COMM_WAIT_US"] ?? "") ?? 0
    @Option(help: "With --comm-wait-us, test without sleeping for the first N µs of each wait: a message between running ranks arrives within that; auto: 200, and up to 1000 while waits are that short and move ≥ 250 bytes a µs, where the machine's ranks have a core each, else 0 (default from RINGWATT_COMM_SPIN_US, else auto; docs/scaling.md).")
    var commSpinUs = ProcessInfo.processInfo.environment["RINGWATT_COMM_SPIN_US"].flatMap { $0.isEmpty ? nil : $0 } ?? "auto"

    var commSpin: CommSpin { CommSpin(commSpinUs) ?? .auto }

    func validate() throws {
        guard segmentBytes >= 4 else { throw ValidationError("--segment-bytes must be at least 4, got \(segmentBytes)") }
        guard smallMessageBytes >= 0 && largeMessageBytes >= 0 else {
            throw ValidationError("--small-message-bytes and --large-message-bytes must be ≥ 0")
        }
        guard commWaitUs >= 0 && commWaitUs <= 1_000_000 else { throw ValidationError("--comm-wait-us must be 0…1000000") }
        guard CommSpin(commSpinUs) != nil else { throw ValidationError("--comm-spin-us must be auto or 0…1000000, got '\(commSpinUs)'") }
    }

    func options(algorithm: AllReduceAlgorithm, verifyLengths: Bool = true) -> AllReduce.Options {
        AllReduce.Options(algorithm: algorithm, segmentBytes: segmentBytes, smallMessageBytes: smallMessageBytes,
                          largeMessageBytes: largeMessageBytes, wire: wireDtype, verifyLengths: verifyLengths)
    }
}

/// How the gradient is communicated in training.
struct GradientOptions: ParsableArguments {
    @Option(help: "Gradient all-reduce: ring, recursive-doubling, halving-doubling, or auto (by size and rank count).")
    var algorithm = defaults.algorithm
    @Option(help: "Gradient bucket size in MB (10^6 bytes), from the last layer down; weight gradients are computed in row blocks of about this size (default: 0.1 when overlap is on by auto or set either way, else one bucket).")
    var bucketMb: Double?
    @Option(help: "Overlap each bucket's all-reduce with the rest of backward: on, off, or auto (on across nodes with a core per rank, or with a spare core per rank; off when every core computes).")
    var overlap = Switch.auto
    @OptionGroup var allReduce: AllReduceOptions
}

enum Switch: String, ExpressibleByArgument, CaseIterable {
    case auto, on, off
    var value: Bool? { self == .auto ? nil : self == .on }
}

/// Where power sources are looked for (tests point these at fixture trees).
struct SourceRootOptions: ParsableArguments {
    @Option(help: "powercap root (RAPL zones).")
    var powercapRoot = defaults.powercapRoot
    @Option(help: "hwmon root.")
    var hwmonRoot = defaults.hwmonRoot
    @Flag(help: "Add RAPL dram zones to the package zones.")
    var dram = false
}

struct EnergyOptions: ParsableArguments {
    @Option(help: "Power source per node: auto (the best available, else the labelled estimate), rapl, hwmon or nvml (an error where absent), estimate, or none.")
    var powerSource = defaults.powerSource
    @Option(help: "Power samples per second per rank.")
    var sampleHz = defaults.sampleHz
    @Option(help: "Seconds to read every machine's power with all ranks asleep before training, for the idle baseline (0: skip; skipped anyway where the CPU's power is estimated).")
    var idleSeconds = defaults.idleSeconds
    @OptionGroup var roots: SourceRootOptions
    @Option(help: "Estimate: watts one busy core draws above idle.")
    var estimateCoreWatts = defaults.estimate.wattsPerBusyCore
    @Option(help: "Estimate: a machine's idle watts, shared by its ranks.")
    var estimateIdleWatts = defaults.estimate.nodeIdleWatts
    @Option(help: "Power usage effectiveness of the facility (E_aux = (PUE − 1)·E_IT).")
    var pue = defaults.accounting.pue
    @Option(help: "Network energy per byte moved, in joules (0: not counted).")
    var networkJoulesPerByte = defaults.accounting.networkJoulesPerByte
    @Option(help: "Grid carbon intensity, g CO2 per kWh.")
    var carbonGPerKwh = defaults.accounting.carbonGramsPerKWh
    @Option(help: "Electricity price per kWh (for the summary's cost).")
    var pricePerKwh: Double?
    @Option(help: "Stop cleanly once the cluster has used this many joules (checked at every flush).")
    var energyBudgetJ: Double?
    var estimate: EstimateModel { EstimateModel(wattsPerBusyCore: estimateCoreWatts, nodeIdleWatts: estimateIdleWatts) }
}

/// The workload a benchmark times one step of: the model and its shape, the batch.
struct StepOptions: ParsableArguments {
    @Option(help: "Model: mlp or gpt.") var model = ModelKind.mlp
    @Option(help: "MLP layer widths.") var layers = "784-256-128-10"
    @Option(help: "GPT size: standard, small or tiny.") var size = GPTSize.standard
    @Option(help: "Batch size: samples (mlp) or sequences of T tokens (gpt); defaults in the command's help.") var batchSize: Int?

    func validate() throws {
        guard (batchSize ?? 1) > 0 else { throw ValidationError("--batch-size must be positive") }
        let widths = try TrainConfig.parseLayers(layers)
        guard widths.count >= 2, widths.allSatisfy({ $0 > 0 }) else { throw ValidationError("--layers widths must be positive") }
    }

    /// The model's default configuration with these shapes and the batch (`mlp`/`gpt` if not given).
    func config(mlpBatch: Int, gptBatch: Int) throws -> TrainConfig {
        var config = TrainConfig.defaults(for: model)
        config.layers = try TrainConfig.parseLayers(layers)
        config.gpt = size.shape
        config.batchSize = batchSize ?? (model == .gpt ? gptBatch : mlpBatch)
        return config
    }

    /// The step's cblas_sgemm calls, as the model makes them.
    func gemm(_ config: TrainConfig) -> GEMMBenchmark {
        model == .gpt ? GEMMBenchmark(shape: config.gpt, batch: config.batchSize)
            : GEMMBenchmark(model: MLP(widths: config.layers, seed: 1), batch: config.batchSize)
    }
}
