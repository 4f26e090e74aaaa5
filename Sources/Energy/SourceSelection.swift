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

    public init(sources: [PowerSource], kinds: [SourceKind], notes: [String]) {
        self.sources = sources; self.kinds = kinds; self.notes = notes
    }

    /// Chooses this rank's sources. Node-wide sources (RAPL, hwmon, NVML) are read by the physical
    /// machine's first rank only (`readsMachineCounters`); every rank reads its own estimate, whose
    /// idle term is the machine's idle power shared by its `ranksOnMachine` ranks. Every rank of a
    /// machine sees the same sysfs and so makes the same choice. `auto` falls back to the labelled
    /// estimate; a source asked for by name that this node lacks is an error saying why.
    public static func choose(_ preference: SourcePreference, roots: SourceRoots = SourceRoots(),
                              includeDRAM: Bool = false, estimate: EstimateModel,
                              ranksOnMachine: Int, readsMachineCounters: Bool) throws -> SourceSelection {
        var notes: [String] = []
        var node: [PowerSource] = []
        func take<S: PowerSource>(_ found: (sources: [S], problems: [EnergyError])) -> [S] {
            notes += found.problems.map { "\($0)" }
            return found.sources
        }
        /// The sources asked for by name, or why there are none.
        func required<S: PowerSource>(_ found: (sources: [S], problems: [EnergyError]), missing: String) throws -> [S] {
            guard found.sources.isEmpty else { return take(found) }
            let why = found.problems.isEmpty ? missing : found.problems.map(\.reason).joined(separator: "; ")
            throw EnergyError.unavailable("--power-source \(preference.rawValue): \(why) "
                                          + "(--power-source auto falls back to the labelled estimate)")
        }
        switch preference {
        case .none:
            return SourceSelection(sources: [], kinds: [], notes: ["energy accounting off (--power-source none)"])
        case .estimate:
            break
        case .rapl:
            node = try required(RAPLSource.discover(root: roots.powercap, includeDRAM: includeDRAM),
                                missing: "no RAPL package zone under \(roots.powercap) (a virtual machine, or not an Intel/AMD CPU)")
        case .hwmon:
            node = try required(HwmonSource.discover(root: roots.hwmon),
                                missing: "no hwmon energy or power sensor under \(roots.hwmon)")
        case .nvml:
            node = try required(NVMLSource.discover(libraryName: roots.nvmlLibrary),
                                missing: "no NVIDIA GPU through NVML (\(roots.nvmlLibrary) absent or no device)")
        case .auto:
            let rapl = take(RAPLSource.discover(root: roots.powercap, includeDRAM: includeDRAM))
            node = rapl.isEmpty ? take(HwmonSource.discover(root: roots.hwmon)) : rapl
            let gpus = NVMLSource.discover(libraryName: roots.nvmlLibrary).sources  // absence is normal
            node += gpus as [PowerSource]
        }
        let cpuMeasured = node.contains { $0.kind == .rapl || $0.kind == .hwmon }
        var kinds = Array(Set(node.map(\.kind))).sorted()
        var sources: [PowerSource] = readsMachineCounters ? node : []
        if !cpuMeasured {
            kinds.append(.estimate)
            sources.append(EstimateSource(model: estimate, ranksOnMachine: ranksOnMachine))
        }
        return SourceSelection(sources: sources, kinds: kinds, notes: notes)
    }

    /// "rapl", "estimate", "rapl+nvml": what this node's joules come from.
    public var label: String { kinds.isEmpty ? "none" : kinds.map(\.rawValue).joined(separator: "+") }
}
