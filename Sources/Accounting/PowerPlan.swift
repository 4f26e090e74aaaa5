import RunFiles
import Collectives
import Energy
import Foundation

/// Where every rank's joules come from, decided once before the loop: this rank's sources
/// (node-wide counters on each physical machine's first rank only, estimates on every rank), the
/// job's topology, and the labels every record and the summary carry.
///
/// A machine is what the kernel says it is (machine id and boot id), not MPI's node: emulated
/// hosts (network namespaces), containers and several MPI nodes on one box share one machine, so
/// its counters are read once. A machine's node-wide joules are attributed to its ranks, and so
/// to its MPI nodes, in proportion to each rank's CPU time in the iteration.
package struct PowerPlan {
    package let selection: SourceSelection
    /// Each rank's MPI node (an emulated host counts as one) and how many ranks share it.
    package let nodeOf: [Int]
    package let localSizeOf: [Int]
    /// Each rank's physical machine (numbered in order of each machine's lowest rank), and each
    /// machine's identity as its first rank saw it.
    package let machineOf: [Int]
    package let machines: [MachineIdentity]
    /// How a machine's shared reading is split among its MPI nodes, as stated in the summary.
    package static let attribution = "node-wide counters are read once per physical machine (machine id + boot id) by its first rank; "
        + "a machine's joules go to its ranks, and so to its MPI nodes, in proportion to each rank's CPU time in the iteration"
    /// Per node: "rapl", "estimate", "rapl+nvml", …
    package let nodeSources: [String]
    /// Per machine: the sources of its nodes, as `nodeSources` labels them.
    package var machineSourceLabels: [String] {
        machines.indices.map { m in Array(Set(ranks(onMachine: m).map { nodeSources[nodeOf[$0]] })).sorted().joined(separator: "|") }
    }
    /// "estimate", or the distinct sources of the nodes joined by "|": the label every record carries.
    package let sourceLabel: String
    /// This rank's sources as "kind,domain", and every rank's (the columns of power.csv).
    package let sourceNames: [String]
    package let allSourceNames: [[String]]
    /// Every source's update interval in seconds, by "kind,domain", where it has one.
    package let updateIntervals: [String: Double]

    /// A source asked for by name that a node lacks stops every rank with the reason.
    package init(config: TrainConfig, comm: Communicator, machineSources: [any PowerSource]? = nil, identity: MachineIdentity = .current()) throws {
        let identities = try Self.allGather(
            [identity.machineID, identity.bootID, identity.hostname].joined(separator: "\n"), comm).map { text in
            let f = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            return MachineIdentity(machineID: f[0], bootID: f[1], hostname: f[2])
        }
        var firstRank: [String: Int] = [:], machines: [MachineIdentity] = []
        machineOf = identities.enumerated().map { r, id in
            if let m = firstRank[id.key] { return m }
            firstRank[id.key] = machines.count
            machines.append(id)
            return machines.count - 1
        }
        self.machines = machines
        let myMachine = machineOf[comm.rank]
        let ranksOnMachine = machineOf.filter { $0 == myMachine }.count
        let readsMachineCounters = machineOf.firstIndex(of: myMachine) == comm.rank
        selection = try comm.collectively {
            if let machineSources {
                return SourceSelection(sources: readsMachineCounters ? machineSources : [],
                                       kinds: Array(Set(machineSources.map(\.kind))).sorted(), notes: [])
            }
            return try SourceSelection.choose(config.powerSource, roots: SourceRoots(powercap: config.powercapRoot, hwmon: config.hwmonRoot),
                                       includeDRAM: config.includeDRAM, estimate: config.estimate,
                                       ranksOnMachine: ranksOnMachine, readsMachineCounters: readsMachineCounters)
        }
        let topology = try comm.allGather([Int64(comm.node), Int64(comm.localSize)])
        nodeOf = (0..<comm.size).map { Int(topology[2 * $0]) }
        localSizeOf = (0..<comm.size).map { Int(topology[2 * $0 + 1]) }
        let labels = try Self.allGather(selection.label, comm)
        var nodeSources = [String](repeating: "none", count: comm.nodeCount)
        for r in 0..<comm.size { nodeSources[nodeOf[r]] = labels[r] }
        self.nodeSources = nodeSources
        sourceLabel = Array(Set(nodeSources)).sorted().joined(separator: "|")
        sourceNames = selection.sources.map { "\($0.kind.rawValue),\($0.domain)" }
        allSourceNames = try Self.allGather(sourceNames.joined(separator: "\n"), comm)
            .map { $0.split(separator: "\n").map(String.init) }
        let intervals = zip(sourceNames, selection.sources).compactMap { name, source in source.updateInterval.map { "\(name)=\($0)" } }
        updateIntervals = try Self.allGather(intervals.joined(separator: "\n"), comm).reduce(into: [:]) { all, text in
            for line in text.split(separator: "\n") {
                let f = line.split(separator: "=")
                if f.count == 2, let s = Double(f[1]) { all[String(f[0])] = s }
            }
        }
    }

    /// Notes on sources that could not be used, once each.
    package var notes: [String] { Array(Set(selection.notes)).sorted() }

    /// The estimate's parameters, where any node's joules are modelled.
    package func estimate(_ config: TrainConfig) -> EstimateModel? {
        selection.kinds.contains(.estimate) || nodeSources.contains { $0.contains("estimate") } ? config.estimate : nil
    }

    /// This rank's sampler, on the run's aligned clock.
    package func makeSampler(hz: Double, epoch: Double) -> PowerSampler {
        PowerSampler(sources: selection.sources, hz: hz, epoch: epoch)
    }

    /// Ranks on machine `m`.
    package func ranks(onMachine m: Int) -> [Int] { machineOf.indices.filter { machineOf[$0] == m } }

    /// Whether rank r's source j is read by the machine for everyone (counters) or measures the rank alone (estimate).
    package func isMachineWide(rank r: Int, source j: Int) -> Bool { !allSourceNames[r][j].hasPrefix(SourceKind.estimate.rawValue + ",") }

    /// Machines whose CPU power is modelled, not measured.
    package func cpuEstimated(machine m: Int) -> Bool {
        ranks(onMachine: m).contains { r in allSourceNames[r].contains { $0.hasPrefix(SourceKind.estimate.rawValue + ",") } }
    }

    /// Every rank's failed reads, one line per source that had any.
    package func failedReads(_ sampler: PowerSampler, _ comm: Communicator) throws -> [String] {
        let mine = sampler.failures.enumerated().filter { $0.element.count > 0 }
            .map { "\(sourceNames[$0.offset]): \($0.element.count) failed reads (\($0.element.message ?? ""))" }
        return try Self.allGather(mine.joined(separator: "\n"), comm).filter { !$0.isEmpty }
    }

    package static func allGather(_ text: String, _ comm: Communicator) throws -> [String] {
        try comm.allGatherBytes(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }
}
