import Fixtures
import Foundation
import Testing
@testable import Accounting
@testable import RunFiles
@testable import Trainer

/// The sweep, compare and predict on small runs; the emulated cluster's set-up and teardown, and
/// its hosts' shared power counter (every test that uses the cluster is here: its names are fixed).
@Suite(.serialized) struct ScaleOutTests {
    static let small = ["--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--epochs", "2", "--algorithm", "ring"]

    @Test func sweepThenCompareThenPredict() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sweep = try Harness.run("/bin/bash", [Harness.repository + "/scripts/sweep.sh", "--mode", "local", "--nodes", "1 2 3",
                                                  "--scaling", "strong", "--global-batch", "48", "--out", dir, "--"] + Self.small)
        #expect(sweep.status == 0, "\(sweep.all)")
        #expect(FileManager.default.fileExists(atPath: dir + "/report.html"), "the sweep ends with its page")
        for n in [1, 2, 3] {
            let s = try Harness.json("\(dir)/n\(n)/summary.json")
            #expect(s["ranks"]?.double == Double(n))
            #expect(s["config"]?["batch_size"]?.double == Double(48 / n), "strong scaling splits the global batch")
        }
        let compare = try Harness.ringwatt(["compare", "\(dir)/n3", "\(dir)/n1", "\(dir)/n2", "--csv", "\(dir)/compare.csv",
                                            "--target-accuracy", "0.3"])
        #expect(compare.status == 0, "\(compare.all)")
        let rows = try String(contentsOfFile: "\(dir)/compare.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4 && rows[0].hasPrefix("run,nodes,ranks,s_per_epoch"))
        #expect(rows[1].contains("/n1,") && rows[1].contains(",1.00,1.00,"), "sorted by size; the smallest is the baseline")
        #expect(compare.stdout.contains("lowest energy per epoch:") && compare.stdout.contains("lowest energy-delay product:"))
        // Energies in the CSV are the summaries' per-epoch figures.
        let s2 = try Harness.json("\(dir)/n2/summary.json")
        let cells = rows[2].split(separator: ",")
        #expect(abs(Double(cells[7])! - s2["energy_j"]!.double! / 2) < 0.06)

        // From run directories to plots in one command.
        let plots = try Harness.run("/usr/bin/env", ["python3", Harness.repository + "/scripts/plot_scaling.py", "\(dir)/plots",
                                                  "\(dir)/n1", "\(dir)/n2", "\(dir)/n3"])
        #expect(plots.status == 0, "\(plots.all)")
        for name in ["energy_vs_nodes", "speedup", "power_timeline"] {
            for ext in ["png", "svg"] {
                #expect(FileManager.default.fileExists(atPath: "\(dir)/plots/\(name).\(ext)"), "\(name).\(ext)")
            }
        }

        let fit = "\(dir)/fit.json"
        try JSON.object([("alpha_s", .number(1e-5)), ("beta_s_per_byte", .number(1e-9)), ("gamma_s_per_byte", .number(1e-10))])
            .serialized().write(toFile: fit, atomically: false, encoding: .utf8)
        let predict = try Harness.ringwatt(["predict", "--calibration", "\(dir)/n1", "--fit", fit, "--max-nodes", "8",
                                            "--measured", "\(dir)/n1", "--csv", "\(dir)/predict.csv", "--errors", "\(dir)/errors.json"])
        #expect(predict.status == 0, "\(predict.all)")
        let predicted = try String(contentsOfFile: "\(dir)/predict.csv", encoding: .utf8).split(separator: "\n")
        #expect(predicted.count == 5, "1, 2, 4, 8 nodes")
        let errors = try Harness.json("\(dir)/errors.json")
        guard case let .array(points) = errors, let first = points.first else { Issue.record("errors.json"); return }
        // The calibration point reproduces its run (nothing to communicate at one node)…
        #expect(abs(first["t_iter_error"]!.double!) < 1e-9, "\(first)")
        // …and 8 nodes are the closed form, computed here from the run's own figures and the fit:
        // t_iter = t_compute + t_other + Σ_b 2(p−1)α + 2((p−1)/p)·n_b·β + ((p−1)/p)·n_b·γ, p = 8.
        let s1 = try Harness.json("\(dir)/n1/summary.json")
        // t_compute + t_other: the median training iteration (iterations with evaluation left out).
        let stepSeconds = try Harness.medianTrainingIterationSeconds("\(dir)/n1")
        let buckets = s1["comm_buckets_bytes"]!.array!.map { $0.double! }
        let p = 8.0, comm = buckets.map { 2 * (p - 1) * 1e-5 + 2 * ((p - 1) / p) * $0 * 1e-9 + ((p - 1) / p) * $0 * 1e-10 }.reduce(0, +)
        let expected = stepSeconds + comm
        let row8 = predicted[4].split(separator: ",").map { Double($0)! }
        #expect(row8[0] == 8 && abs(row8[2] - expected) <= 1e-9 * expected, "predicted \(row8[2]) s, closed form \(expected) s")
        let bad = try Harness.ringwatt(["predict", "--calibration", "\(dir)/n2", "--fit", fit])
        #expect(bad.status != 0 && bad.stderr.contains("must be a 1-rank run"))
    }

    /// Root only: the emulated cluster comes up with K namespaces and leaves none behind, also
    /// when the job inside fails.
    @Test(.enabled(if: Harness.canMakeNetworkNamespaces, "network namespaces need root (and a kernel that allows them)"))
    func emulatedClusterLeavesNoNamespaceBehind() throws {
        let script = Harness.repository + "/launch/emucluster.sh"
        let up = try Harness.run("/bin/bash", [script, "up", "3", "--link-gbit", "2"])
        #expect(up.status == 0, "\(up.all)")
        let listed = try Harness.run("/usr/sbin/ip", ["netns", "list"]).stdout
        #expect(["rw-h0", "rw-h1", "rw-h2", "rw-sw"].allSatisfy { listed.contains($0) })
        let qdisc = try Harness.run("/usr/sbin/ip", ["netns", "exec", "rw-h1", "tc", "qdisc", "show", "dev", "eth0"]).stdout
        #expect(qdisc.contains("tbf") && qdisc.contains("2Gbit"), "\(qdisc)")
        _ = try Harness.run("/bin/bash", [script, "down"])
        #expect(!(try Harness.run("/usr/sbin/ip", ["netns", "list"]).stdout.contains("rw-")))

        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.run("/bin/bash", [script, "run", "2", "1", "--link-gbit", "1", "--"] + Self.small + ["--out", dir + "/ok"])
        #expect(run.status == 0, "\(run.all)")
        #expect((try Harness.json(dir + "/ok/summary.json"))["nodes"]?.double == 2, "ranks see distinct nodes")
        let failing = try Harness.run("/bin/bash", [script, "run", "2", "1", "--"] + Self.small + ["--batch-size", "0"])
        #expect(failing.status != 0)
        #expect(!(try Harness.run("/usr/sbin/ip", ["netns", "list"]).stdout.contains("rw-")), "torn down after a failure too")
        let badK = try Harness.run("/bin/bash", [script, "up", "zero"])
        #expect(badK.status != 0 && badK.stderr.contains("K must be 1…64"))
    }

    /// Root only: 2 emulated hosts × 2 ranks — the ranks of one host talk over shared memory, each
    /// host's segments in a directory of its own (the hosts share one host name, and Open MPI
    /// names its segment files by it: both hosts' first ranks created the same file and crashed).
    /// Nothing of them is left in /dev/shm.
    @Test(.enabled(if: Harness.canMakeNetworkNamespaces, "network namespaces need root (and a kernel that allows them)"))
    func emulatedHostsOfTwoRanksShareMemoryInsideAHost() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.run("/bin/bash", [Harness.repository + "/launch/emucluster.sh", "run", "2", "2", "--link-gbit", "1", "--"]
                                  + Self.small + ["--out", dir + "/run"])
        #expect(run.status == 0, "\(run.all)")
        let s = try Harness.json(dir + "/run/summary.json")
        #expect(s["nodes"]?.double == 2 && s["ranks"]?.double == 4, "\(s["nodes"] as Any) nodes, \(s["ranks"] as Any) ranks")
        let left = try FileManager.default.contentsOfDirectory(atPath: "/dev/shm").filter { $0.hasPrefix("ringwatt-emu-") }
        #expect(left.isEmpty, "left in /dev/shm: \(left)")
    }

    /// Root only: two emulated hosts (network namespaces) on this one machine, a fixture RAPL
    /// counter advancing at 60 W. Each host's first rank would read it; the cluster must report
    /// 60 W (one machine), not 120, and split it between the hosts.
    @Test(.enabled(if: Harness.canMakeNetworkNamespaces, "network namespaces need root (and a kernel that allows them)"))
    func emulatedHostsOnOneMachineCountItsCounterOnce() throws {
        let tree = FixtureTree()
        tree.raplZone("intel-rapl:0", name: "package-0", energy: 0)
        let writer = CounterWriter(path: tree.root + "/intel-rapl:0/energy_uj", watts: 60, range: 262_143_328_850, initial: 0)
        defer { writer.stop() }
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.run("/bin/bash", [Harness.repository + "/launch/emucluster.sh", "run", "2", "1", "--"]
                                  + Self.small + ["--epochs", "6", "--power-source", "rapl", "--powercap-root", tree.root,
                                                           "--idle-seconds", "0.5", "--out", dir + "/run"])
        #expect(run.status == 0, "\(run.all)")
        let s = try Harness.json(dir + "/run/summary.json")
        #expect(s["nodes"]?.double == 2, "two emulated hosts")
        guard case let .array(machines)? = s["machines"] else { Issue.record("no machines in \(s)"); return }
        #expect(machines.count == 1, "one physical machine")
        // The writer thread can lag its nominal 60 W on a loaded machine, never exceed it; a counter
        // read once per emulated host would give 120 W.
        let power = try #require(s["mean_power_w"]?.double), idle = s["idle_power_w"]?.double ?? 0
        #expect(power > 0.6 * 60 && power < 1.1 * 60, "the cluster draws \(power) W: one 60 W counter, not one per host")
        #expect(idle > 0.6 * 60 && idle < 1.1 * 60, "asleep, the counter still runs at 60 W, once: \(idle) W")
        guard case let .array(byNode)? = s["energy_by_node_j"] else { Issue.record("energy_by_node_j"); return }
        let perNode = byNode.compactMap(\.double), total = try #require(s["energy_j"]?.double)
        #expect(perNode.count == 2 && abs(perNode.reduce(0, +) - total) < 1e-6 * total, "the hosts' shares add up: \(perNode)")
        #expect(perNode.allSatisfy { $0 > 0.2 * total }, "each host's ranks get their CPU-time share: \(perNode)")
        #expect(s["energy_attribution"]?.string?.contains("CPU time") == true)
    }
}
