import Foundation
import FoundationXML
import Testing

/// `ringwatt plan` from real calibration runs and fit files: the table and JSON agree with the
/// closed form, the frontier and the pick follow from the rows, the SVG is well-formed, and every
/// bad input gets one line.
@Suite struct PlanTests {
    static let mlp = ["--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--steps", "30", "--idle-seconds", "0", "--quiet"]

    /// Two calibrations of one model (batch 16 and 32), one of another, and fit files for both
    /// levels (also as fitted with waits that spun first and that slept at once), the inter-node ring on 2 nodes × 2 ranks, and
    /// one that isn't a fit.
    struct Fixture {
        let dir = Harness.temporaryDirectory()
        var cal16: String { dir + "/cal16" }
        var cal32: String { dir + "/cal32" }
        var other: String { dir + "/other" }
        var intra: String { dir + "/intra.json" }
        var inter: String { dir + "/inter.json" }
        var wide: String { dir + "/wide.json" }
        var wideShared: String { dir + "/wide-shared.json" }
        var spunIntra: String { dir + "/spun-intra.json" }
        var spunInter: String { dir + "/spun-inter.json" }
        var sleptIntra: String { dir + "/slept-intra.json" }
        var sleptInter: String { dir + "/slept-inter.json" }
        var noMachine: String { dir + "/no-machine.json" }

        init() throws {
            for (out, extra) in [(cal16, ["--batch-size", "16"]), (cal32, ["--batch-size", "32"]),
                                 (other, ["--layers", "32-8-4", "--batch-size", "16"])] {
                let r = try Harness.ringwatt(["train"] + PlanTests.mlp + extra + ["--out", out])
                #expect(r.status == 0, "\(r.all)")
            }
            func fit(_ path: String, nodes: Int, ranks: Int, alpha: Double, beta: Double, extra: String = "") throws {
                let text = """
                    {"alpha_s": \(alpha), "beta_s_per_byte": \(beta), "gamma_s_per_byte": 1e-10, "nodes": \(nodes), "ranks": \(ranks),\(extra)
                     "conversion_s_per_byte": {"bf16": 2e-10, "f16": 2e-10}, "link_gbit": 1}
                    """
                try text.write(toFile: path, atomically: false, encoding: .utf8)
            }
            try fit(intra, nodes: 1, ranks: 2, alpha: 2e-5, beta: 5e-10)
            try fit(inter, nodes: 2, ranks: 2, alpha: 1e-4, beta: 8e-9)
            try fit(wide, nodes: 2, ranks: 4, alpha: 3e-4, beta: 4e-9)
            try fit(wideShared, nodes: 2, ranks: 4, alpha: 3e-4, beta: 4e-9, extra: #" "ranks_per_machine": 4,"#)
            // As bench-allreduce records how its waits ran: tested and slept, spinning first or not.
            let spun = #" "comm_wait_us": 50, "comm_spin_us": 200,"#, slept = #" "comm_wait_us": 50, "comm_spin_us": 0,"#
            try fit(spunIntra, nodes: 1, ranks: 2, alpha: 2e-5, beta: 5e-10, extra: spun)
            try fit(spunInter, nodes: 2, ranks: 2, alpha: 1e-4, beta: 8e-9, extra: spun)
            try fit(sleptIntra, nodes: 1, ranks: 2, alpha: 4e-5, beta: 1e-9, extra: slept)
            try fit(sleptInter, nodes: 2, ranks: 2, alpha: 3e-4, beta: 2e-8, extra: slept)
            try fit(noMachine, nodes: 2, ranks: 2, alpha: 1e-4, beta: 8e-9, extra: #" "ranks_per_machine": 0,"#)
        }
    }

    @Test func planFromRunsAndFits() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let json = f.dir + "/plan.json", svg = f.dir + "/plan.svg"
        let r = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--calibration", f.cal32, "--fit", f.intra, "--fit", f.inter,
                                      "--epochs", "3", "--max-nodes", "4", "--bucket-mb", "whole", "--json", json, "--svg", svg])
        #expect(r.status == 0, "\(r.all)")
        #expect(r.stdout.contains("plan (least energy): "))
        let plan = try Harness.json(json)
        let rows = plan["rows"]!.array!
        // 1×1 alone, then {1,2,4} nodes × {1,2} ranks − 1×1 = 5 topologies × 2 wires × overlap off (one bucket: nothing to overlap).
        #expect(rows.count == 1 + 5 * 2, "\(rows.count) rows")
        // 2 nodes × 1 rank, f32, weak scaling at the first calibration's batch: the closed form from
        // its summary and the inter fit. Its 2.4 kB gradient goes as the trainer's `auto` sends it,
        // by recursive doubling: one step of α + n·β + n·γ.
        let s = try Harness.json(f.cal16 + "/summary.json")
        let n = s["comm_buckets_bytes"]!.array!.map { $0.double! }.reduce(0, +)
        let stepSeconds = try Harness.medianTrainingIterationSeconds(f.cal16)
        let comm = 1e-4 + n * 8e-9 + n * 1e-10
        let row = try #require(rows.first { $0["configuration"]?.string == "2×1 f32 1 bucket" })
        #expect(abs(row["t_iter_s"]!.double! - (stepSeconds + comm)) < 1e-9 * (stepSeconds + comm))
        #expect(row["batch_per_rank"]?.double == 16 && row["compute_basis"]?.string == "measured")
        // Work: 3 epochs of 2400 samples at 2 × 16 per step.
        #expect(row["steps"]?.double == (3 * 2400 / 32.0).rounded(.up))
        // The frontier is exactly the rows no other row beats on both time and energy.
        for a in rows {
            let dominated = rows.contains { b in
                b["seconds"]!.double! <= a["seconds"]!.double! && b["energy_j"]!.double! <= a["energy_j"]!.double!
                    && (b["seconds"]!.double! < a["seconds"]!.double! || b["energy_j"]!.double! < a["energy_j"]!.double!)
            }
            #expect(a["on_frontier"] == .bool(!dominated), "\(a["configuration"]!)")
        }
        // The pick is the least energy (no deadline), and the least energy is on the frontier.
        let least = rows.min { $0["energy_j"]!.double! < $1["energy_j"]!.double! }!
        #expect(plan["least_energy"]?["configuration"] == least["configuration"] && least["on_frontier"] == .bool(true))
        // The plot is well-formed XML, self-contained, and draws every configuration.
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        let doc = try XMLDocument(xmlString: text, options: [])
        #expect(doc.rootElement()?.name == "svg")
        #expect(!text.contains("href") && text.components(separatedBy: "<circle").count - 1 >= rows.count)

        // The inter-node ring fitted on 4 ranks prices rings; this gradient goes by recursive
        // doubling, pairs exchanging, which the 2-rank fit prices: no row changes.
        let withWide = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--calibration", f.cal32, "--fit", f.intra, "--fit", f.inter,
                                             "--fit", f.wide, "--epochs", "3", "--max-nodes", "4", "--bucket-mb", "whole", "--json", json])
        #expect(withWide.status == 0, "\(withWide.all)")
        #expect(try Harness.json(json)["rows"]!.array!.map { $0["t_iter_s"]!.double! } == rows.map { $0["t_iter_s"]!.double! })

        // Strong scaling over the two calibrations: 96 a step, 48, 24, 16 (3 ranks don't divide… 96 do) per rank.
        let strong = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--calibration", f.cal32, "--fit", f.intra, "--fit", f.inter,
                                           "--samples", "48000", "--global-batch", "64", "--max-nodes", "8", "--ranks-per-node", "1",
                                           "--wire", "f32", "--overlap", "off", "--bucket-mb", "whole", "--json", json])
        #expect(strong.status == 0, "\(strong.all)")
        let bases = Dictionary(try Harness.json(json)["rows"]!.array!.map { ($0["configuration"]!.string!, $0["compute_basis"]!.string!) },
                               uniquingKeysWith: { a, _ in a })
        #expect(bases["1×1"] == "extrapolated" && bases["2×1 f32 1 bucket"] == "measured" && bases["4×1 f32 1 bucket"] == "measured"
                && bases["8×1 f32 1 bucket"] == "extrapolated", "\(bases)")
    }

    /// Fits whose waits spun first and fits whose waits slept at once (as bench-allreduce records
    /// them): with every host on one 2-core machine, 2×1 (a core per rank) is priced at the first,
    /// 2×2 (4 ranks on 2 cores, stretched 2×) at the second — its 2.4 kB gradient by recursive
    /// doubling, one step inside a node and one across; with the cores unknown, at the first.
    @Test func machinesWithMoreRanksThanCoresArePricedWithoutSpin() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let n = try Harness.json(f.cal16 + "/summary.json")["comm_buckets_bytes"]!.array!.map { $0.double! }.reduce(0, +)
        let step = try Harness.medianTrainingIterationSeconds(f.cal16)
        let intra = 2e-5 + n * (5e-10 + 1e-10), inter = 1e-4 + n * (8e-9 + 1e-10)
        let slowIntra = 4e-5 + n * (1e-9 + 1e-10), slowInter = 3e-4 + n * (2e-8 + 1e-10)
        for (shared, expected) in [("2", ["2×1": (1.0, inter), "2×2": (2.0, slowIntra + slowInter)]),
                                   ("0", ["2×1": (1.0, inter), "2×2": (1.0, intra + inter)])] {
            let json = f.dir + "/plan-\(shared).json"
            let r = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--fit", f.spunIntra, "--fit", f.spunInter,
                                          "--fit", f.sleptIntra, "--fit", f.sleptInter, "--epochs", "1", "--max-nodes", "2",
                                          "--wire", "f32", "--bucket-mb", "whole", "--shared-cores", shared, "--json", json])
            #expect(r.status == 0, "\(r.all)")
            #expect(r.stdout.contains(shared == "2" ? "waits: machines with more ranks than their 2 cores" : "fits without spinning waits unused"), "\(r.stdout)")
            let rows = try Harness.json(json)["rows"]!.array!
            for (topology, (stretch, comm)) in expected {
                let row = try #require(rows.first { $0["configuration"]?.string == topology + " f32 1 bucket" })
                // (no contention calibrated: the step as measured, stretched by time-slicing)
                let t = row["t_iter_s"]!.double!
                #expect(abs(t - (stretch * step + comm)) < 1e-9 * t, "\(topology) shared \(shared): \(t) vs \(stretch * step + comm)")
                #expect(row["priced_without_spin"] == .bool(shared == "2" && topology == "2×2"), "\(topology) shared \(shared)")
            }
        }
    }

    @Test func badInputGetsOneLine() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let base = ["plan", "--calibration", f.cal16, "--fit", f.intra, "--fit", f.inter]
        let cases: [([String], String)] = [
            (base, "give the work as exactly one of --tokens, --samples, --epochs"),
            (base + ["--epochs", "1", "--samples", "5"], "exactly one of"),
            (base + ["--samples=-3"], "the work must be positive"),
            (base + ["--tokens", "1000"], "counts samples, not tokens"),
            (base + ["--epochs", "1", "--deadline", "soon"], "--deadline must be a positive duration"),
            (base + ["--epochs", "1", "--deadline", "1ms"], "--deadline must be a positive duration"),
            (base + ["--epochs", "1", "--global-batch", "2.5"], "--global-batch must be a positive whole number"),
            (base + ["--epochs", "1", "--wire", "f8"], "--wire: cannot read 'f8'"),
            (base + ["--epochs", "1", "--deadline", "1e-6"], "no configuration meets the deadline of 1e-06 s: the fastest, "),
            (base + ["--epochs", "1", "--calibration", f.other], "trains another model"),
            (["plan", "--calibration", f.cal16, "--fit", f.inter, "--epochs", "1"], "needs the intra-node fit"),
            (["plan", "--calibration", f.cal16, "--fit", f.intra, "--epochs", "1"], "needs the inter-node fit"),
            (["plan", "--calibration", f.cal16, "--fit", f.wide, "--epochs", "1"], "needs the intra-node fit"),
            (base + ["--fit", f.wideShared, "--epochs", "1", "--shared-cores", "2"], "ran 4 ranks on a machine of 2 cores, which times the scheduler"),
            (base + ["--fit", f.sleptInter, "--fit", f.sleptInter, "--epochs", "1"], "\(f.sleptInter): given to --fit twice; give each fit once"),
            (["plan", "--calibration", f.cal16, "--fit", f.sleptIntra, "--epochs", "1"], "needs the inter-node fit"),
            (["plan", "--calibration", f.cal16, "--fit", f.noMachine, "--epochs", "1"], "not a bench-allreduce --fit file"),
            (["plan", "--calibration", f.cal16, "--fit", f.intra, "--fit", f.inter, "--fit", f.spunInter, "--epochs", "1"],
             "\(f.spunInter): waited (µs: sleep, spin, spin limit) 50/200/-, \(f.inter) -/-/-; fits of one level combine only when they repeat one experiment"),
            (["plan", "--calibration", f.cal16, "--fit", f.cal16 + "/summary.json", "--epochs", "1"], "not a bench-allreduce --fit file"),
            (["plan", "--calibration", f.dir, "--fit", f.inter, "--epochs", "1"], f.dir),
            (["plan", "--fit", f.inter, "--epochs", "1"], "--calibration: give at least one"),
        ]
        for (arguments, message) in cases {
            let r = try Harness.ringwatt(arguments)
            #expect(r.status != 0 && r.stderr.contains(message), "\(arguments.suffix(4)): \(r.all)")
            #expect(!r.stderr.contains("Fatal error") && r.stderr.split(separator: "\n").count <= 3, "\(r.stderr)")
        }
    }

    /// A calibration on one node with 2 ranks prices every machine of 2 or more ranks at what its
    /// ranks measured: the 1×2 row is that run's slowest rank's compute and the rest of its step
    /// plus the intra fit's all-reduce; a machine of one rank is not contended. Bad calibrations get one line.
    @Test func ranksSharingANodeAreCalibrated() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        for (name, extra) in [("pair", ["--overlap", "off"]), ("overlapped", ["--overlap", "on"]), ("pair32", ["--overlap", "off", "--batch-size", "32"]),
                              ("overlapped2", ["--overlap", "on", "--bucket-mb", "0.0002"])] {
            let r = try Harness.mpirun(2, ["train"] + Self.mlp + ["--batch-size", "16"] + extra + ["--out", dir + "/" + name])
            #expect(r.status == 0, "\(r.all)")
        }
        let json = dir + "/plan.json"
        let r = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--calibration", dir + "/pair", "--fit", f.intra, "--fit", f.inter,
                                      "--epochs", "3", "--max-nodes", "2", "--wire", "f32", "--bucket-mb", "whole", "--json", json])
        #expect(r.status == 0 && r.stdout.contains("contention: 2 ranks on one machine compute "), "\(r.all)")
        let rows = try Harness.json(json)["rows"]!.array!
        func row(_ label: String) throws -> JSON { try #require(rows.first { $0["configuration"]?.string == label }) }
        let training = try Harness.lines(dir + "/pair/iterations.jsonl").filter { $0["eval_s"]?.double == 0 && ($0["samples"]?.double ?? 0) > 0 }
        let compute = try Harness.medianOfTraining(dir + "/pair") { $0["compute_max_s"]!.double! }
        #expect(training.allSatisfy { $0["compute_max_s"]!.double! >= $0["compute_s"]!.double! })
        let other = try Harness.medianOfTraining(dir + "/pair") { max(0, $0["seconds"]!.double! - $0["compute_s"]!.double! - $0["comm_exposed_s"]!.double!) }
        let n = try Harness.json(f.cal16 + "/summary.json")["comm_buckets_bytes"]!.array!.map { $0.double! }.reduce(0, +)
        let pair = try row("1×2 f32 1 bucket"), expected = compute + other + 2e-5 + n * 5e-10 + n * 1e-10
        #expect(abs(pair["t_iter_s"]!.double! - expected) < 1e-9 * expected, "\(pair)")
        let packed = try row("2×2 f32 1 bucket")
        #expect(pair["contention_ranks"]?.double == 2 && packed["contention_ranks"]?.double == 2)
        let spread = try row("2×1 f32 1 bucket")
        #expect(spread["contention_ranks"]?.double == 1 && spread["contention_compute"]?.double == 1)

        // With overlap on beside it, a machine whose 2 cores both compute is priced at what the
        // thread cost the overlapped run's compute: the 1×2 overlap row computes as that run did
        // (its buckets are the row's), and the rest of its step is the pair's.
        let overlapJSON = dir + "/overlap-plan.json"
        let o = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--calibration", dir + "/pair", "--calibration", dir + "/overlapped2",
                                      "--fit", f.intra, "--fit", f.inter, "--epochs", "3", "--max-nodes", "1", "--wire", "f32",
                                      "--overlap", "on", "--bucket-mb", "0.0002", "--shared-cores", "2", "--json", overlapJSON])
        #expect(o.status == 0 && o.stdout.contains("overlap: on 2 ranks sharing a machine the communication thread costs each rank's compute"), "\(o.all)")
        let onCompute = try Harness.medianOfTraining(dir + "/overlapped2") { $0["compute_max_s"]!.double! }
        let hidden = try #require(try Harness.json(overlapJSON)["rows"]!.array!.first { $0["configuration"]?.string == "1×2 f32 overlap 0.2 kB" })
        let rest = hidden["t_iter_s"]!.double! - hidden["comm_exposed_s"]!.double!
        let expectedRest = compute + max(0, onCompute - compute) + other
        #expect(abs(rest - expectedRest) < 1e-9 * expectedRest, "\(hidden)")
        let derived = try Harness.ringwatt(["plan", "--calibration", f.cal16, "--calibration", dir + "/pair", "--fit", f.intra, "--fit", f.inter,
                                            "--epochs", "3", "--max-nodes", "1", "--overlap", "on", "--bucket-mb", "0.0002", "--shared-cores", "2"])
        #expect(derived.status == 0 && derived.stdout.contains("note: no calibration with overlap on"), "\(derived.all)")

        // A 2-node run, overlap on without its overlap-off pair, one bucket overlapped, another batch per rank, no 1-rank run: one line each.
        let twoNodes = dir + "/two-nodes"
        try FileManager.default.copyItem(atPath: dir + "/pair", toPath: twoNodes)
        let summary = try String(contentsOfFile: twoNodes + "/summary.json", encoding: .utf8)
        try summary.replacingOccurrences(of: "\"nodes\" : 1", with: "\"nodes\" : 2").write(toFile: twoNodes + "/summary.json", atomically: false, encoding: .utf8)
        let base = ["plan", "--fit", f.intra, "--fit", f.inter, "--epochs", "1", "--calibration", f.cal16, "--calibration"]
        let cases: [([String], String)] = [
            (base + [twoNodes], "a calibration must be a 1-node run (it has 2)"),
            (base + [dir + "/overlapped2"], "with --overlap off beside it"),
            (base + [dir + "/pair", "--calibration", dir + "/overlapped"], "overlap on with one bucket"),
            (base + [dir + "/pair32"], "calibrate more ranks on a node at the batch of"),
            (["plan", "--fit", f.intra, "--fit", f.inter, "--epochs", "1", "--calibration", dir + "/pair"], "give at least one 1-node, 1-rank run"),
        ]
        for (arguments, message) in cases {
            let bad = try Harness.ringwatt(arguments)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(arguments.suffix(2)): \(bad.all)")
            #expect(bad.stderr.split(separator: "\n").count <= 3, "\(bad.stderr)")
        }
    }
}
