import Foundation
import Testing

extension PlanTests {
    /// Repeated calibrations are paired in the order given. The i-th overlap-on run of 2 ranks
    /// against the i-th overlap-off one: the thread costs the median of the pairs' compute
    /// differences — not the difference of the two medians, which a drifting machine splits across
    /// passes. Three passes at drift 1, 1.5, 2 (off, median compute c each time its drift) and the
    /// on-runs at 1.5·c times 1, 3 (an outlier), 2: the pairs differ by 0.5, 3 and 1 · c, median
    /// 1 · c; the medians' difference is 3 − 1.5 = 1.5 · c. The i-th overlap-off run of 2 ranks
    /// against the i-th 1-rank run: with the 1-rank runs at drift 1, 1, 2 the pairs' ratios are
    /// κ·(1, 1.5, 1), median κ (the medians' ratio 1.5 · κ), so 2 ranks on one machine compute as
    /// the drift-1 run did beside the drift-1 lone rank.
    @Test func calibrationsArePairedInTheOrderGiven() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        for (name, extra) in [("off", ["--overlap", "off"]), ("on", ["--overlap", "on", "--bucket-mb", "0.0002"])] {
            let r = try Harness.mpirun(2, ["train"] + Self.mlp + ["--batch-size", "16"] + extra + ["--out", dir + "/" + name])
            #expect(r.status == 0, "\(r.all)")
        }
        let compute = { (json: JSON) in json["compute_max_s"]!.double! }
        let median = Harness.medianOfTraining
        let c = try median(dir + "/off", compute), on = try median(dir + "/on", compute)
        func drifted(_ run: String, _ factor: Double, wall: Bool, as name: String? = nil) throws -> String {
            try Self.drifted(run.hasPrefix("/") ? run : dir + "/" + run, factor, wall: wall, to: "\(dir)/\(name ?? run)-\(factor)")
        }
        let offs = try [1, 1.5, 2].map { try drifted("off", $0, wall: true) }
        let ons = try [1, 3, 2].map { try drifted("on", $0 * 1.5 * c / on, wall: false) }
        let alone = try [(1.0, "a"), (1, "b"), (2, "c")].map { try drifted(f.cal16, $0, wall: true, as: "alone-" + $1) }
        let paired = try zip(ons, offs).map { try median($0, compute) - median($1, compute) }.sorted()[1]
        #expect(abs(paired - c) < 1e-6 * c, "the pairs' median: \(paired) against \(c)")
        let json = dir + "/plan.json"
        let r = try Harness.ringwatt(["plan"] + alone.flatMap { ["--calibration", $0] } + zip(offs, ons).flatMap { ["--calibration", $0, "--calibration", $1] }
                                     + ["--fit", f.intra, "--fit", f.inter, "--epochs", "3", "--max-nodes", "1", "--wire", "f32",
                                        "--overlap", "on,off", "--bucket-mb", "0.0002,whole", "--shared-cores", "2", "--json", json])
        #expect(r.status == 0, "\(r.all)")
        // The table shows how far the pairs agree: contention κ·(1, 1.5, 1), the thread (0.5, 3, 1)·c a step.
        let kappa = try c / median(f.cal16) { $0["compute_s"]!.double! }
        let buckets = Double(try Harness.json(ons[0] + "/summary.json")["comm_buckets_bytes"]!.array!.count)
        for spread in [String(format: "3 pairs from %.3f× to %.3f×", kappa, 1.5 * kappa),
                       String(format: "3 pairs from %.1f µs to %.1f µs", 1e6 * 0.5 * c / buckets, 1e6 * 3 * c / buckets)] {
            #expect(r.stdout.contains(spread), "\(spread)\n\(r.stdout)")
        }
        // The 1×2 rows compute as the drift-1 overlap-off run (the pairs' contention on the median
        // lone rank, drift 1), the overlap row plus the paired cost; the rest of their steps is its.
        let rows = try Harness.json(json)["rows"]!.array!
        let other = try median(offs[0]) { max(0, $0["seconds"]!.double! - $0["compute_s"]!.double! - $0["comm_exposed_s"]!.double!) }
        for (label, thread) in [("1×2 f32 1 bucket", 0.0), ("1×2 f32 overlap 0.2 kB", paired)] {
            let row = try #require(rows.first { $0["configuration"]?.string == label })
            let expected = try median(offs[0], compute) + thread + other
            let rest = row["t_iter_s"]!.double! - row["comm_exposed_s"]!.double!
            #expect(abs(rest - expected) < 1e-9 * expected, "\(row) against \(expected)")
        }

        // An overlap-on run past the overlap-off ones, or on another wire than the first: one line each.
        let bf16 = dir + "/on-bf16"
        try FileManager.default.copyItem(atPath: ons[0], toPath: bf16)
        let summary = try String(contentsOfFile: bf16 + "/summary.json", encoding: .utf8)
        try summary.replacingOccurrences(of: "\"wire_dtype\" : \"f32\"", with: "\"wire_dtype\" : \"bf16\"").write(toFile: bf16 + "/summary.json", atomically: false, encoding: .utf8)
        let base = ["plan", "--fit", f.intra, "--fit", f.inter, "--epochs", "1", "--shared-cores", "2", "--calibration", f.cal16, "--calibration", offs[0]]
        for (extra, message) in [([ons[0], "--calibration", ons[1]], "with --overlap off beside it (one for each run with overlap on"),
                                 ([alone[1], "--calibration", ons[0], "--calibration", offs[1], "--calibration", bf16], "reduced other buckets or another wire than"),
                                 ([offs[1]], "give a 1-rank calibration at its batch beside it (one for each run of more ranks")] {
            let bad = try Harness.ringwatt(base + ["--calibration"] + extra)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(bad.all)")
            #expect(bad.stderr.split(separator: "\n").count <= 3, "\(bad.stderr)")
        }
    }

    /// A copy at `copy` of the run at `run` whose iterations took `factor` × its compute (and,
    /// `wall`, its seconds and exposed communication): the run as a machine `factor` × slower
    /// would have computed it.
    static func drifted(_ run: String, _ factor: Double, wall: Bool, to copy: String) throws -> String {
        try FileManager.default.copyItem(atPath: run, toPath: copy)
        let keys = ["compute_s", "compute_max_s"] + (wall ? ["seconds", "comm_exposed_s"] : [])
        let lines = try String(contentsOfFile: copy + "/iterations.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for key in keys { if let v = object[key] as? Double { object[key] = v * factor } }
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: copy + "/iterations.jsonl", atomically: false, encoding: .utf8)
        return copy
    }
}
