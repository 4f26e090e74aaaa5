import Foundation
import Testing
import Fixtures
import Support
@testable import Trainer

/// Input a careless or hostile user gives: a second job on a live run directory, data changed
/// under a checkpoint, sizes past any machine, options that do not apply, names that are not
/// UTF-8, and files that are not what they claim. Each is one line, a non-zero exit, and every
/// existing file as it was.
@Suite(.serialized) struct HostileInputTests {
    static let small = ["--data", "synthetic:4000:64:10", "--layers", "64-48-10", "--batch-size", "16", "--idle-seconds", "0",
                        "--flush-every", "20"]

    /// Every file under `dir` with a hash of its bytes.
    static func snapshot(_ dir: String) -> [String: UInt64] {
        var all: [String: UInt64] = [:]
        for name in FileManager.default.subpaths(atPath: dir) ?? [] {
            if let data = FileManager.default.contents(atPath: dir + "/" + name) { all[name] = FNV1a.hash(Array(data)) }
        }
        return all
    }

    static func refused(_ out: Harness.Output, saying words: [String]) {
        #expect(out.status != 0 && out.status != 132 && out.status != 134, "status \(out.status):\n\(out.all)")
        for w in words { #expect(out.stderr.contains(w), "stderr should say '\(w)':\n\(out.stderr)") }
        #expect(!out.all.contains("Fatal error") && !out.all.contains("Stack dump"), "no crash trace:\n\(out.all)")
    }

    /// A live job, paused (SIGSTOP) while a second job tries to replace or resume its directory:
    /// both are refused naming the holder, nothing in the directory changes, and the live run,
    /// continued, ends bit-identical to a run nobody disturbed.
    @Test func aLiveRunDirectoryHasOneWriter() throws {
        let dir = Harness.temporaryDirectory(), other = Harness.temporaryDirectory(), session = Harness.sessionBase()
        defer { for d in [dir, other, session] { try? FileManager.default.removeItem(atPath: d) } }
        let job = ["train"] + Self.small + ["--steps", "3000", "--checkpoint-every", "50"]
        let live = Process()
        live.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        live.arguments = ["--oversubscribe", "-np", "2", "-x", "OPENBLAS_NUM_THREADS", "-x", "RINGWATT_FAULT_KILL_AT", Harness.binary]
            + job + ["--out", dir + "/live"]
        // Rank 0 stops itself (SIGSTOP) at iteration 60, after the first checkpoint: the job cannot
        // finish before the test has paused it, however fast these 3000 steps run.
        live.environment = Harness.environment.merging(["RINGWATT_FAULT_KILL_AT": "0:60:\(SIGSTOP)", "OMPI_MCA_orte_tmpdir_base": session]) { $1 }
        live.standardOutput = FileHandle.nullDevice; live.standardError = FileHandle.nullDevice
        try live.run()
        // Wait for the first checkpoint (so --resume has one to read), then pause every process of the job.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: dir + "/live/checkpoint.bin") && live.isRunning && Date() < deadline { usleep(2000) }
        let pids = try Harness.run("/usr/bin/pgrep", ["-f", dir + "/live"]).stdout.split(separator: "\n").compactMap { Int32($0) }
        #expect(!pids.isEmpty && live.isRunning, "the live run is running")
        #expect(Harness.stop(pids), "every thread of the live job stopped")
        let before = Self.snapshot(dir + "/live")
        let overwrite = try Harness.mpirun(1, job + ["--out", dir + "/live", "--overwrite"])
        Self.refused(overwrite, saying: ["is being written by a live run", "pid", "choose another --out"])
        let resume = try Harness.mpirun(2, job + ["--resume", dir + "/live"])
        Self.refused(resume, saying: ["is being written by a live run"])
        #expect(Self.snapshot(dir + "/live") == before, "the refused jobs changed nothing")
        for pid in pids { kill(pid, SIGCONT) }
        live.waitUntilExit()
        #expect(live.terminationStatus == 0)
        let undisturbed = try Harness.mpirun(2, job + ["--out", other + "/quiet"])
        #expect(undisturbed.status == 0, "\(undisturbed.all)")
        let a = try Harness.json(dir + "/live/summary.json"), b = try Harness.json(other + "/quiet/summary.json")
        #expect(a["status"]?.string == "complete" && a["iterations"]?.double == 3000)
        #expect(a["parameter_checksum"]?.string == b["parameter_checksum"]?.string, "the live run ended as if undisturbed")
        // A dead job's lock is free: its words are left, its lock is not.
        try "host elsewhere, pid 999999, since 2026-01-01T00:00:00Z\n".write(toFile: other + "/quiet/.ringwatt.lock", atomically: false, encoding: .utf8)
        let again = try Harness.mpirun(1, ["train"] + Self.small + ["--steps", "20", "--out", other + "/quiet", "--overwrite"])
        #expect(again.status == 0, "a stale lock is taken over:\n\(again.all)")
    }

    /// A resume checks the data it continues on: a corpus rewritten in place (one byte) is
    /// refused, saying what changed; the original data resumes. A checkpoint that is a symbolic
    /// link is named as such.
    @Test func aResumeChecksItsDataAndItsCheckpointFile() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let corpus = dir + "/corpus.txt"
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 2000).utf8)
        try Data(text).write(to: URL(fileURLWithPath: corpus))
        let job = ["train", "--model", "gpt", "--size", "tiny", "--batch-size", "2", "--steps", "400", "--data", corpus,
                   "--flush-every", "5", "--checkpoint-every", "5", "--eval-windows", "8", "--idle-seconds", "0"]
        let first = try Harness.mpirun(1, job + ["--energy-budget-j", "0.05", "--out", dir + "/run"])
        #expect(first.status == 0, "stopped by its budget, with a checkpoint:\n\(first.all)")
        var changed = text
        changed[1000] = UInt8(ascii: "X")
        try Data(changed).write(to: URL(fileURLWithPath: corpus))
        let before = Self.snapshot(dir + "/run")
        let refused = try Harness.mpirun(1, job + ["--energy-budget-j", "0.05", "--resume", dir + "/run"])
        Self.refused(refused, saying: ["the data changed since the checkpoint", "restore the data"])
        #expect(Self.snapshot(dir + "/run") == before)
        try Data(text).write(to: URL(fileURLWithPath: corpus))
        let resumed = try Harness.mpirun(1, job + ["--energy-budget-j", "0.05", "--resume", dir + "/run"])
        #expect(resumed.status == 0, "the same data resumes:\n\(resumed.all)")

        try FileManager.default.removeItem(atPath: dir + "/run/checkpoint.bin")
        try FileManager.default.createSymbolicLink(atPath: dir + "/run/checkpoint.bin", withDestinationPath: "/dev/zero")
        let link = try Harness.mpirun(1, job + ["--energy-budget-j", "0.05", "--resume", dir + "/run"])
        Self.refused(link, saying: ["is a symbolic link (to /dev/zero)", "not a checkpoint Ringwatt wrote"])
    }

    /// Sizes past any machine are one line with the estimate, before anything is allocated.
    @Test func sizesAreCheckedBeforeTheyAreUsed() throws {
        let huge = try Harness.mpirun(1, ["train", "--batch-size", "100000000000000", "--out", "/tmp/never-\(getpid())"])
        Self.refused(huge, saying: ["needs about", "GiB per rank", "memory"])
        let overflow = try Harness.mpirun(1, ["train", "--model", "gpt", "--n-embd", "4611686018427387904", "--n-head", "1",
                                             "--out", "/tmp/never-\(getpid())"])
        Self.refused(overflow, saying: ["overflow a 64-bit count of bytes"])
        let data = try Harness.mpirun(1, ["train", "--data", "synthetic:100000000000:784:10", "--out", "/tmp/never-\(getpid())"])
        Self.refused(data, saying: ["of generated data"])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-\(getpid())"))
        // An accepted run states its estimate beside its peak RSS.
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ok = try Harness.mpirun(1, ["train"] + Self.small + ["--steps", "20", "--out", dir])
        #expect(ok.status == 0 && ok.stdout.contains("memory ≈"), "\(ok.all)")
        let s = try Harness.json(dir + "/summary.json")
        let estimate = try #require(s["memory_estimate_mib"]?.double), rss = try #require(s["peak_rss_mib"]?.double)
        #expect(estimate > 0 && estimate < rss, "estimate \(estimate) MiB, peak RSS \(rss) MiB")
    }

    @Test func optionsThatDoNotApplyAreRefused() throws {
        for (arguments, words) in [(["--n-layer", "3"], ["--n-layer applies to --model gpt"]),
                                   (["--size", "tiny"], ["--size applies to --model gpt"]),
                                   (["--model", "gpt", "--layers", "10-10"], ["--layers applies to --model mlp"]),
                                   (["--optimizer", "adam", "--momentum", "0.5"], ["--momentum applies to --optimizer sgd"]),
                                   (["--model", "gpt", "--momentum", "0.5"], ["--momentum applies to --optimizer sgd"]),
                                   (["--resume", "/tmp/a-\(getpid())", "--out", "/tmp/b-\(getpid())"], ["name different directories"]),
                                   (["--model", "gpt", "--data", "synthetic"], ["generates labelled images for the MLP"])] {
            Self.refused(try Harness.mpirun(1, ["train"] + arguments), saying: words)
        }
    }

    /// Names are bytes: one that is not UTF-8 is refused before it can become another path;
    /// --out never sprays run files into a directory that holds other things.
    @Test func pathsAreNeverRewrittenAndForeignDirectoriesAreLeftAlone() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = try Harness.run("/bin/bash", ["-c", "exec \"$0\" train --steps 1 --out \"$1/run$(printf '\\377')\"", Harness.binary, dir])
        Self.refused(bad, saying: ["is not valid UTF-8", "\\xFF"])
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty, "nothing was created under another name")

        try "keep me\n".write(toFile: dir + "/notes.txt", atomically: false, encoding: .utf8)
        let before = Self.snapshot(dir)
        for out in [dir, "/"] {
            let foreign = try Harness.mpirun(1, ["train"] + Self.small + ["--steps", "5", "--out", out])
            Self.refused(foreign, saying: ["holds", "other file(s) and no run", "choose a new or empty directory"])
        }
        #expect(Self.snapshot(dir) == before)
        let parentIsFile = try Harness.mpirun(1, ["train"] + Self.small + ["--steps", "5", "--out", dir + "/notes.txt/run"])
        Self.refused(parentIsFile, saying: ["notes.txt is a file, not a directory"])

        // A corpus directory whose files have names that are not UTF-8 is read by their bytes.
        let corpus = dir + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let make = try Harness.run("/bin/bash", ["-c", "for i in 1 2 3 4 5 6; do head -c 16000 /usr/share/common-licenses/GPL-3 > \"$0/t$(printf '\\3%02o' $i)$i.txt\"; done", corpus])
        #expect(make.status == 0, "\(make.all)")
        let run = try Harness.mpirun(1, ["train", "--model", "gpt", "--size", "tiny", "--batch-size", "2", "--steps", "3", "--eval-windows", "4",
                                         "--idle-seconds", "0", "--data", corpus, "--out", dir + "/gpt"])
        #expect(run.status == 0, "\(run.all)")
        let checkpoint = try Checkpoint.read(directory: dir + "/gpt")
        #expect(checkpoint.header.data?.bytes == 6 * 16000, "all six files were read: \(String(describing: checkpoint.header.data))")
    }

    /// Each error names what is really wrong.
    @Test func errorsPointTheRightWay() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = mkfifo(dir + "/fifo", 0o644)
        try FileManager.default.createSymbolicLink(atPath: dir + "/a", withDestinationPath: dir + "/b")
        try FileManager.default.createSymbolicLink(atPath: dir + "/b", withDestinationPath: dir + "/a")
        for (data, words) in [(dir + "/fifo", ["is a FIFO"]), (dir + "/a", ["a loop of symbolic links"]),
                              ("/dev/null", ["is a character device"]), (dir + "/none", ["no such file or directory"])] {
            let out = try Harness.mpirun(1, ["train", "--model", "gpt", "--size", "tiny", "--data", data, "--out", dir + "/r"])
            Self.refused(out, saying: words)
            #expect(!out.stderr.contains("fashion-mnist"), "no hint about the MLP's data:\n\(out.stderr)")
        }
        // A summary that is not text; runs of different models; a calibration holding NaN.
        let mlp = dir + "/mlp", gpt = dir + "/gpt"
        #expect(try Harness.mpirun(1, ["train"] + Self.small + ["--steps", "20", "--out", mlp]).status == 0)
        let corpus = dir + "/c.txt"
        try String(repeating: "all work and no play makes jack a dull boy. ", count: 2000).write(toFile: corpus, atomically: false, encoding: .utf8)
        #expect(try Harness.mpirun(1, ["train", "--model", "gpt", "--size", "tiny", "--batch-size", "2", "--steps", "10", "--data", corpus,
                                       "--eval-windows", "4", "--idle-seconds", "0", "--out", gpt]).status == 0)
        let compare = try Harness.ringwatt(["compare", mlp, gpt])
        Self.refused(compare, saying: ["train different models", "mlp", "gpt"])
        let summary = try String(contentsOfFile: mlp + "/summary.json", encoding: .utf8)
        let nan = summary.replacingOccurrences(of: "\"mean_power_w\" : ", with: "\"mean_power_w\" : \"nan\", \"x\" : ")
        try nan.write(toFile: mlp + "/summary.json", atomically: false, encoding: .utf8)
        let fit = dir + "/fit.json"
        try #"{"alpha_s": 1e-5, "beta_s_per_byte": 1e-9, "gamma_s_per_byte": 1e-10}"#.write(toFile: fit, atomically: false, encoding: .utf8)
        Self.refused(try Harness.ringwatt(["predict", "--calibration", mlp, "--fit", fit]), saying: ["mean_power_w is nan"])
        try Data([0xFF, 0xFE, 0x00, 0x01]).write(to: URL(fileURLWithPath: mlp + "/summary.json"))
        Self.refused(try Harness.ringwatt(["report", mlp]), saying: ["not a Ringwatt summary: not text"])
        // MPI that cannot start says why in one line of ours, naming what Open MPI reads: its own
        // session base where set (the harness sets one; empty removes it), else TMPDIR.
        let tmp = try Harness.run(Harness.binary, ["train", "--steps", "1", "--out", dir + "/t"],
                                  environment: ["TMPDIR": dir + "/none", "OMPI_MCA_orte_tmpdir_base": ""])
        Self.refused(tmp, saying: ["cannot start MPI: TMPDIR \(dir)/none is not a writable directory"])
        let base = try Harness.run(Harness.binary, ["train", "--steps", "1", "--out", dir + "/t"],
                                   environment: ["TMPDIR": dir, "OMPI_MCA_orte_tmpdir_base": dir + "/none"])
        Self.refused(base, saying: ["cannot start MPI: OMPI_MCA_orte_tmpdir_base \(dir)/none is not a writable directory"])
    }
}
