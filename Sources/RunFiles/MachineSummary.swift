import Energy
import Foundation

/// summary.json's account of one physical machine.
public struct MachineSummary: Codable, Equatable, Sendable {
    public var hostname: String
    public var machineID: String
    public var bootID: String
    public var ranks: [Int]
    /// The MPI nodes (emulated hosts) on it.
    public var nodes: [Int]
    public var energyJ: Double
    public var idlePowerW: Double?
    public var idleSource: String?
    public var energyIdleJ: Double?
    public var energyDynamicJ: Double?
    /// Fitted power while the machine's ranks are in each phase (compute, comm, other), ± standard error.
    public var phasePowerW: [String: PhaseRegression.Estimate]?
    public var fitIntervals: Int

    package enum CodingKeys: String, CodingKey {
        case hostname, machineID = "machine_id", bootID = "boot_id", ranks, nodes, energyJ = "energy_j"
        case idlePowerW = "idle_power_w", idleSource = "idle_source", energyIdleJ = "energy_idle_j"
        case energyDynamicJ = "energy_dynamic_j", phasePowerW = "phase_power_w", fitIntervals = "fit_intervals"
    }

    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(hostname: String, machineID: String, bootID: String, ranks: [Int], nodes: [Int], energyJ: Double,
                 idlePowerW: Double? = nil, idleSource: String? = nil, energyIdleJ: Double? = nil,
                 energyDynamicJ: Double? = nil, phasePowerW: [String: PhaseRegression.Estimate]? = nil,
                 fitIntervals: Int) {
        self.hostname = hostname; self.machineID = machineID; self.bootID = bootID; self.ranks = ranks;
        self.nodes = nodes; self.energyJ = energyJ; self.idlePowerW = idlePowerW; self.idleSource = idleSource;
        self.energyIdleJ = energyIdleJ; self.energyDynamicJ = energyDynamicJ; self.phasePowerW = phasePowerW;
        self.fitIntervals = fitIntervals
    }

}
