import Support
/// What kind of measurement a joule came from. Every figure Ringwatt reports carries one.
public enum SourceKind: String, Sendable, Codable, CaseIterable, Comparable {
    /// Intel/AMD RAPL counters through Linux powercap: measured by the CPU's energy model, per package.
    case rapl
    /// A hwmon sensor (energy or power), e.g. a board power meter or an AMD/ARM driver.
    case hwmon
    /// An NVIDIA GPU through NVML.
    case nvml
    /// No counter: modelled from this process's CPU time and the node's idle power.
    case estimate

    public static func < (a: SourceKind, b: SourceKind) -> Bool { a.rawValue < b.rawValue }
}

/// Whose energy a source measures.
public enum SourceScope: String, Sendable, Codable {
    /// The whole node (or socket, or device): read by one rank per node, never summed twice.
    case node
    /// One process: read by every rank for itself.
    case process
}

/// One reading of a source.
public enum PowerReading: Sendable, Equatable {
    /// A cumulative energy counter in joules (already corrected for wrap-around).
    case energy(joules: Double)
    /// Instantaneous power in watts; the sampler integrates it (trapezoid rule).
    case power(watts: Double)
}

/// A readable power or energy source. Reads are made by one thread at a time (the sampler's lock).
/// Sources are `Sendable` because the sampler thread reads them; reads are serialised by the
/// sampler's lock, which is what makes the mutable ones (wrap counting, integration) safe.
public protocol PowerSource: AnyObject, Sendable {
    var kind: SourceKind { get }
    var scope: SourceScope { get }
    /// The measured domain, as the source names it: "package-0", "dram", "gpu0", "process"…
    var domain: String { get }
    /// Where it is read from: a sysfs path, a library, a formula.
    var origin: String { get }
    /// How often the value behind it changes, in seconds (RAPL about 1 ms, hwmon its
    /// `update_interval`, NVML its sampling period); nil where no sensor stands behind it (the
    /// estimate is a formula of CPU time). Windows shorter than this are not resolved by it.
    var updateInterval: Double? { get }
    func read() throws -> PowerReading
}

/// Why a source cannot be used. Each message says how to fix it where a fix exists.
public enum EnergyError: RingwattError, Equatable {
    case permissionDenied(path: String)
    case unreadable(path: String, reason: String)
    case malformed(path: String, content: String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .permissionDenied:
            return reason + "; falling back"
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .malformed(path, content): return "\(path): expected a number, read '\(content)'"
        case let .unavailable(why): return why
        }
    }

    /// What is wrong, without what happens next.
    public var reason: String {
        if case let .permissionDenied(path) = self {
            return "\(path): permission denied (since Linux 5.10 RAPL energy_uj is readable by root only; "
                + "fix: run as root, or `sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj`, or a udev rule)"
        }
        return description
    }

    /// Source problems become notes; an explicitly requested source that is missing is agreed
    /// on by every rank before the run stops.
    public var isRaisedOnEveryRank: Bool { true }
}
