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

struct ModelOptions: ParsableArguments {
    @Option(help: "Layer widths, input to output, joined by '-'.")
    var layers = "784-256-128-10"
    @Option(help: "Samples per rank per step (the global batch is this × ranks).")
    var batchSize = 64
    @Option(help: "Epochs to train (also the learning-rate schedule's length).")
    var epochs = 1
    @Option(help: "Stop after this many steps in all (overrides --epochs for the schedule's length).")
    var steps: Int?
    @Option(help: "Optimizer.")
    var optimizer = OptimizerKind.sgd
    @Option(help: "Base learning rate.")
    var lr: Float = 0.1
    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9
    @Option(help: "L2 weight decay (added to the gradient).")
    var weightDecay: Float = 5e-4
    @Option(help: "Learning-rate schedule: cosine (linear warm-up, then cosine decay to 0) or constant.")
    var schedule = ScheduleKind.cosine
    @Option(help: "Warm-up steps of the schedule.")
    var warmupSteps = 100
    @Option(help: "Seed for initialisation and shuffling.")
    var seed: UInt64 = 1
    @Option(help: "Samples per evaluation batch.")
    var evalBatch = 1000
}

struct DataOptions: ParsableArguments {
    @Option(help: "A directory with train-/t10k- IDX files (.gz or plain), or synthetic[:SAMPLES:FEATURES:CLASSES].")
    var data = "/usr/share/datasets/fashion-mnist"
    @Option(help: "Run directory rank 0 writes.")
    var out = "runs/latest"
    @Flag(help: "Replace a previous run's files in --out.")
    var overwrite = false
    @Option(help: "Gather records to rank 0 and write them every N iterations (and at each epoch end).")
    var flushEvery = 100
    @Flag(help: "Write DIR/timeline.json (Chrome trace events: phases, layers, buckets, power) for Perfetto.")
    var timeline = false
    @Flag(help: "Print nothing but errors and the final summary.")
    var quiet = false
    @Flag(help: "Print a progress line at every flush and debug notes.")
    var verbose = false
    @Option(help: "Without a terminal, print a progress line every N iterations.")
    var logEvery = 100
}

struct ReliabilityOptions: ParsableArguments {
    @Option(help: "Checkpoint every N iterations (checkpoints are also written at each epoch end).")
    var checkpointEvery: Int?
    @Option(help: "Continue the run in this directory from its checkpoint (same rank count and options).")
    var resume: String?
    @Option(help: "Compare per-layer parameter checksums across ranks every N iterations (0: only at the end).")
    var verifyEvery = 500
    @Option(help: "On NaN/Inf in the averaged gradient: skip the step, or stop naming ranks and layers.")
    var onNonfinite = NonfinitePolicy.stop
    @Option(help: "Abort the job when a rank makes no progress for this many seconds (0: never).")
    var stallSeconds = 120.0
}

struct CommOptions: ParsableArguments {
    @Option(help: "Gradient all-reduce: ring, recursive-doubling, halving-doubling, or auto (by size and rank count).")
    var algorithm = AllReduceAlgorithm.auto
    @Option(help: "Ring pipeline segment size in bytes.")
    var segmentBytes = 1 << 20
    @Option(help: "auto uses recursive doubling below this many bytes.")
    var smallMessageBytes = 16 << 10
    @Option(help: "auto uses halving-doubling (more than 2 ranks) below this many bytes, the ring above.")
    var largeMessageBytes = 512 << 10
    @Option(help: "Gradient bucket size in MB (10^6 bytes), from the last layer down; weight gradients are computed in row blocks of about this size (default: 0.1 when overlap is on by auto or set either way, else one bucket).")
    var bucketMb: Double?
    @Option(help: "Overlap each bucket's all-reduce with the rest of backward: on, off, or auto (on across nodes with a core per rank, or with a spare core per rank; off when every core computes).")
    var overlap = Switch.auto
    @Option(help: "Gradient values on the wire: f32, or bf16/f16 (half the bytes, sums still in f32).")
    var wireDtype = WireFormat.f32
    @Option(help: "Wait for messages by spinning (0) or by testing every N µs and sleeping in between, which leaves cores to the kernel's network processing when ranks share them (default from RINGWATT_COMM_WAIT_US; launch/emucluster.sh sets 50).")
    var commWaitUs = Int(ProcessInfo.processInfo.environment["RINGWATT_COMM_WAIT_US"] ?? "") ?? 0
}

enum Switch: String, ExpressibleByArgument, CaseIterable {
    case auto, on, off
    var value: Bool? { self == .auto ? nil : self == .on }
}

/// Where power sources are looked for (tests point these at fixture trees).
struct SourceRootOptions: ParsableArguments {
    @Option(help: "powercap root (RAPL zones).")
    var powercapRoot = "/sys/class/powercap"
    @Option(help: "hwmon root.")
    var hwmonRoot = "/sys/class/hwmon"
    @Flag(help: "Add RAPL dram zones to the package zones.")
    var dram = false
}

struct EnergyOptions: ParsableArguments {
    @Option(help: "Power source per node: auto, rapl, hwmon, nvml, estimate or none.")
    var powerSource = SourcePreference.auto
    @Option(help: "Power samples per second per rank.")
    var sampleHz = 50.0
    @OptionGroup var roots: SourceRootOptions
    @Option(help: "Estimate: watts one busy core draws above idle.")
    var estimateCoreWatts = 10.0
    @Option(help: "Estimate: a node's idle watts, shared by its ranks.")
    var estimateIdleWatts = 20.0
    @Option(help: "Power usage effectiveness of the facility (E_aux = (PUE − 1)·E_IT).")
    var pue = 1.0
    @Option(help: "Network energy per byte moved, in joules (0: not counted).")
    var networkJoulesPerByte = 0.0
    @Option(help: "Grid carbon intensity, g CO2 per kWh.")
    var carbonGPerKwh = 475.0
    @Option(help: "Electricity price per kWh (for the summary's cost).")
    var pricePerKwh: Double?
    @Option(help: "Stop cleanly once the cluster has used this many joules (checked at every flush).")
    var energyBudgetJ: Double?
    var estimate: EstimateModel { EstimateModel(wattsPerBusyCore: estimateCoreWatts, nodeIdleWatts: estimateIdleWatts) }
}
