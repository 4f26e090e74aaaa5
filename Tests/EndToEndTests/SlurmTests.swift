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
        try preemptedJobRequeuesAndResumesBitIdentical(slurmConf: slurmDir + "/slurm.conf", dir: dir)
        let down = try Harness.run("/usr/bin/env", ["RINGWATT_SLURM_DIR=\(slurmDir)", "/bin/bash", local, "down"])
        #expect(down.status == 0)
        #expect(!FileManager.default.fileExists(atPath: slurmDir + "/slurmctld.pid"), "stopped by its pid files")
    }

    /// Slurm's warning before preemption (SIGUSR1 to every rank, as --signal=USR1@… sends it):
    /// the ranks checkpoint and stop "preempted", the job requeues itself, and the requeued job
    /// resumes and ends bit-identical to a run never interrupted. (A requeued job waits two minutes
    /// before it may start again; the test lets it start at once.)
    func preemptedJobRequeuesAndResumesBitIdentical(slurmConf: String, dir: String) throws {
        // The job outlives sbatch, and with it the session base the harness gives sbatch: give it one of the test's.
        let session = dir + "/ompi-session"
        try FileManager.default.createDirectory(atPath: session, withIntermediateDirectories: true)
        let env = ["SLURM_CONF=\(slurmConf)", "OMPI_MCA_orte_tmpdir_base=\(session)"]
        func slurm(_ arguments: [String]) throws -> Harness.Output { try Harness.run("/usr/bin/env", env + arguments) }
        let out = dir + "/preempted", job = ["--data", "synthetic:3000:16:4", "--layers", "16-8-4", "--batch-size", "8",
                                               "--steps", "30000", "--flush-every", "10", "--checkpoint-every", "50", "--idle-seconds", "0", "--quiet"]
        let submitted = try slurm(["RINGWATT_OUT=\(out)", "RINGWATT_BIN=\(Harness.binary)", "sbatch", "--nodes=1", "--ntasks-per-node=2",
                                   "--output=\(dir)/preempted-%j.txt", "--chdir=\(Harness.repository)",
                                   Harness.repository + "/launch/slurm.sbatch"] + job)
        let id = submitted.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        try #require(submitted.status == 0 && !id.isEmpty, "\(submitted.all)")
        func state() throws -> String { try slurm(["squeue", "-h", "-j", id, "-o", "%T"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        func wait(_ what: String, _ done: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(120)
            while try !done() {
                try #require(Date() < deadline, "timed out waiting for \(what)")
                usleep(100_000)
            }
        }
        try wait("the first checkpoint") { FileManager.default.fileExists(atPath: out + "/checkpoint.bin") }
        #expect(try slurm(["scancel", "--signal=USR1", id]).status == 0)
        try wait("the requeue") { try state() == "PENDING" }
        _ = try slurm(["scontrol", "update", "jobid=\(id)", "StartTime=now"])
        try wait("the requeued job to finish") { try state().isEmpty }
        let log = (try? String(contentsOfFile: "\(dir)/preempted-\(id).txt", encoding: .utf8)) ?? ""
        #expect(log.contains("requeueing job \(id) to resume") && log.contains("ringwatt: resuming \(out)"), "\(log)")
        let s = try Harness.json(out + "/summary.json")
        #expect(s["status"]?.string == "complete" && s["iterations"]?.double == 30000, "\(log)")
        // The requeue is the run's restart: named, from a clean stop, its queue wait not charged.
        let r = try JSON.parse(try String(contentsOfFile: out + "/restarts.jsonl", encoding: .utf8))
        #expect(r["reason"]?.string == "requeued by Slurm (job \(id), restart 1)" && r["previous_status"]?.string == "preempted"
                && r["gap_charged"]?.bool == false && r["iterations_redone"]?.double == 0, "\(r)")
        #expect(try Harness.mpirun(2, ["train"] + job + ["--out", dir + "/quiet"]).status == 0)
        #expect(s["parameter_checksum"]?.string == (try Harness.json(dir + "/quiet/summary.json"))["parameter_checksum"]?.string)
    }
}
