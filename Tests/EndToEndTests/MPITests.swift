import Foundation
import Testing
import Fixtures
import Accounting
import RunFiles
import Trainer
import Support

/// The built binary under `mpirun -np 1…4`, one job at a time (2 cores).
@Suite(.serialized) struct MPITests {
    static let fashion = "/usr/share/datasets/fashion-mnist"

    /// Rank r contributes (r+1)·v(i); --check fails the job on any difference from the exact sum.
    @Test(arguments: [1, 2, 3, 4])
    func allReduceIsExactUnderMpirun(ranks: Int) throws {
        let counts = [0, 1, max(0, ranks - 1), ranks + 1, 1_000_003].map(String.init).joined(separator: ",")
        let out = try Harness.mpirun(ranks, ["bench-allreduce", "--counts", counts, "--iters", "1", "--warmup", "0",
                                             "--min-time-ms", "0", "--check", "--verify-lengths", "--segment-bytes", "65536"])
        #expect(out.status == 0, "\(out.all)")
        #expect(out.stdout.contains("# ranks \(ranks),"))
        let rows = out.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("algorithm") }
        // ring, recursive-doubling, halving-doubling, auto, mpi and (Open MPI) mpi-ring, for 5 sizes.
        #expect(rows.count == 5 * 6, "\(out.stdout)")
        #expect(rows.filter { $0.contains(" mpi-ring ") }.count == 5, "Open MPI's ring in the same run:\n\(out.stdout)")
        #expect(rows.allSatisfy { $0.hasSuffix(" 0") }, "max_error must be 0:\n\(out.stdout)")
        for wire in ["bf16", "f16"] {
            let compressed = try Harness.mpirun(ranks, ["bench-allreduce", "--counts", counts, "--iters", "1", "--warmup", "0",
                                                        "--min-time-ms", "0", "--check", "--wire-dtype", wire, "--algorithms", "ring,recursive-doubling,halving-doubling"])
            #expect(compressed.status == 0, "\(wire): \(compressed.all)")
        }
    }

    /// The waits that test and sleep (--comm-wait-us, as on the emulated cluster), with and without
    /// testing first for a while (--comm-spin-us; auto: none with 3 ranks on this 2-core machine,
    /// 200 µs and up to 1 ms on larger ones), sum exactly too: 3 ranks, lengths not divisible by 3.
    @Test(arguments: ["0", "200", "auto"])
    func allReduceIsExactWithTestingWaits(spin: String) throws {
        let out = try Harness.mpirun(3, ["bench-allreduce", "--counts", "1,4,1000003", "--iters", "2", "--warmup", "0",
                                         "--min-time-ms", "0", "--check", "--segment-bytes", "65536",
                                         "--algorithms", "ring,recursive-doubling,halving-doubling",
                                         "--comm-wait-us", "50", "--comm-spin-us", spin])
        #expect(out.status == 0, "\(out.all)")
        let rows = out.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.contains("algorithm") }
        #expect(rows.count == 3 * 3 && rows.allSatisfy { $0.hasSuffix(" 0") }, "max_error must be 0:\n\(out.stdout)")
    }

    /// `bench-allreduce --fit` writes the ring's fit with how it ran: the ranks on the machine (all
    /// of them here), the waits, and auto's spin for them — 200 µs and up to 1 ms with a core per
    /// rank, none past that.
    @Test(arguments: [2, 3])
    func fitRecordsTheMachineAndItsWaits(ranks: Int) throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Harness.mpirun(ranks, ["bench-allreduce", "--algorithms", "ring", "--min-bytes", "4096", "--max-bytes", "65536",
                                             "--factor", "4", "--iters", "2", "--warmup", "0", "--min-time-ms", "0",
                                             "--comm-wait-us", "50", "--comm-spin-us", "auto", "--fit", dir + "/fit.json"])
        #expect(out.status == 0, "\(out.all)")
        let fit = try Harness.json(dir + "/fit.json")
        let spin = ranks <= ProcessInfo.processInfo.activeProcessorCount ? 200.0 : 0
        #expect(fit["ranks"]?.double == Double(ranks) && fit["nodes"]?.double == 1 && fit["ranks_per_machine"]?.double == Double(ranks))
        #expect(fit["comm_wait_us"]?.double == 50 && fit["comm_spin_us"]?.double == spin, "\(fit)")
        #expect(fit["comm_spin_limit_us"]?.double == (spin > 0 ? 1000 : nil), "\(fit)")
        #expect(fit["rows"]?.array?.count == 3 && fit["alpha_s"]?.double?.isFinite == true)
        #expect(out.stdout.contains("\(ranks) rank(s) on the busiest machine, waits test and sleep 50 µs, spinning \(spin > 0 ? "200 µs (up to 1000 while waits are short and fast)" : "0 µs") first"))
    }

    /// A run records how every rank waited: in MPI by default; with --comm-wait-us, testing first
    /// as auto decides for the ranks on this machine (200 µs and up to 1 ms with a core each, none past that).
    @Test(arguments: [2, 3])
    func runsRecordHowEveryRankWaited(ranks: Int) throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let small = ["train", "--data", "synthetic:600:16:4", "--layers", "16-8-4", "--batch-size", "8", "--steps", "6",
                     "--idle-seconds", "0", "--quiet"]
        let spin = ranks <= ProcessInfo.processInfo.activeProcessorCount ? "200 µs (up to 1000 while waits are short and fast)" : "0 µs"
        for (extra, expected) in [([], "in MPI (MPI_Waitall)"),
                                  (["--comm-wait-us", "50"], "test and sleep 50 µs at first, testing \(spin) before the first sleep")] {
            let out = try Harness.mpirun(ranks, small + extra + ["--out", dir, "--overwrite"])
            #expect(out.status == 0, "\(out.all)")
            let waiting = try Harness.json(dir + "/summary.json")["metadata"]?["comm_waiting_by_rank"]?.array?.map { $0.string! }
            #expect(waiting == Array(repeating: expected, count: ranks), "\(String(describing: waiting))")
        }
    }

    /// Timed calls: exactly --iters with --min-time-ms 0 or --warmup 0; more where calls are short
    /// and a minimum time is asked for; the same count on every rank (or the job would hang), recorded per row.
    @Test func benchmarkTimesShortCallsLonger() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (minTime, warmup, file) in [("0", "3", "exact.csv"), ("30", "0", "unwarmed.csv"), ("30", "3", "timed.csv")] {
            let out = try Harness.mpirun(2, ["bench-allreduce", "--counts", "1,262144", "--iters", "7", "--warmup", warmup,
                                             "--algorithms", "recursive-doubling,mpi", "--min-time-ms", minTime,
                                             "--csv", "\(dir)/\(file)"])
            #expect(out.status == 0, "\(out.all)")
        }
        func calls(_ file: String) throws -> [String: Int] {
            let lines = try String(contentsOfFile: "\(dir)/\(file)", encoding: .utf8).split(separator: "\n")
            let header = lines[0].split(separator: ",").map(String.init)
            let (a, b, i) = (header.firstIndex(of: "algorithm")!, header.firstIndex(of: "bytes")!, header.firstIndex(of: "iters")!)
            return Dictionary(uniqueKeysWithValues: lines.dropFirst().map {
                let f = $0.split(separator: ",").map(String.init)
                return ("\(f[a])@\(f[b])", Int(f[i])!)
            })
        }
        let exact = try calls("exact.csv"), unwarmed = try calls("unwarmed.csv"), timed = try calls("timed.csv")
        #expect(exact.count == 4 && exact.values.allSatisfy { $0 == 7 }, "\(exact)")
        // No warm-up asked for, no estimate: exactly --iters (the first size's job warm-up does not count).
        #expect(unwarmed.count == 4 && unwarmed.values.allSatisfy { $0 == 7 }, "\(unwarmed)")
        // A 4-byte all-reduce takes microseconds here (milliseconds on the worst noisy host), so 30 ms
        // is many more than 7 calls; every row has at least --iters.
        #expect(timed["recursive-doubling@4"]! > 7 && timed["mpi@4"]! > 7, "\(timed)")
        #expect(timed.values.allSatisfy { $0 >= 7 }, "\(timed)")
    }

    /// Same seed and rank count twice: bit-identical weights; files follow the contract.
    @Test func trainingIsDeterministicAndFilesAddUp() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var checksums: [String] = []
        var weights: [Data] = []
        for run in 0..<2 {
            let out = try Harness.mpirun(3, ["train", "--data", "synthetic:3000:64:10", "--layers", "64-32-10",
                                             "--batch-size", "16", "--epochs", "2", "--flush-every", "7",
                                             "--out", "\(dir)/run\(run)", "--sample-hz", "200"])
            #expect(out.status == 0, "\(out.all)")
            let summary = try Harness.json("\(dir)/run\(run)/summary.json")
            checksums.append(summary["parameter_checksum"]?.string ?? "")
            weights.append(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/run\(run)/weights.bin")))
        }
        #expect(checksums[0] == checksums[1] && !checksums[0].isEmpty)
        #expect(weights[0] == weights[1] && weights[0].count == (64 * 32 + 32 + 32 * 10 + 10) * 4)

        let summary = try Harness.json("\(dir)/run0/summary.json")
        let iterations = try Harness.lines("\(dir)/run0/\(RunDirectory.iterationsFile)")
        let perEpoch = 3000 / 3 / 16 + 1  // 1000 samples per rank: 62 full batches and one of 8
        #expect(summary["status"]?.string == "complete")
        #expect(summary["ranks"]?.double == 3 && summary["nodes"]?.double == 1 && summary["epochs"]?.double == 2)
        #expect(summary["iterations"]?.double == Double(2 * perEpoch))
        #expect(summary["samples"]?.double == Double(2 * 3 * 1000))
        #expect(iterations.count == 2 * perEpoch)
        #expect(iterations.map { $0["iter"]!.double! } == (0..<(2 * perEpoch)).map(Double.init), "no gaps, no duplicates")
        for key in ["ranks", "nodes", "epochs", "iterations", "samples", "seconds", "samples_per_s", "final_loss",
                    "test_accuracy", "config", "energy_j", "energy_kwh", "joules_per_sample", "samples_per_joule",
                    "comm_energy_share", "energy_source", "co2_g", "peak_rss_mib"] {
            #expect(summary[key] != nil, "summary.json lacks \(key)")
        }
        #expect((summary["test_accuracy"]?.double ?? 0) > 0.5, "synthetic classes are separable")
        var total = 0.0
        for line in iterations {
            for key in ["iter", "epoch", "loss", "seconds", "compute_s", "compute_max_s", "comm_s", "comm_bytes", "samples", "energy_j",
                        "energy_compute_j", "energy_comm_j", "energy_other_j", "power_w", "energy_source", "rank_energy_j"] {
                #expect(line[key] != nil, "iterations.jsonl lacks \(key)")
            }
            #expect(line["compute_max_s"]!.double! >= line["compute_s"]!.double! * (1 - 1e-12), "the slowest rank's compute is at least the mean")
            let e = line["energy_j"]!.double!
            let parts = line["energy_compute_j"]!.double! + line["energy_comm_j"]!.double! + line["energy_other_j"]!.double!
            #expect(abs(parts - e) <= 1e-5 + 1e-6 * e, "phases add up to the iteration's energy")
            guard case let .array(ranks)? = line["rank_energy_j"] else { Issue.record("rank_energy_j"); continue }
            #expect(ranks.count == 3)
            #expect(abs(ranks.compactMap(\.double).reduce(0, +) - e) <= 1e-5 + 1e-6 * e, "ranks add up to the cluster")
            #expect(line["energy_source"]?.string == summary["energy_source"]?.string)
            #expect(e > 0)
            total += e
        }
        #expect(abs(total - summary["energy_j"]!.double!) <= 1e-3 * total)
        let power = try String(contentsOfFile: "\(dir)/run0/power.csv", encoding: .utf8).split(separator: "\n")
        #expect(power.first == "rank,node,t_s,watts,source,domain")
        #expect(Set(power.dropFirst().map { $0.split(separator: ",")[0] }) == ["0", "1", "2"], "every rank's samples")
    }

    /// Overlap on and off: the same final weights, bit for bit; overlap hides some communication.
    @Test func overlapDoesNotChangeTheWeights() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var checksums: [String] = []
        for overlap in ["on", "off"] {
            let out = try Harness.mpirun(3, ["train", "--data", "synthetic:3000:128:10", "--layers", "128-64-32-10",
                                             "--batch-size", "20", "--epochs", "1", "--bucket-mb", "0.001",
                                             "--overlap", overlap, "--out", "\(dir)/\(overlap)"])
            #expect(out.status == 0, "\(out.all)")
            let s = try Harness.json("\(dir)/\(overlap)/summary.json")
            checksums.append(s["parameter_checksum"]?.string ?? "")
            guard case let .array(buckets)? = s["comm_buckets_bytes"] else { Issue.record("buckets"); continue }
            // 1 kB buckets split layers into row blocks (a row of layer 0 is 512 B), and cover everything.
            #expect(buckets.count > 3, "sub-layer buckets at 1 kB: \(buckets)")
            let parameters = 128 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10
            let covered = buckets.compactMap(\.double).reduce(0, +)
            #expect(covered == Double((parameters + 1) * 4), "buckets cover the parameters and the control slot: \(covered) bytes")
            let line = try Harness.lines("\(dir)/\(overlap)/iterations.jsonl")[5]
            #expect(line["comm_exposed_s"] != nil && line["busbw_GBps"] != nil)
        }
        #expect(checksums[0] == checksums[1] && !checksums[0].isEmpty)
    }

    /// A node-wide counter (fixture RAPL at 60 W) read by 4 ranks on one node is counted once.
    @Test func nodeCounterIsCountedOncePerNode() throws {
        let tree = FixtureTree()
        tree.raplZone("intel-rapl:0", name: "package-0", energy: 0, range: 1 << 40)
        let writer = CounterWriter(path: tree.root + "/intel-rapl:0/energy_uj", watts: 60, range: 1 << 40, initial: 0)
        defer { writer.stop() }
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = monotonicSeconds()
        let out = try Harness.mpirun(4, ["train", "--data", "synthetic:8000:256:10", "--layers", "256-256-10",
                                         "--batch-size", "32", "--epochs", "3", "--power-source", "rapl",
                                         "--powercap-root", tree.root, "--out", dir])
        writer.stop()
        #expect(out.status == 0, "\(out.all)")
        let s = try Harness.json(dir + "/summary.json")
        #expect(s["energy_source"]?.string == "rapl")
        let joules = s["energy_j"]!.double!, watts = joules / s["seconds"]!.double!
        // Counted at least once: the writer lags its nominal 60 W only while descheduled.
        #expect(watts > 0.6 * 60, "cluster power \(watts) W should be the node's 60 W")
        // Counted at most once: no more than the counter really advanced while the job existed
        // (its log; a stalled writer's file jumps, so a rate over the run's seconds can read above
        // 60 W — 66.6 W once in CI — while joules cannot exceed what the file held). 4 ranks each
        // counting the node would read 4×; the allowance is one sampling period's extrapolation.
        let advanced = (writer.held(at: .infinity) - writer.held(at: before)) * 1e-6
        #expect(joules <= advanced + 60 * 0.1, "cluster \(joules) J, the counter advanced \(advanced) J while the job ran: counted once, not 4×")
        guard case let .array(perRank)? = s["rank_energy_j"] else { Issue.record("rank_energy_j"); return }
        // The machine's joules go to its ranks by CPU time: shares differ a little, add up exactly.
        let shares = perRank.compactMap(\.double), total = s["energy_j"]!.double!
        #expect(shares.count == 4 && abs(shares.reduce(0, +) - total) <= 1e-6 * total, "shares add up to the machine's: \(shares)")
        #expect(shares.allSatisfy { $0 > 0.1 * total / 4 }, "every rank worked, every rank has a share: \(shares)")
    }

    @Test func defaultDataTrainsAboveEightyPercentInOneEpochOnFourRanks() throws {
        try #require(FileManager.default.fileExists(atPath: Self.fashion), "dataset-fashion-mnist is installed by scripts/install-deps.sh")
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Harness.mpirun(4, ["train", "--epochs", "1", "--out", dir])
        #expect(out.status == 0, "\(out.all)")
        let s = try Harness.json(dir + "/summary.json")
        #expect((s["test_accuracy"]?.double ?? 0) >= 0.82, "\(out.stdout)")
        #expect((s["peak_rss_mib"]?.double ?? 1e9) <= 200)
        let hasCounter = FileManager.default.isReadableFile(atPath: "/sys/class/powercap/intel-rapl:0/energy_uj")
        if !hasCounter { #expect(s["energy_source"]?.string == "estimate" && s["estimate"] != nil) }
        #expect(out.stdout.contains("test accuracy"))
    }

    /// --energy-budget-j stops every rank cleanly at the flush that crosses it.
    @Test func energyBudgetStopsTheRunCleanly() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Harness.mpirun(2, ["train", "--data", "synthetic:20000:64:10", "--layers", "64-64-10", "--batch-size", "8",
                                         "--epochs", "5", "--flush-every", "10", "--power-source", "estimate",
                                         "--energy-budget-j", "2", "--out", dir])
        #expect(out.status == 0, "\(out.all)")
        let s = try Harness.json(dir + "/summary.json")
        #expect(s["status"]?.string == "energy_budget")
        let energy = s["energy_j"]!.double!, iterations = s["iterations"]!.double!
        #expect(energy >= 2 && iterations < 5 * 1250, "stopped after crossing 2 J: \(energy) J, \(iterations) iterations")
        #expect(Double(try Harness.lines(dir + "/iterations.jsonl").count) == iterations)
    }
}
