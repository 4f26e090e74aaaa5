import Foundation

/// What the kernel says about the processor (`/proc/cpuinfo`'s first entry): vendor, family,
/// model, stepping, name and feature flags, and the x86-64 vector level those flags allow.
///
/// The flags are what the kernel lets user space use (a hypervisor may hide some), which is
/// what a BLAS kernel can rely on.
public struct CPUInfo: Sendable, Equatable, Codable {
    public var vendor: String
    public var family: Int
    public var model: Int
    public var stepping: Int
    public var modelName: String
    public var flags: Set<String>

    public init(vendor: String, family: Int, model: Int, stepping: Int = 0, modelName: String, flags: Set<String>) {
        self.vendor = vendor; self.family = family; self.model = model; self.stepping = stepping
        self.modelName = modelName; self.flags = flags
    }

    /// Parses the first processor entry of `/proc/cpuinfo`-formatted text; nil without a vendor.
    public init?(cpuinfo text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { if !fields.isEmpty { break } else { continue } }
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        guard let vendor = fields["vendor_id"] else { return nil }
        self.init(vendor: vendor, family: fields["cpu family"].flatMap { Int($0) } ?? 0,
                  model: fields["model"].flatMap { Int($0) } ?? 0, stepping: fields["stepping"].flatMap { Int($0) } ?? 0,
                  modelName: fields["model name"] ?? "unknown",
                  flags: Set((fields["flags"] ?? "").split(separator: " ").map(String.init)))
    }

    /// This machine's processor; nil where /proc/cpuinfo is unreadable or not x86-style.
    public static let current: CPUInfo? = {
        // (String(contentsOfFile:) reads only one page of a /proc file.)
        FileHandle(forReadingAtPath: "/proc/cpuinfo").flatMap { CPUInfo(cpuinfo: String(decoding: $0.readDataToEndOfFile(), as: UTF8.self)) }
    }()

    public var isAMD: Bool { vendor == "AuthenticAMD" || vendor == "HygonGenuine" }
    public var isIntel: Bool { vendor == "GenuineIntel" }

    /// The widest vector instruction set BLAS kernels may use here.
    public var vectorLevel: VectorLevel {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return .avx512 }
        if flags.contains("avx2") && flags.contains("fma") { return .avx2 }
        if flags.contains("avx") { return .avx }
        return .sse
    }

    /// "Intel family 6 model 207 (Intel(R) Xeon(R) Processor), AVX-512": what a figure's CPU is.
    public var description: String {
        let maker = isIntel ? "Intel" : isAMD ? "AMD" : vendor
        return "\(maker) family \(family) model \(model) (\(modelName)), \(vectorLevel.rawValue)"
    }

    /// Identifies the processor for caches of per-CPU measurements: vendor, family, model,
    /// stepping and a hash of the flags (a hypervisor that hides AVX-512 is a different CPU).
    public var signature: String {
        let hash = FNV1a.hash(Array(flags.sorted().joined(separator: " ").utf8))
        return "\(vendor)-\(family)-\(model)-\(stepping)-\(String(hash, radix: 16))"
    }
}

/// x86-64 vector levels, in order: each level's kernels run on every higher level.
public enum VectorLevel: String, Sendable, Codable, Comparable, CaseIterable {
    case sse = "SSE", avx = "AVX", avx2 = "AVX2+FMA", avx512 = "AVX-512"

    public static func < (a: VectorLevel, b: VectorLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
