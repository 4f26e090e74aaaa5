import Energy
import Foundation
import Model
import Support

/// One physical machine's running account: its joules (its counters' and its ranks' estimates),
/// its idle power, and the sufficient statistics of its phase-power fits. Checkpoints carry it.
struct MachineTotals: Codable, Equatable {
    var energyJ = 0.0
    /// By phase (Phase order): its ranks' process joules and its counters' (apportioned to phases).
    var phaseJoules = [Double](repeating: 0, count: Phase.allCases.count)
    /// Watts with every rank asleep (nil: not measured, e.g. --idle-seconds 0).
    var idleWatts: Double?
    /// "measured" (counters read while idle), "estimate" (the model's node idle watts), or both joined by "+".
    var idleSource: String?
    /// Fits of the machine-wide counters' curve against the mean phase time of the machine's ranks,
    /// and of every rank's own (estimated) curve against its own phase time, pooled over the ranks.
    var machineFit = PhaseRegression()
    var processFit = PhaseRegression()

    enum CodingKeys: String, CodingKey {
        case energyJ = "energy_j", phaseJoules = "phase_joules", idleWatts = "idle_watts", idleSource = "idle_source"
        case machineFit = "machine_fit", processFit = "process_fit"
    }

    /// The machine's phase powers: the counters' fit plus `ranks` × the per-rank estimate fit
    /// (standard errors combined as independent).
    func phasePower(ranks: Int) -> [String: PhaseRegression.Estimate]? {
        let a = machineFit.intervals > 0 ? machineFit.fit() : nil, b = processFit.intervals > 0 ? processFit.fit() : nil
        guard a != nil || b != nil else { return nil }
        var result: [String: PhaseRegression.Estimate] = [:]
        for phase in PhaseRegression.phases {
            let x = a?[phase], y = b?[phase]
            guard x != nil || y != nil else { continue }
            let k = Double(ranks)
            let watts = (x?.watts ?? 0) + k * (y?.watts ?? 0)
            let se: Double? = (x == nil || x?.standardError != nil) && (y == nil || y?.standardError != nil)
                ? ((x?.standardError ?? 0) * (x?.standardError ?? 0) + k * k * (y?.standardError ?? 0) * (y?.standardError ?? 0)).squareRoot()
                : nil
            result[phase] = PhaseRegression.Estimate(watts: watts, standardError: se)
        }
        return result
    }
}

/// Adds a flush's sample intervals to the machines' phase-power fits. A power row is one rank's
/// sample interval [t0, t1] with the mean watts of each of its sources; the phase times come from
/// the ranks' iteration records, which tile each rank's loop. The previous flush's records are
/// kept, since a flush's first interval began before its first record.
struct PhaseFitter {
    private var previous: [[IterationRecord]] = []

    /// `rows[r]`: rank r's rows [t0, t1, watts per source…]; `records[r]`: its records this flush.
    mutating func add(rows: [[Double]], records: [[IterationRecord]], plan: PowerPlan, into machines: inout [MachineTotals]) {
        let covering = records.indices.map { r in (r < previous.count ? previous[r] : []) + records[r] }
        for (r, flat) in rows.enumerated() {
            let m = plan.machineOf[r]
            guard m < machines.count else { continue }
            PowerRows.forEach(flat, sources: plan.allSourceNames[r].count) { t0, t1, watts in
                var machineWatts = 0.0, processWatts = 0.0
                for (j, w) in watts.enumerated() {
                    if plan.isMachineWide(rank: r, source: j) { machineWatts += w } else { processWatts += w }
                }
                guard t1 > t0 else { return }
                if processWatts != 0, let own = Self.phaseSeconds(covering[r], t0, t1) {
                    machines[m].processFit.add(joules: processWatts * (t1 - t0), seconds: own)
                }
                if machineWatts != 0 {
                    let ranks = plan.ranks(onMachine: m)
                    let each = ranks.compactMap { Self.phaseSeconds(covering[$0], t0, t1) }
                    guard each.count == ranks.count else { return }
                    let mean = (0..<3).map { k in each.map { $0[k] }.reduce(0, +) / Double(each.count) }
                    machines[m].machineFit.add(joules: machineWatts * (t1 - t0), seconds: mean)
                }
            }
        }
        previous = records
    }

    /// Seconds of [t0, t1] the records spend in compute, in comm, and in anything else; nil when
    /// they do not cover the whole window.
    static func phaseSeconds(_ records: [IterationRecord], _ t0: Double, _ t1: Double) -> [Double]? {
        guard let first = records.first, let last = records.last, first.start <= t0, last.end >= t1 else { return nil }
        var compute = 0.0, comm = 0.0
        func overlap(_ record: IterationRecord, _ phase: Phase) -> Double {
            let a = record.phaseStart[phase], b = a + record.phaseSeconds[phase]
            return max(0, min(b, t1) - max(a, t0))
        }
        for record in records where record.end > t0 && record.start < t1 {
            compute += overlap(record, .compute)
            comm += overlap(record, .comm)
        }
        return [compute, comm, max(0, (t1 - t0) - compute - comm)]
    }
}

/// summary.json's account of one physical machine.
public struct MachineSummary: Codable, Equatable, Sendable {
    public var hostname: String
    public var machineID: String
    public var bootID: String
    public var ranks: [Int]
    /// The MPI nodes (emulated hosts) on it.
    public var nodes: [Int]
    public var energyJ: Double
    public var idlePowerW: Double?
    public var idleSource: String?
    public var energyIdleJ: Double?
    public var energyDynamicJ: Double?
    /// Fitted power while the machine's ranks are in each phase (compute, comm, other), ± standard error.
    public var phasePowerW: [String: PhaseRegression.Estimate]?
    public var fitIntervals: Int

    enum CodingKeys: String, CodingKey {
        case hostname, machineID = "machine_id", bootID = "boot_id", ranks, nodes, energyJ = "energy_j"
        case idlePowerW = "idle_power_w", idleSource = "idle_source", energyIdleJ = "energy_idle_j"
        case energyDynamicJ = "energy_dynamic_j", phasePowerW = "phase_power_w", fitIntervals = "fit_intervals"
    }
}

/// Whether the windows the figures are about are longer than what measures them.
public struct EnergyResolution: Codable, Equatable, Sendable {
    public var sampleIntervalS: Double
    /// Each source's update interval ("kind,domain" → seconds), where it has a sensor.
    public var sourceUpdateIntervalS: [String: Double]
    public var meanIterationS: Double
    public var meanPhaseS: [String: Double]
    /// Windows shorter than what measures them, in words; empty when none is.
    public var shorterThanMeasured: [String]
    public var note: String

    enum CodingKeys: String, CodingKey {
        case sampleIntervalS = "sample_interval_s", sourceUpdateIntervalS = "source_update_interval_s"
        case meanIterationS = "mean_iteration_s", meanPhaseS = "mean_phase_s", shorterThanMeasured = "shorter_than_measured", note
    }

    init(sampleHz: Double, updateIntervals: [String: Double], iterations: Int, seconds: Double, phaseSeconds: [String: Double]) {
        sampleIntervalS = 1 / sampleHz
        sourceUpdateIntervalS = updateIntervals
        let n = Double(max(1, iterations))
        meanIterationS = seconds / n
        meanPhaseS = phaseSeconds.mapValues { $0 / n }
        var short: [String] = []
        func ms(_ s: Double) -> String { String(format: "%.3g ms", s * 1e3) }
        if meanIterationS < sampleIntervalS {
            short.append("iterations (mean \(ms(meanIterationS))) are shorter than the \(ms(sampleIntervalS)) sampling interval")
        }
        for phase in ["compute", "comm"] {
            guard let t = meanPhaseS[phase], t > 0 else { continue }
            for (source, interval) in updateIntervals.sorted(by: { $0.key < $1.key }) where t < interval {
                short.append("\(phase) phases (mean \(ms(t))) are shorter than \(source)'s \(ms(interval)) update interval")
            }
        }
        shorterThanMeasured = short
        note = short.isEmpty
            ? "every iteration spans several power samples: per-iteration energies are measured differences of the sampled counters"
            : "a window shorter than the sampling or update interval is not resolved: its energy in iterations.jsonl and "
              + "energy_by_phase_j is apportioned (the sampled curve interpolated over the window, in effect mean power × time); "
              + "phase_power_w is the fit over many sample intervals that tells the phases apart"
    }
}

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

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", slurmJobID = "slurm_job_id", slurmStepID = "slurm_step_id", hostnames, cpuModel = "cpu_model"
        case cpuCount = "cpu_count", memoryGB = "memory_gb", kernel, mpiLibrary = "mpi_library"
        case ringwattVersion = "ringwatt_version", gitCommit = "git_commit", blas, cpu, blasCoreByRank = "blas_core_by_rank"
    }

    static func current(hostnames: [String], mpiLibrary: String, blasCoreByRank: [String]? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> RunMetadata {
        RunMetadata(runID: UUID().uuidString.lowercased(), slurmJobID: environment["SLURM_JOB_ID"], slurmStepID: environment["SLURM_STEP_ID"], hostnames: hostnames,
                    cpuModel: BuildInfo.cpuModel, cpuCount: BuildInfo.cpuCount, memoryGB: (BuildInfo.memoryGB * 10).rounded() / 10,
                    kernel: BuildInfo.kernel, mpiLibrary: mpiLibrary, ringwattVersion: BuildInfo.version, gitCommit: BuildInfo.gitCommit,
                    blas: BLASSetup.info, cpu: CPUInfo.current?.description, blasCoreByRank: blasCoreByRank)
    }
}
