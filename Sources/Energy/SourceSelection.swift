/// `--power-source`: which kind of source to use on each node.
public enum SourcePreference: String, CaseIterable, Sendable, Codable {
    /// The best available per node: RAPL, else hwmon, else the estimate; NVIDIA GPUs added when present.
    case auto
    case rapl, hwmon, nvml, estimate
    /// No energy accounting at all.
    case none
}

/// Where the sources are looked for; tests point these at fixture trees.
public struct SourceRoots: Sendable, Equatable {
    public var powercap = "/sys/class/powercap"
    public var hwmon = "/sys/class/hwmon"
    public var nvmlLibrary = "libnvidia-ml.so.1"
    public init() {}
    public init(powercap: String, hwmon: String, nvmlLibrary: String = "libnvidia-ml.so.1") {
        self.powercap = powercap; self.hwmon = hwmon; self.nvmlLibrary = nvmlLibrary
    }
}

/// The sources one rank reads, and what was decided on the way.
public struct SourceSelection {
    public var sources: [PowerSource]
    /// The kinds measured on this rank's node (node-wide ones even where another rank reads them).
    public var kinds: [SourceKind]
    /// What could not be used and why, for the user.
    public var notes: [String]

    /// Chooses this rank's sources. Node-wide sources (RAPL, hwmon, NVML) are read by the node's
    /// first rank only (`isNodeLeader`); every rank reads its own estimate. Every rank of a node
    /// sees the same sysfs and so makes the same choice.
    public static func choose(_ preference: SourcePreference, roots: SourceRoots = SourceRoots(),
                              includeDRAM: Bool = false, estimate: EstimateModel,
                              ranksOnNode: Int, isNodeLeader: Bool) -> SourceSelection {
        var notes: [String] = []
        var node: [PowerSource] = []
        func take<S: PowerSource>(_ found: (sources: [S], problems: [EnergyError])) -> [S] {
            notes += found.problems.map { "\($0)" }
            return found.sources
        }
        switch preference {
        case .none:
            return SourceSelection(sources: [], kinds: [], notes: ["energy accounting off (--power-source none)"])
        case .estimate:
            break
        case .rapl:
            node = take(RAPLSource.discover(root: roots.powercap, includeDRAM: includeDRAM))
            if node.isEmpty { notes.append("no readable RAPL package zone under \(roots.powercap); falling back to the estimate") }
        case .hwmon:
            node = take(HwmonSource.discover(root: roots.hwmon))
            if node.isEmpty { notes.append("no hwmon energy or power sensor under \(roots.hwmon); falling back to the estimate") }
        case .nvml:
            node = take(NVMLSource.discover(libraryName: roots.nvmlLibrary))
            if node.isEmpty { notes.append("no NVML GPU; falling back to the estimate") }
        case .auto:
            let rapl = take(RAPLSource.discover(root: roots.powercap, includeDRAM: includeDRAM))
            node = rapl.isEmpty ? take(HwmonSource.discover(root: roots.hwmon)) : rapl
            let gpus = NVMLSource.discover(libraryName: roots.nvmlLibrary).sources  // absence is normal
            node += gpus as [PowerSource]
        }
        let cpuMeasured = node.contains { $0.kind == .rapl || $0.kind == .hwmon }
        var kinds = Array(Set(node.map(\.kind))).sorted()
        var sources: [PowerSource] = isNodeLeader ? node : []
        if !cpuMeasured {
            kinds.append(.estimate)
            sources.append(EstimateSource(model: estimate, ranksOnNode: ranksOnNode))
        }
        return SourceSelection(sources: sources, kinds: kinds, notes: notes)
    }

    /// "rapl", "estimate", "rapl+nvml": what this node's joules come from.
    public var label: String { kinds.isEmpty ? "none" : kinds.map(\.rawValue).joined(separator: "+") }
}
