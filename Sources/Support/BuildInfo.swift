import Foundation

/// What was built and where it runs, for the run's metadata.
public enum BuildInfo {
    public static let version = "0.7.0"

    /// The git commit of the checkout this executable was built in: found by walking up from
    /// the executable (`.build/<config>/ringwatt`) to a `.git` directory and reading HEAD (a
    /// branch ref, loose or packed); nil outside a checkout.
    public static let gitCommit: String? = {
        var directory = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        for _ in 0..<6 {
            directory.deleteLastPathComponent()
            let git = directory.path + "/.git"
            guard let head = try? String(contentsOfFile: git + "/HEAD", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            else { continue }
            guard head.hasPrefix("ref: ") else { return head }
            let ref = String(head.dropFirst(5))
            if let loose = try? String(contentsOfFile: git + "/" + ref, encoding: .utf8) {
                return loose.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let packed = (try? String(contentsOfFile: git + "/packed-refs", encoding: .utf8)) ?? ""
            return packed.split(separator: "\n").first { $0.hasSuffix(" " + ref) }.map { String($0.prefix { $0 != " " }) }
        }
        return nil
    }()

    /// /proc/cpuinfo's first "model name".
    public static var cpuModel: String? {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The kernel release (uname -r).
    public static var kernel: String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Logical CPUs this process may run on.
    public static var cpuCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Physical memory in GB.
    public static var memoryGB: Double { Double(ProcessInfo.processInfo.physicalMemory) / 1e9 }
}
