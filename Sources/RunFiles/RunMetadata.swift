import Foundation
import Model
import Support

/// Where and what ran: for joining a run with a scheduler's accounting and for reproducing it.
public struct RunMetadata: Codable, Equatable, Sendable {
    /// A fresh UUID per run (and per resumed segment): emissions.csv's run_id.
    public var runID: String
    public var slurmJobID: String?
    public var slurmStepID: String?
    public var hostnames: [String]
    public var cpuModel: String?
    public var cpuCount: Int
    public var memoryGB: Double
    public var kernel: String?
    public var mpiLibrary: String
    public var ringwattVersion: String
    public var gitCommit: String?
    /// The BLAS library and core rank 0 ran, and how the core was chosen (absent before 0.7).
    public var blas: BLASInfo?
    /// Vendor, family, model and vector level of rank 0's CPU (checksums depend on them and the core).
    public var cpu: String?
    /// The core every rank ran, by rank (ranks on other machines may differ).
    public var blasCoreByRank: [String]?
    /// How each rank waited for its messages (`--comm-wait-us`, `--comm-spin-us`; auto spins only
    /// where the machine's ranks have a core each), by rank.
    public var commWaitingByRank: [String]?

    package enum CodingKeys: String, CodingKey {
        case runID = "run_id", slurmJobID = "slurm_job_id", slurmStepID = "slurm_step_id", hostnames, cpuModel = "cpu_model"
        case cpuCount = "cpu_count", memoryGB = "memory_gb", kernel, mpiLibrary = "mpi_library"
        case ringwattVersion = "ringwatt_version", gitCommit = "git_commit", blas, cpu, blasCoreByRank = "blas_core_by_rank"
        case commWaitingByRank = "comm_waiting_by_rank"
    }

    package static func current(hostnames: [String], mpiLibrary: String, blasCoreByRank: [String]? = nil, commWaitingByRank: [String]? = nil,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> RunMetadata {
        RunMetadata(runID: UUID().uuidString.lowercased(), slurmJobID: environment["SLURM_JOB_ID"], slurmStepID: environment["SLURM_STEP_ID"], hostnames: hostnames,
                    cpuModel: BuildInfo.cpuModel, cpuCount: BuildInfo.cpuCount, memoryGB: (BuildInfo.memoryGB * 10).rounded() / 10,
                    kernel: BuildInfo.kernel, mpiLibrary: mpiLibrary, ringwattVersion: BuildInfo.version, gitCommit: BuildInfo.gitCommit,
                    blas: BLASSetup.info, cpu: CPUInfo.current?.description, blasCoreByRank: blasCoreByRank, commWaitingByRank: commWaitingByRank)
    }
}
