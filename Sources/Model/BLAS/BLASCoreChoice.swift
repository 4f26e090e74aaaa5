import Support

/// Which OpenBLAS kernel set (its "core") a CPU should run, as pure functions over what the CPU
/// supports, what the library picked and what was measured.
///
/// A DYNAMIC_ARCH OpenBLAS picks its core at load time from a table of CPU models; a build older
/// than the CPU falls back to old kernels (0.3.21 runs Prescott's SSE3 kernels on Intel family 6
/// model 207). Ringwatt upgrades only when the library's core uses a narrower vector level than
/// the CPU has, and then picks by measurement among the cores valid for the CPU — the library's
/// own choice among them — never by name order.
public enum BLASCoreChoice {
    /// The vector level each x86-64 core name of OpenBLAS 0.3 compiles its kernels for; nil for
    /// names this table does not know (a newer library's), which are never second-guessed.
    public static func level(ofCore name: String) -> VectorLevel? {
        switch name.lowercased() {
        case "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn", "dunnington",
             "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat":
            return .sse
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return .avx
        case "haswell", "excavator", "zen": return .avx2
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        default: return nil
        }
    }

    /// The cores worth measuring on `cpu`: every named set whose instructions the CPU has, at its
    /// own level and the AVX2 one below it (an AVX-512 kernel is not always the faster on small
    /// products). Cooperlake needs AVX-512 BF16; Zen's kernels are tuned for AMD.
    public static func candidates(for cpu: CPUInfo) -> [String] {
        switch cpu.vectorLevel {
        case .avx512:
            return ["SkylakeX"] + (cpu.flags.contains("avx512_bf16") ? ["Cooperlake"] : []) + ["Haswell"]
                + (cpu.isAMD ? ["Zen"] : [])
        case .avx2: return cpu.isAMD ? ["Zen", "Haswell"] : ["Haswell"]
        case .avx: return ["Sandybridge"]
        case .sse: return []
        }
    }

    public enum Plan: Equatable, Sendable {
        /// Run what the library picked; the reason says why nothing is measured.
        case keep(String)
        /// The user set OPENBLAS_CORETYPE: never overridden.
        case user(String)
        /// The library runs narrower kernels than the CPU has: measure these named cores
        /// against the library's own choice.
        case measure([String])
    }

    /// What to do at start-up. `userCoreType` is OPENBLAS_CORETYPE as the user set it (not as
    /// Ringwatt set it on a re-execution); `disabled` is RINGWATT_BLAS_UPGRADE=off.
    public static func plan(cpu: CPUInfo?, libraryCore: String, userCoreType: String?, disabled: Bool) -> Plan {
        if let userCoreType { return .user(userCoreType) }
        if disabled { return .keep("upgrade turned off (RINGWATT_BLAS_UPGRADE=off)") }
        guard let cpu else { return .keep("the CPU's features are unknown (no /proc/cpuinfo)") }
        guard let running = level(ofCore: libraryCore) else { return .keep("\(libraryCore) is a core this table does not know") }
        guard running < cpu.vectorLevel else { return .keep("\(libraryCore) uses the CPU's widest vectors (\(cpu.vectorLevel.rawValue))") }
        let candidates = candidates(for: cpu)
        return candidates.isEmpty ? .keep("no named core fits this CPU") : .measure(candidates)
    }

    /// The outcome of measuring: run a named core (re-executing), or keep the library's.
    public enum Outcome: Equatable, Sendable {
        case upgrade(to: String)
        case keep(String)
    }

    /// The fastest verified core for `workload`. Cores within `margin` of the fastest count as
    /// equally fast (a shared machine's noise is larger; SkylakeX and Cooperlake share their sgemm
    /// in 0.3.21): among them the library's own choice wins, so its bits stay where it is as
    /// good, else the first in candidate order, so a re-measurement picks the same core.
    public static func choose(_ results: [BLASProbeResult], for workload: BLASWorkload, margin: Double = 0.03) -> Outcome {
        let usable = results.filter { $0.accepted && $0.verified && $0.seconds(workload) > 0 }
        guard let fastest = usable.map({ $0.seconds(workload) }).min() else {
            let failed = results.filter { $0.requested != nil && $0.accepted && !$0.verified }.map(\.core)
            return .keep(failed.isEmpty ? "no other core could be measured" : "\(failed.joined(separator: ", ")) failed verification")
        }
        let fast = usable.filter { $0.seconds(workload) <= fastest * (1 + margin) }
        if let library = fast.first(where: { $0.requested == nil }) { return .keep("the library's \(library.core) is as fast as any") }
        return .upgrade(to: fast[0].requested!)
    }
}

/// Which model's products a choice is measured on.
public enum BLASWorkload: String, Sendable, Codable, CaseIterable {
    case mlp, gpt
}
