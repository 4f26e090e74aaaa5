/// One RAPL zone through Linux powercap (`/sys/class/powercap/intel-rapl:N[:M]`), which is also
/// where AMD Zen's RAPL appears.
///
/// `energy_uj` is a cumulative counter in µJ that wraps at `max_energy_range_uj`. Each read adds
/// the range once for every time the counter went down since the previous read, so the value is
/// monotonic as long as reads are less than one wrap period apart (minutes at full power; the
/// sampler reads at tens of Hz).
public final class RAPLSource: PowerSource, @unchecked Sendable {
    public let kind = SourceKind.rapl
    public let scope = SourceScope.node
    /// Intel documents the RAPL energy status counters as updated about every millisecond.
    public let updateInterval: Double? = 0.001
    public let domain: String
    public let origin: String
    public let maxRange: UInt64
    public private(set) var wraps = 0
    private var last: UInt64?

    public init(zonePath: String) throws {
        origin = zonePath
        domain = (try? Sysfs.readString(zonePath + "/name")) ?? "zone"
        maxRange = try Sysfs.readUInt64(zonePath + "/max_energy_range_uj")
        _ = try Sysfs.readUInt64(zonePath + "/energy_uj")  // fail now (e.g. EACCES), not mid-run
    }

    public func read() throws -> PowerReading {
        let raw = try Sysfs.readUInt64(origin + "/energy_uj")
        if let last, raw < last { wraps += 1 }
        last = raw
        let microjoules = Double(raw) + Double(wraps) * Double(maxRange)
        return .energy(joules: microjoules * 1e-6)
    }

    /// The zones to read under `root`: every top-level package zone (`intel-rapl:N` whose name
    /// starts with "package"), plus each package's `dram` subzone if asked. Subzones `core` and
    /// `uncore` are parts of their package and `psys` covers the package too, so they are never
    /// added (that would count the same joules twice).
    public static func discover(root: String = "/sys/class/powercap", includeDRAM: Bool = false)
        -> (sources: [RAPLSource], problems: [EnergyError]) {
        var sources: [RAPLSource] = [], problems: [EnergyError] = []
        let zones = Sysfs.list(root).filter { $0.hasPrefix("intel-rapl:") && !$0.dropFirst(11).contains(":") }
        for zone in zones {
            let path = root + "/" + zone
            let name = (try? Sysfs.readString(path + "/name")) ?? ""
            guard name.hasPrefix("package") else { continue }
            do { sources.append(try RAPLSource(zonePath: path)) } catch let e as EnergyError { problems.append(e) } catch {}
            guard includeDRAM else { continue }
            for sub in Sysfs.list(path) where sub.hasPrefix(zone + ":") {
                let subPath = path + "/" + sub
                guard (try? Sysfs.readString(subPath + "/name")) == "dram" else { continue }
                do { sources.append(try RAPLSource(zonePath: subPath)) } catch let e as EnergyError { problems.append(e) } catch {}
            }
        }
        return (sources, problems)
    }
}
