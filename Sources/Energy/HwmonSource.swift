/// A hwmon sensor (`/sys/class/hwmon/hwmonN/`): `energyK_input` (µJ, cumulative) is preferred;
/// otherwise `powerK_input` or `powerK_average` (µW), which the sampler integrates.
public final class HwmonSource: PowerSource, @unchecked Sendable {
    public let kind = SourceKind.hwmon
    public let scope = SourceScope.node
    public let domain: String
    public let origin: String
    /// The device's `update_interval` (ms in sysfs), when it states one.
    public let updateInterval: Double?
    private let isEnergy: Bool

    public init(file: String, domain: String) throws {
        origin = file
        self.domain = domain
        isEnergy = file.hasSuffix("_input") && file.split(separator: "/").last!.hasPrefix("energy")
        let directory = String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)])
        updateInterval = (try? Sysfs.readUInt64(directory + "/update_interval")).map { Double($0) / 1000 }
        _ = try Sysfs.readUInt64(file)
    }

    public func read() throws -> PowerReading {
        let value = Double(try Sysfs.readUInt64(origin))
        return isEnergy ? .energy(joules: value * 1e-6) : .power(watts: value * 1e-6)
    }

    /// One source per hwmon device that has an energy or power sensor (the first such sensor,
    /// energy preferred), named "<device name>/<sensor label or file>".
    public static func discover(root: String = "/sys/class/hwmon") -> (sources: [HwmonSource], problems: [EnergyError]) {
        var sources: [HwmonSource] = [], problems: [EnergyError] = []
        for device in Sysfs.list(root) where device.hasPrefix("hwmon") {
            let path = root + "/" + device
            let files = Sysfs.list(path)
            let energy = files.filter { $0.hasPrefix("energy") && $0.hasSuffix("_input") }
            let power = files.filter { $0.hasPrefix("power") && ($0.hasSuffix("_input") || $0.hasSuffix("_average")) }
            guard let file = energy.first ?? power.first else { continue }
            let name = (try? Sysfs.readString(path + "/name")) ?? device
            let stem = String(file.prefix { $0 != "_" })
            let label = (try? Sysfs.readString(path + "/" + stem + "_label")) ?? stem
            do { sources.append(try HwmonSource(file: path + "/" + file, domain: "\(name)/\(label)")) }
            catch let e as EnergyError { problems.append(e) } catch {}
        }
        return (sources, problems)
    }
}
