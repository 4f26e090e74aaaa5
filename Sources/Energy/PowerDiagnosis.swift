#if canImport(Glibc)
import Glibc
#endif

/// What a node's power sources can and cannot do, each problem with its fix: `ringwatt doctor`.
public struct PowerFinding: Equatable, Sendable {
    public enum Status: String, Sendable { case readable, rootOnly = "root only", unreadable, absent }
    public var source: String
    public var status: Status
    public var detail: String
    public var fix: String?
}

public enum PowerDiagnosis {
    /// The udev rule RAPL tools document (Scaphandre, CodeCarbon, rapl-energy): a `rapl` group
    /// that may read every zone's counter, applied at each boot.
    public static let raplFix = "Linux ≥ 5.10 lets only root read energy_uj (CVE-2020-8694); for other users: "
        + "`groupadd rapl && usermod -aG rapl USER` and /etc/udev/rules.d/70-rapl.rules with "
        + "ACTION==\"add\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", RUN+=\"/usr/bin/chgrp rapl /sys/%p/energy_uj\", "
        + "RUN+=\"/usr/bin/chmod g+r /sys/%p/energy_uj\" (or `sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj` until reboot)"

    public static func run(powercapRoot: String, hwmonRoot: String, isRoot: Bool = geteuid() == 0) -> [PowerFinding] {
        var findings: [PowerFinding] = []
        let rapl = RAPLSource.discover(root: powercapRoot, includeDRAM: true)
        for source in rapl.sources {
            var st = stat()
            let counter = source.origin + "/energy_uj"
            let othersCanRead = stat(counter, &st) == 0 && st.st_mode & S_IROTH != 0
            if othersCanRead || !isRoot {
                findings.append(PowerFinding(source: "RAPL \(source.domain)", status: .readable, detail: counter, fix: nil))
            } else {
                findings.append(PowerFinding(source: "RAPL \(source.domain)", status: .rootOnly,
                                             detail: "\(counter) is readable here (root) but not by other users", fix: raplFix))
            }
        }
        for problem in rapl.problems {
            let denied = if case .permissionDenied = problem { true } else { false }
            findings.append(PowerFinding(source: "RAPL", status: .unreadable, detail: problem.description,
                                         fix: denied ? raplFix : "check the zone's files; Ringwatt falls back to hwmon or the estimate"))
        }
        if rapl.sources.isEmpty && rapl.problems.isEmpty {
            findings.append(PowerFinding(source: "RAPL", status: .absent, detail: "no package zone under \(powercapRoot)",
                                         fix: "on bare metal load the driver (`modprobe intel_rapl_msr`; AMD Zen needs Linux ≥ 5.8, family 19h ≥ 5.11); "
                                            + "virtual machines do not expose RAPL: Ringwatt uses the labelled estimate"))
        }
        let hwmon = HwmonSource.discover(root: hwmonRoot)
        for source in hwmon.sources {
            findings.append(PowerFinding(source: "hwmon \(source.domain)", status: .readable, detail: source.origin, fix: nil))
        }
        for problem in hwmon.problems {
            findings.append(PowerFinding(source: "hwmon", status: .unreadable, detail: problem.description,
                                         fix: "make the sensor file readable (udev rule or chmod), or use another source"))
        }
        if hwmon.sources.isEmpty && hwmon.problems.isEmpty {
            findings.append(PowerFinding(source: "hwmon", status: .absent, detail: "no energy or power sensor under \(hwmonRoot)", fix: nil))
        }
        let nvml = NVMLSource.discover()
        for source in nvml.sources {
            findings.append(PowerFinding(source: "NVML \(source.domain)", status: .readable, detail: source.origin, fix: nil))
        }
        for problem in nvml.problems {
            findings.append(PowerFinding(source: "NVML", status: .absent, detail: problem.description, fix: nil))
        }
        return findings
    }
}
