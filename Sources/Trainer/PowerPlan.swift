import Collectives
import Energy
import Foundation

/// Where every rank's joules come from, decided once before the loop: this rank's sources
/// (node-wide counters on the node's first rank only, estimates on every rank), the job's
/// topology, and the labels every record and the summary carry.
struct PowerPlan {
    let selection: SourceSelection
    /// Each rank's node and how many ranks share it.
    let nodeOf: [Int]
    let localSizeOf: [Int]
    /// Per node: "rapl", "estimate", "rapl+nvml", …
    let nodeSources: [String]
    /// "estimate", or the distinct sources of the nodes joined by "|": the label every record carries.
    let sourceLabel: String
    /// This rank's sources as "kind,domain", and every rank's (the columns of power.csv).
    let sourceNames: [String]
    let allSourceNames: [[String]]

    /// A source asked for by name that a node lacks stops every rank with the reason.
    init(config: TrainConfig, comm: Communicator) throws {
        selection = try comm.collectively {
            try SourceSelection.choose(config.powerSource, roots: SourceRoots(powercap: config.powercapRoot, hwmon: config.hwmonRoot),
                                       includeDRAM: config.includeDRAM, estimate: config.estimate,
                                       ranksOnNode: comm.localSize, isNodeLeader: comm.localRank == 0)
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
    }

    /// Notes on sources that could not be used, once each.
    var notes: [String] { Array(Set(selection.notes)).sorted() }

    /// The estimate's parameters, where any node's joules are modelled.
    func estimate(_ config: TrainConfig) -> EstimateModel? {
        selection.kinds.contains(.estimate) || nodeSources.contains { $0.contains("estimate") } ? config.estimate : nil
    }

    /// This rank's sampler, on the run's aligned clock.
    func makeSampler(hz: Double, epoch: Double) -> PowerSampler {
        PowerSampler(sources: selection.sources, hz: hz, epoch: epoch)
    }

    /// Every rank's failed reads, one line per source that had any.
    func failedReads(_ sampler: PowerSampler, _ comm: Communicator) throws -> [String] {
        let mine = sampler.failures.enumerated().filter { $0.element.count > 0 }
            .map { "\(sourceNames[$0.offset]): \($0.element.count) failed reads (\($0.element.message ?? ""))" }
        return try Self.allGather(mine.joined(separator: "\n"), comm).filter { !$0.isEmpty }
    }

    static func allGather(_ text: String, _ comm: Communicator) throws -> [String] {
        try comm.allGatherBytes(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }
}
