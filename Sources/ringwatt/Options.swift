import ArgumentParser
import Collectives
import Foundation
import Energy
import Model
import Trainer

extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}
extension AllReduceAlgorithm: ExpressibleByArgument {}
extension SourcePreference: ExpressibleByArgument {}
extension NonfinitePolicy: ExpressibleByArgument {}
extension WireFormat: ExpressibleByArgument {}

/// Every default below is the configuration type's own: one place states them.
private let defaults = TrainConfig()

struct ModelOptions: ParsableArguments {
    @Option(help: "Layer widths, input to output, joined by '-'.")
    var layers = defaults.layers.map(String.init).joined(separator: "-")
    @Option(help: "Samples per rank per step (the global batch is this × ranks).")
    var batchSize = defaults.batchSize
    @Option(help: "Epochs to train (also the learning-rate schedule's length).")
    var epochs = defaults.epochs
    @Option(help: "Stop after this many steps in all (overrides --epochs for the schedule's length).")
    var steps: Int?
    @Option(help: "Optimizer.")
    var optimizer = defaults.optimizer
    @Option(help: "Base learning rate.")
    var lr: Float = defaults.learningRate
    @Option(help: "SGD momentum.")
    var momentum: Float = defaults.momentum
    @Option(help: "L2 weight decay (added to the gradient).")
    var weightDecay: Float = defaults.weightDecay
    @Option(help: "Learning-rate schedule: cosine (linear warm-up, then cosine decay to 0) or constant.")
    var schedule = defaults.schedule
    @Option(help: "Warm-up steps of the schedule.")
    var warmupSteps = defaults.warmupSteps
    @Option(help: "Seed for initialisation and shuffling.")
    var seed: UInt64 = defaults.seed
    @Option(help: "Samples per evaluation batch.")
    var evalBatch = defaults.evalBatch
}

struct DataOptions: ParsableArguments {
    @Option(help: "A directory with train-/t10k- IDX files (.gz or plain), or synthetic[:SAMPLES:FEATURES:CLASSES].")
    var data = defaults.data.description
    @Option(help: "Run directory rank 0 writes.")
    var out = defaults.out
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
    @Option(help: "Wait for messages by spinning (0) or by testing every N µs and sleeping in between, which leaves cores to the kernel's network processing when ranks share them (default from RINGWATT_COMM_WAIT_US; launch/emucluster.sh sets 50).")
    var commWaitUs = Int(ProcessInfo.processInfo.environment["RINGWATT_COMM_WAIT_US"] ?? "") ?? 0

    func validate() throws {
        guard segmentBytes >= 4 else { throw ValidationError("--segment-bytes must be at least 4, got \(segmentBytes)") }
        guard smallMessageBytes >= 0 && largeMessageBytes >= 0 else {
            throw ValidationError("--small-message-bytes and --large-message-bytes must be ≥ 0")
        }
        guard commWaitUs >= 0 && commWaitUs <= 1_000_000 else { throw ValidationError("--comm-wait-us must be 0…1000000") }
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
    @OptionGroup var roots: SourceRootOptions
    @Option(help: "Estimate: watts one busy core draws above idle.")
    var estimateCoreWatts = defaults.estimate.wattsPerBusyCore
    @Option(help: "Estimate: a node's idle watts, shared by its ranks.")
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
