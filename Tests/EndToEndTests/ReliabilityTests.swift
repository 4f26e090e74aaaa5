import Foundation
import Testing
import Fixtures
@testable import Accounting
@testable import RunFiles
@testable import Trainer

/// Faults: dead ranks, signals, stalls, divergence, non-finite values, corrupt checkpoints.
@Suite(.serialized) struct ReliabilityTests {
    static let job = ["train", "--data", "synthetic:16000:128:10", "--layers", "128-96-10", "--batch-size", "8",
                      "--epochs", "3", "--flush-every", "10", "--checkpoint-every", "40", "--sample-hz", "100"]

    /// Runs mpirun with one rank sending itself `signal` at `iteration` (RINGWATT_FAULT_KILL_AT):
    /// the signal lands mid-run every time, where one sent from here would race a short run to
    /// its end. Returns the job's exit status and its output (stdout and stderr together).
    func signalled(_ ranks: Int, _ arguments: [String], rank: Int, iteration: Int, signal: Int32) throws -> (Int32, String) {
        let job = try Harness.mpirun(ranks, arguments, environment: ["RINGWATT_FAULT_KILL_AT": "\(rank):\(iteration):\(signal)"])
        return (job.status, job.all)
    }

    func weights(_ dir: String) -> Data? { FileManager.default.contents(atPath: dir + "/weights.bin") }

    /// The tiny GPT's job: long enough to be killed in the middle.
    static let gptJob = ["train", "--model", "gpt", "--size", "tiny", "--batch-size", "4", "--steps", "1500",
                         "--flush-every", "10", "--checkpoint-every", "40", "--sample-hz", "100", "--eval-windows", "32"]

    @Test func killedRankEndsTheJobAndResumeIsBitIdentical() throws {
        try killResumeAndCompare(Self.job)
    }

    @Test func killedGPTRankResumesBitIdentical() throws {
        try killResumeAndCompare(Self.gptJob)
    }

    func killResumeAndCompare(_ arguments: [String]) throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reference = try Harness.mpirun(4, arguments + ["--out", dir + "/reference"])
        #expect(reference.status == 0, "\(reference.all)")

        let (status, output) = try signalled(4, arguments + ["--out", dir + "/run", "--stall-seconds", "5"],
                                             rank: 2, iteration: 300, signal: SIGKILL)
        #expect(status != 0)
        #expect((try? Harness.json(dir + "/run/summary.json"))?["status"]?.string != "complete", "\(output)")
        let checkpoint = try Checkpoint.read(directory: dir + "/run")
        #expect(checkpoint.header.step == 280, "the last checkpoint before iteration 300 (every 40)")

        let resumed = try Harness.mpirun(4, arguments + ["--resume", dir + "/run"])
        #expect(resumed.status == 0, "\(resumed.all)")
        #expect(resumed.stderr.contains("resuming"), "notes go to stderr through swift-log")
        #expect(weights(dir + "/run") == weights(dir + "/reference") && weights(dir + "/run") != nil, "bit-identical final weights")
        let its = try Harness.lines(dir + "/run/iterations.jsonl").map { Int($0["iter"]!.double!) }
        #expect(its == Array(0..<its.count), "iterations.jsonl continues without gaps or duplicates")
        let a = try Harness.json(dir + "/run/summary.json"), b = try Harness.json(dir + "/reference/summary.json")
        #expect(a["iterations"]?.double == b["iterations"]?.double)
        // Energy totals carry over: the resumed run's total is the checkpoint's total plus what the
        // iterations after it used, and still equals the sum over all lines of iterations.jsonl.
        // (Comparing with the reference run's joules would measure machine load, not carry-over.)
        let atCheckpoint = checkpoint.header.phaseJoules.reduce(0, +)
        let step = checkpoint.header.step
        let lines = try Harness.lines(dir + "/run/iterations.jsonl").map { $0["energy_j"]!.double! }
        let total = a["energy_j"]!.double!
        #expect(atCheckpoint > 0 && total > atCheckpoint, "energy totals carry over")
        #expect(abs(atCheckpoint + lines[step...].reduce(0, +) - total) <= 1e-3 * total, "checkpoint + resumed iterations = total")
        #expect(abs(lines.reduce(0, +) - total) <= 1e-3 * total, "the file and the summary agree across the resume")
    }

    @Test func sigtermStopsCleanlyWithCheckpointAndStatus() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One rank gets SIGTERM; the request reaches the others through the all-reduce.
        let (status, output) = try signalled(3, Self.job + ["--out", dir], rank: 1, iteration: 200, signal: SIGTERM)
        #expect(status != 0, "an interrupted run exits non-zero")
        let s = try Harness.json(dir + "/summary.json")
        #expect(s["status"]?.string == "interrupted", "\(output)")
        #expect((s["iterations"]?.double ?? 0) >= 200 && (s["iterations"]?.double ?? .infinity) < 1500, "stopped mid-run")
        let checkpoint = try Checkpoint.read(directory: dir)
        #expect(Double(checkpoint.header.step) == s["iterations"]?.double, "checkpoint at the stopping iteration")
        #expect(output.contains("resume with --resume"))
        let resumed = try Harness.mpirun(3, Self.job + ["--resume", dir])
        #expect(resumed.status == 0, "\(resumed.all)")
        #expect((try Harness.json(dir + "/summary.json"))["status"]?.string == "complete")
    }

    @Test func stalledRankIsReportedAndTheJobAborted() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Rank 2 stops itself (SIGSTOP): alive but silent; the others wait for it in the all-reduce.
        let (status, output) = try signalled(3, Self.job + ["--out", dir, "--stall-seconds", "2"],
                                             rank: 2, iteration: 100, signal: SIGSTOP)
        #expect(status != 0)
        // The others wait for it in whichever collective it did not reach: the gradient all-reduce
        // most often, the record gather, evaluation or the replica check otherwise. Never "idle".
        let collectives = ["comm", "record gather", "eval", "verification"]
        #expect(output.contains("no progress for") && collectives.contains { output.contains("in phase '\($0)'") }
                && output.contains("a collective: this rank waits for ranks that have not arrived"), "\(output)")
    }

    @Test func divergenceNamesTheRankAndLayer() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = try Harness.mpirun(3, Self.job + ["--out", dir, "--verify-every", "10"],
                                     environment: ["RINGWATT_FAULT_PERTURB": "1:25"])
        let text = job.stderr
        #expect(job.status != 0)
        #expect(text.contains("replicas diverged at iteration 30: rank 1 layer(s) 1 differ from rank 0"), "\(text)")
        #expect((try Harness.json(dir + "/summary.json"))["status"]?.string == "failed")
    }

    @Test func nonfiniteValuesStopOrAreSkipped() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let blowUp = ["train", "--data", "synthetic:2000:32:4", "--layers", "32-16-4", "--lr", "1e30",
                      "--warmup-steps", "0", "--epochs", "1", "--out"]
        let stop = try Harness.mpirun(2, blowUp + [dir + "/stop"])
        #expect(stop.status != 0)
        #expect(stop.stderr.contains("non-finite values at iteration") && stop.stderr.contains("layer(s)"), "\(stop.all)")
        #expect((try Harness.json(dir + "/stop/summary.json"))["status"]?.string == "failed")
        let skip = try Harness.mpirun(2, blowUp + [dir + "/skip", "--on-nonfinite", "skip"])
        #expect(skip.status == 0, "\(skip.all)")
        #expect(((try Harness.json(dir + "/skip/summary.json"))["skipped_steps"]?.double ?? 0) > 0)
    }

    /// A crash mid-write leaves a torn newest checkpoint: the resume says so in one line, takes the
    /// previous one, and the run ends bit-identical to one never interrupted.
    @Test func aTornNewestCheckpointFallsBackToThePrevious() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = ["train", "--data", "synthetic:3000:16:4", "--layers", "16-8-4", "--batch-size", "8", "--steps", "120",
                   "--flush-every", "10", "--checkpoint-every", "10", "--idle-seconds", "0"]
        // Stopped (as by SIGTERM) at iteration 35, after checkpoints at 10, 20, 30 and 35.
        let stopped = try Harness.mpirun(2, job + ["--out", dir + "/a"], environment: ["RINGWATT_FAULT_STOP_AT": "35"])
        #expect(stopped.status == 3, "interrupted:\n\(stopped.all)")
        try #require(FileManager.default.fileExists(atPath: dir + "/a/checkpoint.prev.bin"), "two checkpoints were written")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/a/checkpoint.bin"))
        bytes = bytes.prefix(bytes.count / 2)  // torn: the first half of a write
        try bytes.write(to: URL(fileURLWithPath: dir + "/a/checkpoint.bin"))
        let resumed = try Harness.mpirun(2, job + ["--resume", dir + "/a"])
        #expect(resumed.status == 0, "\(resumed.all)")
        let lines = resumed.stderr.split(separator: "\n").filter { $0.contains("resuming from checkpoint.prev.bin") }
        #expect(lines.count == 1 && lines[0].contains("unusable") && lines[0].contains("(iteration 30)"), "\(resumed.stderr)")
        #expect(try Harness.mpirun(2, job + ["--out", dir + "/b"]).status == 0)
        let a = try Harness.json(dir + "/a/summary.json"), b = try Harness.json(dir + "/b/summary.json")
        #expect(a["status"]?.string == "complete" && a["iterations"]?.double == 120)
        #expect(a["parameter_checksum"]?.string == b["parameter_checksum"]?.string)
    }

    @Test func badCheckpointsAndMismatchedResumesAreRefused() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let small = ["train", "--data", "synthetic:600:8:3", "--layers", "8-4-3", "--epochs", "1"]
        // A run its energy budget stopped (at its first flush, with a checkpoint) is resumable.
        #expect(try Harness.mpirun(2, small + ["--energy-budget-j", "1e-9", "--out", dir + "/a"]).status == 0)
        #expect((try Harness.json(dir + "/a/summary.json"))["status"]?.string == "energy_budget")
        let ranks = try Harness.mpirun(3, small + ["--resume", dir + "/a"])
        #expect(ranks.status != 0 && ranks.stderr.contains("checkpoint was written by 2 ranks × batch 64 (a global batch of 128)")
                && ranks.stderr.contains("resume with mpirun -np 2"), "\(ranks.all)")
        let options = try Harness.mpirun(2, small + ["--lr", "0.5", "--resume", dir + "/a"])
        #expect(options.status != 0 && options.stderr.contains("options differ from the checkpointed run: lr"), "\(options.all)")
        let none = try Harness.mpirun(2, small + ["--resume", dir + "/nothing"])
        #expect(none.status != 0 && none.stderr.contains("no checkpoint.bin there"), "\(none.all)")
        // Both checkpoints corrupt (the previous one is the fallback for a torn newest one).
        for name in ["checkpoint.bin", "checkpoint.prev.bin"] where FileManager.default.fileExists(atPath: dir + "/a/" + name) {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/a/" + name))
            bytes[bytes.count / 2] ^= 0x40
            try bytes.write(to: URL(fileURLWithPath: dir + "/a/" + name))
        }
        let corrupt = try Harness.mpirun(2, small + ["--resume", dir + "/a"])
        #expect(corrupt.status != 0 && corrupt.stderr.contains("checksum mismatch (corrupt)"), "\(corrupt.all)")

        // A run that completed: nothing to resume, said so, and not a byte of it changes.
        #expect(try Harness.mpirun(2, small + ["--out", dir + "/done"]).status == 0)
        func files(_ path: String) -> [String: Data] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            return Dictionary(uniqueKeysWithValues: names.map { ($0, FileManager.default.contents(atPath: path + "/" + $0) ?? Data()) })
        }
        let before = files(dir + "/done")
        let again = try Harness.mpirun(2, small + ["--resume", dir + "/done"])
        #expect(again.status != 0 && again.stderr.contains("--resume \(dir)/done: that run already completed (5 iterations); nothing to resume"),
                "\(again.all)")
        #expect(files(dir + "/done") == before && before.count >= 5, "the completed run's files are untouched")
    }

    /// Thousands of random, truncated and bit-flipped checkpoints: errors, never a crash.
    @Test func checkpointReaderSurvivesFuzzing() throws {
        let header = CheckpointHeader(ranks: 1, step: 5, clockSeconds: 0.5, optimizerSteps: 5, skippedSteps: 0, evaluations: [],
                                      totals: RunTotals(ranks: 1, reducedBytes: 12, machines: 1), config: TrainConfig(),
                                      parameterCount: 3, firstMomentCount: 2, secondMomentCount: 0, data: nil)
        let good = try Checkpoint(header: header, parameters: [1, 2, 3], firstMoment: [4, 5], secondMoment: []).encode()
        #expect((try? Checkpoint.decode(good, path: "x"))?.parameters == [1, 2, 3])
        var state: UInt64 = 7
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var decoded = 0
        for trial in 0..<4000 {
            var bytes: [UInt8]
            switch trial % 4 {
            case 0: bytes = (0..<(next() % 100)).map { _ in UInt8(next() % 256) }
            case 1: bytes = Array(good.prefix(next() % (good.count + 1)))
            case 2: bytes = good; bytes[next() % bytes.count] ^= UInt8(1 << (next() % 8))
            default: bytes = Array("RWCK".utf8) + (0..<(next() % 60)).map { _ in UInt8(next() % 256) }
            }
            if (try? Checkpoint.decode(bytes, path: "fuzz")) != nil { decoded += 1 }
        }
        #expect(decoded <= 1000, "only untouched prefixes-equal-whole can decode")
    }

    /// A disk that fills while writing: a clear error, a non-zero exit, no summary claiming success.
    @Test func fullDiskIsAClearError() throws {
        let dir = Harness.temporaryDirectory()
        defer { _ = try? Harness.run("/bin/umount", [dir]); try? FileManager.default.removeItem(atPath: dir) }
        let mounted = try Harness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir])
        try #require(mounted.status == 0, "needs root to mount a small tmpfs: \(mounted.all)")
        let out = try Harness.mpirun(2, ["train", "--data", "synthetic:20000:32:4", "--layers", "32-16-4", "--batch-size", "4",
                                         "--epochs", "1", "--out", dir + "/run"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("No space left on device"), "\(out.all)")
        if let s = try? Harness.json(dir + "/run/summary.json") { #expect(s["status"]?.string != "complete") }
    }
}
