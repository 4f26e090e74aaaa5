import ArgumentParser
import Collectives
import Energy
import Foundation
import Model
import MPI
import Support

extension BLASWorkload: ExpressibleByArgument {}

/// What decides speed and energy on this node, each problem with its fix.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what decides speed and energy on this node: CPU, BLAS core, MPI, power sources, Slurm — each problem with its fix.")

    @Option(help: "Whose products the BLAS core is chosen on: mlp or gpt.") var workload = BLASWorkload.mlp
    @Flag(help: "Measure the BLAS cores valid for this CPU again (verify against float64, time) and rewrite the cache.")
    var redoBlas = false
    @OptionGroup var roots: SourceRootOptions

    func run() throws {
        var problems: [String] = []
        let cpu = CPUInfo.current
        print("cpu      \(cpu?.description ?? "unknown (no /proc/cpuinfo)")")
        let blas = BLASSetup.info
        print("blas     \(blas.line)" + (blas.note.map { "; \($0)" } ?? ""))
        print("         \(blas.config)")
        problems += try blasSurvey(cpu: cpu, blas: blas)
        print("mpi      \(MPITransport.libraryVersion())")
        print("power")
        for finding in PowerDiagnosis.run(powercapRoot: roots.powercapRoot, hwmonRoot: roots.hwmonRoot) {
            print("  \(finding.source): \(finding.status.rawValue) — \(finding.detail)")
            if let fix = finding.fix, finding.status != .absent || finding.source == "RAPL" { problems.append("\(finding.source): \(fix)") }
        }
        let slurm = ["sinfo", "srun", "sbatch"].filter { Self.onPath($0) }
        let job = ProcessInfo.processInfo.environment["SLURM_JOB_ID"].map { ", inside job \($0)" } ?? ""
        print("slurm    " + (slurm.isEmpty ? "not installed (launch/slurm-local.sh starts a one-machine Slurm after scripts/install-deps.sh)"
                                            : "\(slurm.joined(separator: ", ")) on PATH\(job)"))
        print(problems.isEmpty ? "no problems found" : "problems and fixes:")
        for problem in problems { print("  - \(problem)") }
    }

    /// The measured cores (cached, or measured now with --redo-blas); a problem if a faster
    /// verified core exists than the one running.
    func blasSurvey(cpu: CPUInfo?, blas: BLASInfo) throws -> [String] {
        guard let cpu, case let candidates = BLASCoreChoice.candidates(for: cpu), !candidates.isEmpty else { return [] }
        let libraryCore = ProcessInfo.processInfo.environment["RINGWATT_BLAS_UPGRADED_FROM"] ?? (blas.choice.hasPrefix("user") ? "?" : blas.core)
        let planned = BLASCoreChoice.plan(cpu: cpu, libraryCore: libraryCore, userCoreType: nil, disabled: false)
        if !redoBlas, case .keep = planned { print("         the library's \(libraryCore) fits this CPU: nothing to measure (--redo-blas measures anyway)"); return [] }
        let (entry, _) = try BLASSetup.survey(candidates: candidates, libraryCore: libraryCore, redo: redoBlas)
        let best = entry.results.filter { $0.accepted && $0.verified }.min { $0.seconds(workload) < $1.seconds(workload) }
        print("         measured \(entry.measuredAt) (\(workload.rawValue) products, medians; verified against float64):")
        for r in entry.results {
            let name = r.requested ?? "\(r.core) (library's choice)"
            let state = !r.accepted ? "not accepted by this library" : !r.verified ? "FAILED verification"
                : String(format: "%.3f ms MLP step, %.2f ms GPT block, error ≤ %.3f × bound", r.mlpSeconds * 1e3, r.gptSeconds * 1e3, r.worstErrorRatio ?? .nan)
            let marks = (r.core.lowercased() == blas.core.lowercased() && r.accepted ? "  ← running" : "") + (r == best ? "  ← fastest" : "")
            print("           \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(state)\(marks)")
        }
        if let best, best.core.lowercased() != blas.core.lowercased(), best.seconds(workload) * 1.03 < (entry.results.first { $0.core == blas.core }?.seconds(workload) ?? .infinity) {
            return ["BLAS: \(best.core) is faster here than the running \(blas.core): unset OPENBLAS_CORETYPE and RINGWATT_BLAS_UPGRADE to let Ringwatt choose"]
        }
        return []
    }

    static func onPath(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains { access("\($0)/\(name)", X_OK) == 0 }
    }
}
