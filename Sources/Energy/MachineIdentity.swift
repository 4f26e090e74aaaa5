#if canImport(Glibc)
import Glibc
#endif

/// The physical machine a rank runs on, as the kernel names it: `/etc/machine-id` (the
/// installation) and `/proc/sys/kernel/random/boot_id` (this boot), independent of how MPI groups
/// ranks into nodes. Network namespaces (our emulated hosts), containers sharing a kernel and
/// several MPI "nodes" on one box all see the same boot id, so node-wide counters are read once
/// per machine. The paths are injectable for tests.
public struct MachineIdentity: Sendable, Equatable, Hashable, Codable {
    public var machineID: String
    public var bootID: String
    public var hostname: String

    public init(machineID: String, bootID: String, hostname: String) {
        self.machineID = machineID; self.bootID = bootID; self.hostname = hostname
    }

    /// What ranks compare: one key per machine and boot.
    public var key: String { machineID + "/" + bootID }

    public static func current(machineIDPath: String = "/etc/machine-id",
                               bootIDPath: String = "/proc/sys/kernel/random/boot_id") -> MachineIdentity {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown"
        return MachineIdentity(machineID: (try? Sysfs.readString(machineIDPath)) ?? "unknown",
                               bootID: (try? Sysfs.readString(bootIDPath)) ?? "unknown", hostname: host)
    }
}
