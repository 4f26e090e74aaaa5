import Foundation
import Testing

/// Training that survives: the launchers restart a job whose rank died, from its last checkpoint,
/// and not one whose failure a restart would meet again; a preemption warning (SIGUSR1) stops
/// every rank with a checkpoint and status "preempted", and the resumed run ends bit-identical.
@Suite(.serialized) struct RestartTests {
    static let job = ["--data", "synthetic:3000:16:4", "--layers", "16-8-4", "--batch-size", "8", "--steps", "120",
                      "--flush-every", "10", "--checkpoint-every", "10", "--idle-seconds", "0"]
    static var local: String { Harness.repository + "/launch/local.sh" }

    func uninterruptedChecksum(_ dir: String) throws -> String? {
        #expect(try Harness.mpirun(2, ["train"] + Self.job + ["--out", dir + "/quiet"]).status == 0)
        return try Harness.json(dir + "/quiet/summary.json")["parameter_checksum"]?.string
    }

    @Test func aDeadRankIsRestartedFromTheLastCheckpoint() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let kill = ["RINGWATT_FAULT_KILL_AT": "1:35", "RINGWATT_BIN": Harness.binary]
        // Without restarts the job ends with the dead rank.
        let once = try Harness.run("/bin/bash", [Self.local, "2"] + Self.job + ["--out", dir + "/once"], environment: kill)
        #expect(once.status != 0 && !once.stderr.contains("restart 1"), "\(once.all)")
        #expect(try Harness.ringwatt(["resumable", dir + "/once"]).stdout.contains("resume: the job ended without a summary"))
        // With one restart it resumes from iteration 30 and finishes as if nothing had happened.
        let run = try Harness.run("/bin/bash", [Self.local, "2", "--max-restarts", "1"] + Self.job + ["--out", dir + "/run"], environment: kill)
        #expect(run.status == 0, "\(run.all)")
        #expect(run.stderr.contains("ringwatt: restart 1 of 1 from the last checkpoint in \(dir)/run"), "\(run.stderr)")
        let s = try Harness.json(dir + "/run/summary.json")
        #expect(s["status"]?.string == "complete" && s["iterations"]?.double == 120)
        #expect(s["parameter_checksum"]?.string == (try uninterruptedChecksum(dir)))
        // What the fault cost: one restart, recorded with its reason; the redone lines kept apart,
        // every iteration once in the final log, the redone energy their sum, the gap charged.
        let iters = try String(contentsOfFile: dir + "/run/iterations.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSON.parse(String($0))["iter"]?.double }
        #expect(iters == (0..<120).map(Double.init))
        let redone = ((try? String(contentsOfFile: dir + "/run/iterations.redone.jsonl", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSON.parse(String($0)) }
        let records = try String(contentsOfFile: dir + "/run/restarts.jsonl", encoding: .utf8).split(separator: "\n").map { try JSON.parse(String($0)) }
        try #require(records.count == 1)
        let r = records[0]
        #expect(r["reason"]?.string?.contains("process rank 1 on node") == true && r["reason"]?.string?.contains("signal 9") == true, "\(r)")
        #expect(r["resumed_from_iteration"]?.double == 30 && r["previous_status"]?.string == "no summary (a rank died or hung)")
        #expect(r["iterations_redone"]?.double == Double(redone.count) && redone.count <= 5, "killed at 35, checkpointed at 30")
        #expect(redone.map { $0["iter"]?.double ?? -1 } == (0..<redone.count).map { Double(30 + $0) })
        let redoneJ = redone.compactMap { $0["energy_j"]?.double }.reduce(0, +)
        #expect(abs((r["redone_j"]?.double ?? -1) - redoneJ) <= 1e-9 * max(1, redoneJ))
        let gap = try #require(r["gap_s"]?.double), idle = try #require(r["idle_power_w"]?.double)
        #expect(r["gap_charged"]?.bool == true && gap > 0 && abs((r["gap_j"]?.double ?? -1) - gap * idle) <= 1e-9 * gap * idle)
        let f = try #require(s["faults"])
        #expect(f["restarts"]?.double == 1 && f["iterations_redone"]?.double == Double(redone.count))
        #expect(f["goodput"]?.double == 120 / Double(120 + redone.count))
        let wasted = try #require(f["wasted_j"]?.double)
        #expect(abs(wasted - (redoneJ + gap * idle)) <= 1e-9 * wasted)
        #expect(abs((f["energy_with_waste_j"]?.double ?? 0) - (s["energy_j"]!.double! + wasted)) <= 1e-9 * wasted)
        #expect(try Harness.ringwatt(["report", dir + "/run"]).stdout.contains("1 restart(s)"))
        // And for Prometheus: the restarts and the wasted joules as counters.
        let metrics = try String(contentsOfFile: dir + "/run/metrics.prom", encoding: .utf8).split(separator: "\n")
        func metric(_ name: String) -> Double? {
            metrics.first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        #expect(metric("ringwatt_restarts_total") == 1 && metric("ringwatt_redone_iterations_total") == Double(redone.count))
        #expect(abs((metric("ringwatt_wasted_joules_total") ?? -1) - wasted) <= 1e-9 * wasted)
    }

    @Test func aFailureARestartWouldMeetAgainIsNotRestarted() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Harness.run("/bin/bash", [Self.local, "2", "--max-restarts", "3"] + Self.job
                                  + ["--lr", "1e30", "--on-nonfinite", "stop", "--out", dir + "/nan"], environment: ["RINGWATT_BIN": Harness.binary])
        #expect(out.status != 0 && out.stderr.contains("ringwatt: not restarting: the run failed"), "\(out.all)")
        #expect(!out.stderr.contains("restart 1"))
        let bad = try Harness.run("/bin/bash", [Self.local, "1", "--max-restarts", "2", "--batch-size", "0", "--out", dir + "/bad"],
                                  environment: ["RINGWATT_BIN": Harness.binary])
        #expect(bad.status != 0 && bad.stderr.contains("not restarting: no checkpoint"), "\(bad.all)")
        let none = try Harness.ringwatt(["resumable", dir + "/nowhere"])
        #expect(none.status == 1 && none.stdout.hasPrefix("do not resume: no checkpoint"))
    }

    /// Slurm's warning before a time limit or preemption is SIGUSR1 (`--signal=B:USR1@…`): here it
    /// reaches every rank at iteration 35 through the fault hook, deterministically.
    @Test func aPreemptionWarningStopsWithACheckpointAndTheResumeIsBitIdentical() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stopped = try Harness.mpirun(2, ["train"] + Self.job + ["--out", dir + "/p"],
                                         environment: ["RINGWATT_FAULT_STOP_AT": "35:\(SIGUSR1)"])
        #expect(stopped.status == 3, "\(stopped.all)")
        let s = try Harness.json(dir + "/p/summary.json")
        #expect(s["status"]?.string == "preempted" && s["iterations"]?.double == 36, "\(s)")
        let advice = try Harness.ringwatt(["resumable", dir + "/p"])
        #expect(advice.status == 0 && advice.stdout.contains("stopped (preempted) at iteration 36"), "\(advice.all)")
        #expect(try Harness.mpirun(2, ["train"] + Self.job + ["--resume", dir + "/p"]).status == 0)
        let done = try Harness.json(dir + "/p/summary.json")
        #expect(done["status"]?.string == "complete")
        // A resume by hand after a clean stop: nothing redone, the gap recorded but not charged.
        let r = try JSON.parse(try String(contentsOfFile: dir + "/p/restarts.jsonl", encoding: .utf8))
        #expect(r["reason"]?.string == "resumed by hand (--resume)" && r["previous_status"]?.string == "preempted")
        #expect(r["iterations_redone"]?.double == 0 && r["gap_charged"]?.bool == false && r["gap_j"] == nil, "\(r)")
        #expect(done["faults"]?["wasted_j"]?.double == 0 && done["faults"]?["goodput"]?.double == 1)
        #expect(done["parameter_checksum"]?.string == (try uninterruptedChecksum(dir)))
    }

    /// After losing ranks, a run resumes on another rank count with the same global batch: from
    /// the same step, weights and optimizer state, each step's samples split over the new ranks
    /// (the same samples, summed in another order: the loss agrees to float rounding). A rank count
    /// that would change the global batch is refused, saying how to keep it.
    @Test func aRunResumesOnAnotherRankCountWithTheSameGlobalBatch() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = Self.job.filter { $0 != "--batch-size" && $0 != "8" }
        #expect(try Harness.mpirun(2, ["train"] + base + ["--batch-size", "16", "--out", dir + "/a"],
                                   environment: ["RINGWATT_FAULT_STOP_AT": "35"]).status == 3)
        let wrong = try Harness.mpirun(4, ["train"] + base + ["--batch-size", "16", "--resume", dir + "/a"])
        #expect(wrong.status != 0 && wrong.stderr.contains("a global batch of 32") && wrong.stderr.contains("resume with --batch-size 8 on 4 ranks"),
                "\(wrong.all)")
        let four = try Harness.mpirun(4, ["train"] + base + ["--batch-size", "8", "--resume", dir + "/a"])
        #expect(four.status == 0, "\(four.all)")
        #expect(try Harness.mpirun(2, ["train"] + base + ["--batch-size", "16", "--out", dir + "/two"]).status == 0)
        let a = try Harness.json(dir + "/a/summary.json"), two = try Harness.json(dir + "/two/summary.json")
        #expect(a["status"]?.string == "complete" && a["ranks"]?.double == 4 && a["iterations"]?.double == 120)
        let la = try #require(a["final_loss"]?.double), l2 = try #require(two["final_loss"]?.double)
        #expect(abs(la - l2) <= 1e-4 * max(abs(l2), 1e-3), "loss on 2 → 4 ranks \(la), on 2 ranks \(l2)")
        // The energy accounts continue: every rank's share adds up to the run's energy.
        let shares = try #require(a["rank_energy_j"]?.array).compactMap(\.double)
        #expect(shares.count == 4 && abs(shares.reduce(0, +) - a["energy_j"]!.double!) <= 1e-6 * a["energy_j"]!.double!)
    }

    /// After losing ranks (or gaining them), --elastic resumes with another global batch: the
    /// weights and optimizer state continue from the checkpoint, the data from the samples the
    /// epoch had used, the schedule by samples seen (each iteration of 4 × 16 advances it two
    /// steps of 2 × 16; of 2 × 8, half a step of 4 × 8), and --steps 120 means 120 × 32 samples.
    /// Without --elastic the same resume is refused, naming the option.
    @Test func anElasticResumeChangesTheGlobalBatchAndContinuesBySamplesSeen() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = ["--data", "synthetic:3840:16:4", "--layers", "16-8-4", "--steps", "120", "--flush-every", "10",
                   "--checkpoint-every", "10", "--idle-seconds", "0", "--schedule", "cosine", "--quiet"]
        #expect(try Harness.mpirun(2, ["train"] + job + ["--batch-size", "16", "--out", dir + "/ref"]).status == 0)
        func lines(_ run: String) throws -> [JSON] {
            try String(contentsOfFile: dir + "/\(run)/iterations.jsonl", encoding: .utf8).split(separator: "\n").map { try JSON.parse(String($0)) }
        }
        let ref = try lines("ref")
        let refLR = ref.map { $0["lr"]?.double ?? .nan }, refLoss = ref.map { $0["loss"]?.double ?? .nan }
        for (from, to, iterations, stepOf) in [((2, 16), (4, 16), 78, { (k: Int) in 36 + 2 * k }), ((4, 8), (2, 8), 204, { (k: Int) in 36 + k / 2 })] {
            let name = "e\(from.0)to\(to.0)"
            #expect(try Harness.mpirun(from.0, ["train"] + job + ["--batch-size", "\(from.1)", "--out", dir + "/" + name],
                                       environment: ["RINGWATT_FAULT_STOP_AT": "35"]).status == 3)
            let refused = try Harness.mpirun(to.0, ["train"] + job + ["--batch-size", "\(to.1)", "--resume", dir + "/" + name])
            #expect(refused.status != 0 && refused.stderr.contains("or pass --elastic"), "\(refused.all)")
            let resumed = try Harness.mpirun(to.0, ["train"] + job + ["--batch-size", "\(to.1)", "--resume", dir + "/" + name, "--elastic"])
            #expect(resumed.status == 0, "\(resumed.all)")
            let s = try Harness.json(dir + "/\(name)/summary.json")
            #expect(s["status"]?.string == "complete" && s["iterations"]?.double == Double(iterations) && s["samples"]?.double == 3840
                    && s["epochs"]?.double == 1 && s["ranks"]?.double == Double(to.0), "\(name): \(s)")
            let run = try lines(name)
            #expect(run.count == iterations && run.map { $0["iter"]?.double ?? -1 } == (0..<iterations).map(Double.init))
            #expect(run.prefix(36).map { $0["lr"]?.double ?? .nan } == Array(refLR.prefix(36)))
            #expect((0..<(iterations - 36)).allSatisfy { run[36 + $0]["lr"]?.double == refLR[stepOf($0)] }, "\(name): the schedule by samples seen")
            // No jump: the first resumed losses lie within what the uninterrupted run's losses do around that point.
            let around = refLoss[26..<46], first = run[36..<39].compactMap { $0["loss"]?.double }
            #expect(first.allSatisfy { $0 >= around.min()! * 0.8 && $0 <= around.max()! * 1.2 }, "\(name): \(first) against \(Array(around))")
            #expect(try JSON.parse(try String(contentsOfFile: dir + "/\(name)/restarts.jsonl", encoding: .utf8))["ranks_before"]?.double == Double(from.0))
        }
    }
}
