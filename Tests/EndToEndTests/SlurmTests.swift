import Foundation
import Testing

/// launch/slurm.sbatch under a real Slurm: a one-machine cluster (launch/slurm-local.sh) takes a
/// 2-rank job through srun --mpi=pmix, and the run directory records the job's id. Root only.
@Suite(.serialized) struct SlurmTests {
    @Test(.enabled(if: getuid() == 0, "needs root to start slurmd and munged"))
    func sbatchRunsTwoRanksAndTheSummaryNamesTheJob() throws {
        let local = Harness.repository + "/launch/slurm-local.sh"
        let slurmDir = Harness.temporaryDirectory()
        let up = try Harness.run("/usr/bin/env", ["RINGWATT_SLURM_DIR=\(slurmDir)", "/bin/bash", local, "up"])
        defer { _ = try? Harness.run("/usr/bin/env", ["RINGWATT_SLURM_DIR=\(slurmDir)", "/bin/bash", local, "down"]) }
        try #require(up.status == 0, "\(up.all)")
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for launcher in ["srun", "mpirun"] {
            let out = dir + "/" + launcher
            let job = try Harness.run("/usr/bin/env", [
                "SLURM_CONF=\(slurmDir)/slurm.conf", "RINGWATT_OUT=\(out)", "RINGWATT_BIN=\(Harness.binary)", "RINGWATT_LAUNCHER=\(launcher)",
                "sbatch", "--wait", "--nodes=1", "--ntasks-per-node=2", "--output=\(dir)/\(launcher)-%j.txt",
                "--chdir=\(Harness.repository)", Harness.repository + "/launch/slurm.sbatch",
                "--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--steps", "50", "--quiet"])
            let log = (try? String(contentsOfFile: dir + "/\(launcher)-1.txt", encoding: .utf8)) ?? ""
            #expect(job.status == 0, "\(launcher): \(job.all) \(log)")
            let id = job.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
            let s = try Harness.json(out + "/summary.json")
            #expect(s["ranks"]?.double == 2, "\(launcher): two ranks")
            #expect(!id.isEmpty && s["metadata"]?["slurm_job_id"]?.string == id, "\(launcher): job \(id), summary \(String(describing: s["metadata"]))")
        }
        let down = try Harness.run("/usr/bin/env", ["RINGWATT_SLURM_DIR=\(slurmDir)", "/bin/bash", local, "down"])
        #expect(down.status == 0)
        #expect(!FileManager.default.fileExists(atPath: slurmDir + "/slurmctld.pid"), "stopped by its pid files")
    }
}
