import Foundation
import Testing
import Fixtures
import Accounting
import RunFiles
import Trainer

/// Plain (non-atomic) write: FileManager.createFile on Linux leaves a TemporaryDirectory.* behind in /tmp.
func write(_ path: String, _ data: Data) throws { try data.write(to: URL(fileURLWithPath: path)) }

/// Each bad input: one clear line naming the problem, a non-zero exit, and nothing on disk
/// that claims success.
@Suite(.serialized) struct BadInputTests {
    func expectRefused(_ ranks: Int, _ arguments: [String], saying words: [String], out dir: String? = nil) throws {
        let out = try Harness.mpirun(ranks, ["train"] + arguments)
        #expect(out.status != 0, "accepted \(arguments)")
        for w in words { #expect(out.stderr.contains(w), "stderr should say '\(w)':\n\(out.stderr)") }
        #expect(!out.all.contains("Fatal error") && !out.all.contains("Stack dump"), "no crash trace:\n\(out.all)")
        if let dir, let s = try? Harness.json(dir + "/summary.json") {
            #expect(s["status"]?.string != "complete", "a failed run left a summary claiming success")
        }
    }

    @Test func invalidNumbersInFlags() throws {
        try expectRefused(1, ["--batch-size", "0"], saying: ["--batch-size must be positive"])
        try expectRefused(1, ["--lr=-1"], saying: ["--lr must be a positive number"])
        try expectRefused(1, ["--epochs", "0"], saying: ["--epochs must be positive"])
        try expectRefused(1, ["--layers", "784-0-10"], saying: ["--layers widths must all be positive"])
        try expectRefused(1, ["--layers", "784-abc-10"], saying: ["--layers expects widths"])
        try expectRefused(1, ["--momentum", "1.5"], saying: ["--momentum must be in [0, 1)"])
        try expectRefused(1, ["--data", "synthetic:10:0:3"], saying: ["synthetic:SAMPLES:FEATURES:CLASSES"])
        try expectRefused(1, ["--bucket-mb", "0"], saying: ["--bucket-mb must be positive (leave it out for the automatic choice)"])
        try expectRefused(1, ["--idle-seconds=-1"], saying: ["--idle-seconds must be in [0, 600], got -1.0"])
    }

    /// A power source asked for by name that the machine lacks is an error that says why, on every
    /// rank (auto falls back to the labelled estimate instead).
    @Test func anAbsentPowerSourceAskedForByNameIsAnError() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let small = ["--data", "synthetic:400:8:3", "--layers", "8-4-3", "--out", dir + "/run"]
        try expectRefused(2, small + ["--power-source", "rapl", "--powercap-root", dir + "/none"],
                          saying: ["--power-source rapl: no RAPL package zone under \(dir)/none", "--power-source auto falls back"])
        try expectRefused(2, small + ["--power-source", "hwmon", "--hwmon-root", dir + "/none"],
                          saying: ["--power-source hwmon: no hwmon energy or power sensor under \(dir)/none"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"), "refused before any file is written")
    }

    /// bench-allreduce's own bad input: unknown algorithms and impossible ranges, one line each.
    @Test func badBenchmarkOptions() throws {
        for (arguments, words) in [(["--algorithms", "ring,tree"], ["unknown algorithm 'tree'", "mpi-ring"]),
                                   (["--min-bytes", "64", "--max-bytes", "4"], ["--min-bytes"]),
                                   (["--factor", "1"], ["--factor must be at least 2"]),
                                   (["--counts", "4,-1"], ["--counts must be non-negative"]),
                                   (["--min-time-ms=-5"], ["--min-time-ms must be in [0, 60000]"]),
                                   (["--comm-spin-us=-1"], ["--comm-spin-us must be auto or 0…1000000, got '-1'"]),
                                   (["--comm-spin-us", "fast"], ["--comm-spin-us must be auto or 0…1000000, got 'fast'"]),
                                   (["--comm-wait-us", "2000000"], ["--comm-wait-us must be 0…1000000"])] {
            let out = try Harness.mpirun(1, ["bench-allreduce"] + arguments)
            #expect(out.status != 0, "accepted \(arguments)")
            for w in words { #expect(out.stderr.contains(w), "stderr should say '\(w)':\n\(out.stderr)") }
        }
    }

    @Test func layerWidthsThatDoNotMatchTheData() throws {
        try expectRefused(2, ["--data", "synthetic:200:16:4", "--layers", "17-8-4"],
                          saying: ["--layers starts with 17 inputs but the data has 16 features"])
        try expectRefused(2, ["--data", "synthetic:200:16:4", "--layers", "16-8-5"],
                          saying: ["--layers ends with 5 outputs but the data has 4 classes"])
    }

    @Test func missingTruncatedAndCorruptData() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try expectRefused(2, ["--data", dir + "/nothing-here"], saying: ["cannot open", "train-images-idx3-ubyte"])
        // A data directory whose train images are cut short.
        func idx(_ dims: [Int], _ data: [UInt8]) -> Data {
            var b: [UInt8] = [0, 0, 8, UInt8(dims.count)]
            for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
            return Data(b + data)
        }
        try write(dir + "/train-images-idx3-ubyte", idx([10, 2, 2], Array(repeating: 1, count: 30)))
        try write(dir + "/train-labels-idx1-ubyte", idx([10], Array(repeating: 1, count: 10)))
        try write(dir + "/t10k-images-idx3-ubyte", idx([2, 2, 2], Array(repeating: 1, count: 8)))
        try write(dir + "/t10k-labels-idx1-ubyte", idx([2], [0, 1]))
        try expectRefused(2, ["--data", dir, "--layers", "4-3-10"], saying: ["train-images-idx3-ubyte is truncated"])
        try write(dir + "/train-images-idx3-ubyte", idx([10, 2, 2], Array(repeating: 1, count: 40)))
        try write(dir + "/train-labels-idx1-ubyte", idx([10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 12]))
        try expectRefused(2, ["--data", dir, "--layers", "4-3-10"], saying: ["label 12 at index 9 is outside 0..<10"])
        try write(dir + "/train-labels-idx1-ubyte", idx([9], Array(repeating: 1, count: 9)))
        try expectRefused(2, ["--data", dir, "--layers", "4-3-10"], saying: ["count mismatch: 10 images but 9 labels"])
        try write(dir + "/train-labels-idx1-ubyte.gz", Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]))
        try expectRefused(2, ["--data", dir, "--layers", "4-3-10"], saying: ["cannot read", "train-labels-idx1-ubyte.gz"])
    }

    @Test func outputDirectoryHoldingARunIsRefusedUnlessOverwrite() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["--data", "synthetic:600:8:3", "--layers", "8-4-3", "--steps", "5", "--out", dir]
        let first = try Harness.mpirun(2, ["train"] + args)
        #expect(first.status == 0, "\(first.all)")
        let before = try String(contentsOfFile: dir + "/summary.json", encoding: .utf8)
        try expectRefused(2, args, saying: ["already holds a run", "--overwrite"])
        #expect(try String(contentsOfFile: dir + "/summary.json", encoding: .utf8) == before, "the earlier run is untouched")
        let again = try Harness.mpirun(2, ["train"] + args + ["--overwrite"])
        #expect(again.status == 0, "\(again.all)")
        // A file where the directory should be.
        try write(dir + "/plainfile", Data())
        try expectRefused(1, ["--data", "synthetic:600:8:3", "--layers", "8-4-3", "--steps", "2", "--out", dir + "/plainfile"],
                          saying: ["exists and is not a directory"])
        try expectRefused(1, ["--data", "synthetic:600:8:3", "--layers", "8-4-3", "--steps", "2", "--out", dir + "/plainfile/sub"],
                          saying: ["cannot create --out"])
    }

    /// RAPL's energy_uj is root-only since Linux 5.10: as an unprivileged user the fixture's
    /// counter is unreadable, and `ringwatt power` says so and how to fix it.
    @Test func unreadableRAPLCounterIsExplained() throws {
        let tree = FixtureTree()
        tree.raplZone("intel-rapl:0", name: "package-0", energy: 123)
        chmod(tree.root + "/intel-rapl:0/energy_uj", 0o400)
        chmod(tree.root, 0o755)
        chmod((tree.root as NSString).deletingLastPathComponent, 0o1777)
        let arguments = ["power", "--seconds", "0.05", "--powercap-root", tree.root, "--hwmon-root", tree.root + "/none"]
        let out: Harness.Output
        if getuid() == 0 {
            // Root reads anything: drop to nobody for this one command.
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "setpriv (util-linux) needed to drop privileges")
            out = try Harness.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Harness.binary] + arguments)
        } else {
            out = try Harness.ringwatt(arguments)
        }
        #expect(out.stdout.contains("permission denied"), "\(out.all)")
        #expect(out.stdout.contains("chmod o+r") && out.stdout.contains("falling back"), "\(out.all)")
        #expect(out.stdout.contains("estimate process"), "the estimate is still offered:\n\(out.all)")
    }
}
