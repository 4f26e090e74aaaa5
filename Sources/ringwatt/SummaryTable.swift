import Foundation
import Trainer

/// The end-of-run table printed by rank 0 (and by `ringwatt report`).
enum SummaryTable {
    /// "estimate", "estimate on all 4 nodes", or "rapl on node 0, estimate on node 1".
    static func sourcesByNode(_ s: JSON) -> String {
        guard case let .array(nodes)? = s["energy_source_by_node"], nodes.count > 1 else { return s["energy_source"]?.string ?? "?" }
        let names = nodes.map { $0.string ?? "?" }
        if Set(names).count == 1 { return "\(names[0]) on all \(names.count) nodes" }
        return names.enumerated().map { "\($0.element) on node \($0.offset)" }.joined(separator: ", ")
    }

    static func render(_ s: JSON, directory: String) -> String {
        func num(_ key: String) -> Double { s[key]?.double ?? .nan }
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        let energy = num("energy_j")
        func share(_ key: String) -> String { energy > 0 ? f(100 * num(key) / energy, 1) + " %" : "-" }
        var rows: [(String, String)] = [
            ("status", s["status"]?.string ?? "?"),
            ("ranks / nodes", "\(Int(num("ranks"))) / \(Int(num("nodes")))"),
            ("epochs / iterations", "\(Int(num("epochs"))) / \(Int(num("iterations")))"),
            ("time", f(num("seconds"), 2) + " s (training loop), " + f(num("train_seconds"), 2) + " s without data/eval"),
            ("throughput", f(num("samples_per_s"), 0) + " samples/s"),
            ("final loss", f(num("final_loss"), 4)),
            ("test accuracy", s["test_accuracy"]?.double.map { f(100 * $0, 2) + " %" } ?? "-"),
            ("energy", f(energy, 1) + " J = " + String(format: "%.3g", num("energy_kwh")) + " kWh, "
                + String(format: "%.4g", num("joules_per_sample")) + " J/sample"),
            ("  compute", f(num("energy_compute_j"), 1) + " J (" + share("energy_compute_j") + ")"),
            ("  comm", f(num("energy_comm_j"), 1) + " J (" + share("energy_comm_j") + ")"),
            ("  other", f(num("energy_other_j"), 1) + " J (" + share("energy_other_j") + ")"),
            ("mean power", f(num("mean_power_w"), 1) + " W"),
            ("energy source", sourcesByNode(s)),
            ("communication", String(format: "%.1f MB sent per rank, %.3f s, busbw %.2f GB/s (%@)",
                                     num("comm_bytes") / 1e6, num("comm_s"), num("busbw_GBps"),
                                     s["comm_algorithm"]?.string ?? "?")),
            ("CO2", f(num("co2_g"), 3) + " g"),
            ("peak RSS per rank", f(num("peak_rss_mib"), 1) + " MiB"),
            ("run directory", directory),
        ]
        if let cost = s["cost"]?.double { rows.insert(("cost", f(cost, 6)), at: rows.count - 2) }
        if s["energy_source"]?.string?.contains("estimate") == true {
            rows.append(("note", "energy is a model-based ESTIMATE (no counter on this machine); see summary.json 'estimate'"))
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n")
    }
}
