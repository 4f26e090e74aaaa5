import Foundation
import Testing

/// scripts/plan_study.py, which judges a plan study (the issue's criteria: errors within 15 %, the
/// rank correlation of energy, the regret; and the pairs of configurations the runs tell apart),
/// on hand-made passes whose figures are worked out by hand.
@Suite struct PlanStudyTests {
    /// Four configurations over two passes. Predicted energy 4, 1, 2, 3 (1×1, 1×2, 2×1, 2×2), measured
    /// 4.0 / 4.4, 2.2 / 2.0, 1.8 / 1.9, 3.0 / 4.2: the medians (the upper middle) 4.4, 2.2, 1.9, 4.2
    /// swap one neighbouring pair of the predicted order, ρ = 1 − 6·2/(4·15) = 0.8; the pick 1×2
    /// (predicted 1) measured 2.2 against the best 1.9, regret 2.2/1.9 − 1 = 15.8 %. 2×1 and 2×2 take
    /// longer per sample than 1×1 when measured (1.1 s against 1.0), so with the deadline the best is
    /// the pick itself: 0 %. The runs tell apart 5 of the 6 pairs (1×1's 4.0–4.4 overlaps 2×2's
    /// 3.0–4.2), and the plan orders 4 of those the same way: not 2×1 (1.8–1.9) below 1×2 (2.0–2.2).
    /// The passes against each other: times alike, energy 40 % apart at most (2×2), the same order
    /// (ρ 1), and the odd pass's cheapest, 2×1, is the even pass's too.
    @Test func aStudysVerdictsFollowFromItsPasses() throws {
        let r = try Self.study([
            ("1×1", 1, 1, 1.0, 1.0, 4, [4.0, 4.4]), ("1×2 f32 1 bucket", 1, 2, 1.1, 1.1, 1, [2.2, 2.0]),
            ("2×1 f32 1 bucket", 2, 1, 1.2, 2.2, 2, [1.8, 1.9]), ("2×2 f32 1 bucket", 2, 2, 2.4, 4.4, 3, [3.0, 4.2]),
        ])
        #expect(r.status == 0, "\(r.all)")
        for line in [
            "== 1 Gbit/s (\(r.root)/g1, 2 passes; medians over them)",
            "4 configurations, 2–2 runs each (median): worst |time error| 45.5 %, worst |energy error| 54.5 %, within 15 %: 1 of 4; rank correlation of energy 0.800",
            "pairs the runs tell apart (every run of one below every run of the other; two alike by chance 1 in 3): 5 of 6; the plan orders 4 of them the same way; not 2×1 f32 1 bucket below 1×2 f32 1 bucket",
            "worst |time difference| 0.0 %, worst |energy difference| 40.0 %, within 15 %: 3 of 4; rank correlation of energy 1.000; regret (no deadline) 0.0 %",
            "regret (no deadline): pick 1×2 f32 1 bucket measured 2.2 J/token, best measured 2×1 f32 1 bucket 1.9: 15.8 %",
            "regret (deadline: as fast per sample as 1×1): pick 1×2 f32 1 bucket measured 2.2 J/token, best measured 1×2 f32 1 bucket 2.2: 0.0 %",
        ] {
            #expect(r.stdout.contains(line), "\(line)\n\(r.stdout)")
        }
    }

    /// A tie in the plan orders nothing: three configurations whose runs (1.0–1.1, 2.0–2.1, 3.0–3.1)
    /// tell apart every pair, predicted 2, 2, 3 — the plan orders the two pairs with 2×1 and leaves
    /// 1×1 and 1×2 level. With one run a configuration, no pair can be told apart.
    @Test func aTiedPredictionDoesNotOrderAPairTheRunsTellApart() throws {
        let r = try Self.study([
            ("1×1", 1, 1, 1.0, 1.0, 2, [1.0, 1.1]), ("1×2 f32 1 bucket", 1, 2, 1.0, 1.0, 2, [2.0, 2.1]),
            ("2×1 f32 1 bucket", 2, 1, 1.0, 1.0, 3, [3.0, 3.1]),
        ])
        #expect(r.status == 0, "\(r.all)")
        let line = "pairs the runs tell apart (every run of one below every run of the other; two alike by chance 1 in 3): 3 of 3; the plan orders 2 of them the same way; not 1×1 below 1×2 f32 1 bucket\n"
        #expect(r.stdout.contains(line), "\(r.stdout)")
        // One pass: every pair's runs are apart, by chance alone.
        let one = try Self.study([("1×1", 1, 1, 1.0, 1.0, 2, [1.0]), ("1×2 f32 1 bucket", 1, 2, 1.0, 1.0, 2, [2.0])])
        #expect(one.status == 0, "\(one.all)")
        #expect(one.stdout.contains("pairs the runs tell apart: none can be, with one run of a configuration\n"), "\(one.stdout)")
    }

    typealias Configuration = (String, Int, Int, Double, Double, Double, [Double])

    /// Writes a study at 1 Gbit/s, a pass for each measured J — per configuration its label, nodes ×
    /// ranks per node, predicted and measured seconds a step (batch 1 a rank), predicted J, measured
    /// J per pass — and runs plan_study.py over it.
    static func study(_ configurations: [Configuration]) throws -> (status: Int32, stdout: String, all: String, root: String) {
        let root = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for pass in 0..<(configurations.first?.6.count ?? 0) {
            let rows = configurations.map { c in
                #"{"configuration": "\#(c.0)", "nodes": \#(c.1), "ranks_per_node": \#(c.2), "batch_per_rank": 1, "t_iter_s": \#(c.3), "comm_exposed_s": 0}"#
            }
            let measured = configurations.map { c in
                #"{"configuration": "\#(c.0)", "t_iter_predicted_s": \#(c.3), "t_iter_measured_s": \#(c.4), "j_per_sample_predicted": \#(c.5), "j_per_sample_measured": \#(c.6[pass])}"#
            }
            let dir = "\(root)/g1/pass\(pass + 1)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try #"{"unit": "token", "rows": [\#(rows.joined(separator: ", "))], "measured": [\#(measured.joined(separator: ", "))]}"#
                .write(toFile: dir + "/plan.json", atomically: false, encoding: .utf8)
        }
        let r = try Harness.run("/usr/bin/env", ["python3", Harness.repository + "/scripts/plan_study.py", root])
        return (r.status, r.stdout, r.all, root)
    }
}
