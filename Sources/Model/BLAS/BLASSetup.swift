import Foundation
import Support
import Synchronization

/// The BLAS a process runs and how it came to run it: summary.json's metadata, the first line of
/// `train`, `report`, `bench-step`, `bench-allreduce` and `doctor`.
public struct BLASInfo: Codable, Equatable, Sendable {
    /// openblas_get_config(): library version and build options.
    public var config: String
    /// openblas_get_corename(): the kernel set in use.
    public var core: String
    /// "library", "upgraded from Prescott", or "user (OPENBLAS_CORETYPE=Haswell)".
    public var choice: String
    /// Why the library's choice was kept, or what was measured.
    public var note: String?
    public var threads: Int

    public init(config: String, core: String, choice: String, note: String? = nil, threads: Int) {
        self.config = config; self.core = core; self.choice = choice; self.note = note; self.threads = threads
    }

    /// "SkylakeX (upgraded from Prescott), 1 thread, OpenBLAS 0.3.21"
    public var line: String {
        let library = config.split(separator: " ").prefix(2).joined(separator: " ")
        return "\(core) (\(choice)), \(threads) thread\(threads == 1 ? "" : "s"), \(library)"
    }
}

/// Chooses the OpenBLAS core before the first BLAS call (see `BLASCoreChoice`): when the library
/// runs narrower kernels than the CPU has, the cores valid for the CPU are verified and timed,
/// each in a child process (`ringwatt blas-probe`, a crash stays there), the result is cached per
/// machine, and the process re-executes itself with OPENBLAS_CORETYPE set to the fastest —
/// the variable is read only when the library loads. Called before MPI is initialised, so a
/// rank under mpirun, srun or the launch scripts keeps its pid and its launcher's environment.
///
/// Environment: OPENBLAS_CORETYPE set by the user is kept; RINGWATT_BLAS_UPGRADE=off keeps the
/// library's choice; RINGWATT_CACHE_DIR moves the cache. Test hooks: RINGWATT_BLAS_TEST_REPORTED
/// pretends the library chose that core; RINGWATT_BLAS_TEST_CORRUPT (core names, comma-separated)
/// makes those cores' probe results wrong.
public enum BLASSetup {
    static let upgradedFromKey = "RINGWATT_BLAS_UPGRADED_FROM"
    static let reportedKey = "RINGWATT_BLAS_TEST_REPORTED"
    public static let corruptKey = "RINGWATT_BLAS_TEST_CORRUPT"

    private static let selected = Mutex<BLASInfo?>(nil)

    /// What this process runs (the library's choice if `prepare` was not called).
    public static var info: BLASInfo {
        selected.withLock { $0 } ?? describe(choice: "library", note: nil)
    }

    static func describe(choice: String, note: String?) -> BLASInfo {
        BLASInfo(config: OpenBLAS.config, core: OpenBLAS.coreName, choice: choice, note: note, threads: OpenBLAS.threads)
    }

    private static func settle(_ choice: String, _ note: String? = nil) {
        let info = describe(choice: choice, note: note)
        selected.withLock { $0 = info }
    }

    static func upgradeDisabled(_ environment: [String: String]) -> Bool {
        ["off", "0", "no", "false"].contains(environment["RINGWATT_BLAS_UPGRADE"]?.lowercased() ?? "")
    }

    /// Decides, and either returns (this process keeps its library) or replaces the process with
    /// one that loads the chosen core. `say` gets the one line a measurement or a failure prints.
    public static func prepare(for workload: BLASWorkload, environment: [String: String] = ProcessInfo.processInfo.environment,
                               say: (String) -> Void) {
        if let from = environment[upgradedFromKey], let requested = environment["OPENBLAS_CORETYPE"] {
            let running = OpenBLAS.coreName
            return running.lowercased() == requested.lowercased()
                ? settle("upgraded from \(from)") : settle("library", "asked for \(requested) after \(from), the library runs \(running)")
        }
        let libraryCore = environment[reportedKey] ?? OpenBLAS.coreName
        let plan = BLASCoreChoice.plan(cpu: CPUInfo.current, libraryCore: libraryCore,
                                       userCoreType: environment["OPENBLAS_CORETYPE"], disabled: upgradeDisabled(environment))
        switch plan {
        case .user(let value): settle("user (OPENBLAS_CORETYPE=\(value))")
        case .keep(let why): settle("library", why)
        case .measure(let candidates):
            let measured: [BLASProbeResult]
            do {
                let (entry, now) = try survey(candidates: candidates, libraryCore: libraryCore, redo: false, environment: environment)
                measured = entry.results
                if now { say(surveyLine(entry.results, libraryCore: libraryCore, workload: workload)) }
            } catch {
                say("BLAS: could not measure the cores (\(error)); running the library's \(libraryCore)")
                return settle("library", "measurement failed: \(error)")
            }
            switch BLASCoreChoice.choose(measured, for: workload) {
            case .keep(let why): settle("library", why)
            case .upgrade(let core): reexecute(with: core, from: libraryCore, say: say)
            }
        }
    }

    /// The cache entry for this machine's CPU and library, measured now if absent or `redo`.
    public static func survey(candidates: [String], libraryCore: String, redo: Bool,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (entry: BLASCoreCache.Entry, measuredNow: Bool) {
        let cpu = CPUInfo.current
        let injected = environment[reportedKey]
        let key = [cpu?.signature ?? "unknown-cpu", OpenBLAS.build, OpenBLAS.library?.identity ?? "unknown-library",
                   injected.map { "reported=\($0)" } ?? ""].joined(separator: "|")
        let cache = BLASCoreCache(directory: BLASCoreCache.directory(environment: environment))
        return try cache.entry(key: key, redo: redo) {
            // A pretended library core is not measured: the library's real choice is not it.
            let runs: [String?] = candidates + (injected == nil ? [nil] : [])
            let results = try BLASProbeRunner(environment: environment).measure(runs)
            return BLASCoreCache.Entry(cpu: cpu?.description ?? "unknown", library: OpenBLAS.build,
                                       measuredAt: ISO8601DateFormatter().string(from: Date()), results: results)
        }
    }

    /// "BLAS: OpenBLAS … chose Prescott on … ; measured …: SkylakeX 0.61 ms, …; running SkylakeX."
    static func surveyLine(_ results: [BLASProbeResult], libraryCore: String, workload: BLASWorkload) -> String {
        let timings = results.map { r -> String in
            let name = r.requested ?? "\(r.core) (library)"
            if !r.accepted { return "\(name) not accepted by this library" }
            if !r.verified {
                return "\(name) FAILED verification against float64 (worst error \(r.worstErrorRatio.map { String(format: "%.3g", $0) } ?? "not finite") × the bound)"
            }
            return String(format: "%@ %.3f ms", name, r.seconds(workload) * 1e3)
        }
        let outcome: String
        switch BLASCoreChoice.choose(results, for: workload) {
        case .upgrade(let core): outcome = "running \(core) (RINGWATT_BLAS_UPGRADE=off keeps the library's choice)"
        case .keep(let why): outcome = "keeping the library's \(libraryCore): \(why)"
        }
        return "BLAS: the library chose \(libraryCore) on \(CPUInfo.current?.description ?? "this CPU"); "
            + "\(workload.rawValue) products measured: \(timings.joined(separator: ", ")); \(outcome)"
    }

    private static func reexecute(with core: String, from libraryCore: String, say: (String) -> Void) {
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(upgradedFromKey, libraryCore, 1)
        fflush(nil)
        // By its real path, so the process keeps its name ("ringwatt" in ps, top and pkill, not "exe").
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
        execv(path, CommandLine.unsafeArgv)
        let reason = String(cString: strerror(errno))
        unsetenv("OPENBLAS_CORETYPE"); unsetenv(upgradedFromKey)
        say("BLAS: could not re-execute with OPENBLAS_CORETYPE=\(core) (\(reason)); running the library's \(libraryCore)")
        settle("library", "re-execution failed: \(reason)")
    }
}
