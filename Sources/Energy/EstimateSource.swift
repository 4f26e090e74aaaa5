import Support

/// Parameters of the model-based estimate used where no counter exists (VMs, containers).
public struct EstimateModel: Sendable, Equatable, Codable {
    /// Watts one fully busy core draws above idle.
    public var wattsPerBusyCore: Double
    /// A machine's idle power in watts, shared equally among its ranks (on the emulated cluster, every emulated host's).
    public var nodeIdleWatts: Double

    public init(wattsPerBusyCore: Double = 10, nodeIdleWatts: Double = 20) {
        self.wattsPerBusyCore = wattsPerBusyCore
        self.nodeIdleWatts = nodeIdleWatts
    }

    public var formula: String {
        "E_rank = watts_per_busy_core × cpu_seconds + node_idle_watts / ranks_on_machine × wall_seconds"
    }

    /// Joules of one rank over a window with `cpuSeconds` of CPU time (all its threads) in
    /// `wallSeconds`, on a machine shared by `ranksOnMachine` ranks.
    public func joules(cpuSeconds: Double, wallSeconds: Double, ranksOnMachine: Int) -> Double {
        wattsPerBusyCore * cpuSeconds + nodeIdleWatts / Double(max(1, ranksOnMachine)) * wallSeconds
    }
}

/// The estimate as a per-process energy "counter": cumulative model joules since creation, from
/// this process's CPU time (getrusage, all threads) and the monotonic clock. Clocks are injectable
/// so tests can check the formula exactly.
public final class EstimateSource: PowerSource, @unchecked Sendable {
    public let kind = SourceKind.estimate
    public let scope = SourceScope.process
    public let domain = "process"
    public var origin: String { model.formula }
    public let updateInterval: Double? = nil
    public let model: EstimateModel
    public let ranksOnMachine: Int
    private let cpuClock: () -> Double
    private let wallClock: () -> Double
    private let cpu0: Double
    private let wall0: Double

    public init(model: EstimateModel, ranksOnMachine: Int,
                cpuClock: @escaping () -> Double = processCPUSeconds,
                wallClock: @escaping () -> Double = monotonicSeconds) {
        self.model = model
        self.ranksOnMachine = ranksOnMachine
        self.cpuClock = cpuClock
        self.wallClock = wallClock
        cpu0 = cpuClock()
        wall0 = wallClock()
    }

    public func read() throws -> PowerReading {
        .energy(joules: model.joules(cpuSeconds: cpuClock() - cpu0, wallSeconds: wallClock() - wall0,
                                     ranksOnMachine: ranksOnMachine))
    }
}
