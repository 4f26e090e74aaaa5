import Foundation
import FoundationXML
import Testing
@testable import Accounting
@testable import RunFiles
@testable import Trainer

/// What people read: the summary table, `ringwatt report`, the timeline, progress lines.
@Suite(.serialized) struct OutputTests {
    static let small = ["--data", "synthetic:4000:64:10", "--layers", "64-48-32-10", "--batch-size", "16", "--epochs", "2",
                        "--bucket-mb", "0.001"]

    @Test func reportAgreesWithTheRunAndItsFiles() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.mpirun(2, ["train"] + Self.small + ["--out", dir])
        #expect(run.status == 0, "\(run.all)")
        let table = run.stdout.split(separator: "\n").drop { !$0.hasPrefix("status") }.joined(separator: "\n")
        let report = try Harness.ringwatt(["report", dir])
        #expect(report.status == 0)
        #expect(report.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == table, "report:\n\(report.stdout)\ntrain:\n\(table)")
        // The table's figures are the files' figures.
        let s = try Harness.json(dir + "/summary.json")
        #expect(report.stdout.contains(String(format: "%.1f J", s["energy_j"]!.double!)))
        #expect(report.stdout.contains(String(format: "%.2f %%", 100 * s["test_accuracy"]!.double!)))
        let lines = try Harness.lines(dir + "/iterations.jsonl")
        #expect(abs(lines.compactMap { $0["energy_j"]?.double }.reduce(0, +) - s["energy_j"]!.double!) < 1e-3)
        #expect(Double(lines.map { Int($0["samples"]!.double!) }.reduce(0, +)) == s["samples"]!.double!)

        let missing = try Harness.ringwatt(["report", dir + "/nope"])
        #expect(missing.status != 0 && missing.stderr.contains("holds no summary.json"))
    }

    /// Help texts print as written: formulas line by line, paragraphs wrapped only between words,
    /// and no line of any command's text wider than the 80 columns the parser wraps at.
    @Test func helpTextsPrintAsWritten() throws {
        let predict = try Harness.ringwatt(["predict", "--help"]).stdout
        for formula in ["  steps(N)  = ceil(samples per epoch / (p · batch))",
                        "  t_iter(N) = s(N) · (t_compute + t_other) + t_comm(N)",
                        "  t_comm(N) = Σ_b 2(p−1)α + 2((p−1)/p)·n_b·β + ((p−1)/p)·n_b·γ",
                        "  s(N)      = max(1, p / shared cores), or 1 without --shared-cores",
                        "  P(N)      = M · P_idle + nodes · r · (P_1 − P_idle) / s(N)",
                        "  M         = 1 with --shared-cores (one machine), else nodes",
                        "  P_comm    = M · P_idle + min(p · u, cores) · (P_1 − P_idle)",
                        "  E_epoch   = steps · (P(N)·s(N)·(t_compute + t_other) + P_comm·t_comm(N))"] {
            #expect(predict.split(separator: "\n").contains(Substring(formula)), "\(formula) in:\n\(predict)")
        }
        let bench = try Harness.ringwatt(["bench-allreduce", "--help"]).stdout
        let flowed = bench.replacingOccurrences(of: "\n", with: " ")
        for sentence in ["Rank r contributes (r+1)·v(i) with v(i) = ((i mod 13) + 1)/4, so the exact sum is v(i)·p(p+1)/2.",
                         "Calls are timed in rounds of 5 back-to-back calls that start at a barrier, rounds interleaved across algorithms.",
                         "algbw = bytes / time; busbw = algbw · 2(p−1)/p (nccl-tests' definition for all-reduce)."] {
            #expect(flowed.contains(sentence), "\(sentence) in:\n\(bench)")
        }
        for command in ["train", "report", "compare", "predict", "plan", "bench-allreduce", "bench-step", "power"] {
            let help = try Harness.ringwatt([command, "--help"]).stdout
            let text = help.components(separatedBy: "\nUSAGE:")[0]  // the usage line is the parser's, one line by design
            #expect(!text.split(separator: "\n").contains { $0.count > 80 }, "\(command) --help:\n\(text)")
        }
    }

    @Test func timelineIsAValidTraceWithNestedEventsPerRank() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.mpirun(3, ["train"] + Self.small + ["--out", dir, "--timeline", "--overlap", "on"])
        #expect(run.status == 0, "\(run.all)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/timeline.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let events = try #require(root["traceEvents"] as? [[String: Any]])
        let names = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" }
        #expect(Set(names.compactMap { $0["pid"] as? Int }) == [0, 1, 2], "one process per rank")
        var spans: [String: [(Double, Double, String)]] = [:]
        for e in events {
            let ph = try #require(e["ph"] as? String)
            #expect(["X", "C", "M"].contains(ph))
            guard ph == "X" else { continue }
            let ts = try #require(e["ts"] as? Double), dur = try #require(e["dur"] as? Double)
            #expect(dur >= 0 && ts >= 0)
            spans["\(e["pid"]!)/\(e["tid"]!)", default: []].append((ts, ts + dur, e["name"] as? String ?? ""))
        }
        #expect(spans.keys.contains("0/1"), "bucket all-reduces on the communication thread")
        let expectedPhases: Set<String> = ["idle", "data", "compute", "comm", "optimizer", "eval"]
        #expect(expectedPhases.isSubset(of: Set(spans["0/0"]!.map(\.2))))
        #expect(spans["0/0"]!.contains { $0.2 == "backward layer 0" } && spans["0/1"]!.contains { $0.2 == "all-reduce bucket 0" })
        // Properly nested: on each thread any two events are disjoint or one holds the other (1 µs rounding).
        for (key, list) in spans {
            var open: [(Double, Double)] = []
            for (start, end, name) in list.sorted(by: { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }) {
                while let top = open.last, top.1 <= start + 1 { open.removeLast() }
                if let top = open.last { #expect(end <= top.1 + 1, "\(key): \(name) [\(start), \(end)] straddles [\(top.0), \(top.1)]") }
                open.append((start, end))
            }
        }
        #expect(events.contains { $0["ph"] as? String == "C" && $0["name"] as? String == "power (W)" })
    }

    @Test func progressIsALiveLineOnATerminalAndPlainLinesInALog() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let local = Harness.repository + "/launch/local.sh"
        let args = ["2"] + Self.small + ["--epochs", "3", "--log-every", "50"]
        let piped = try Harness.run(local, args + ["--out", dir + "/log"])
        #expect(piped.status == 0, "\(piped.all)")
        #expect(!piped.stdout.contains("\u{1B}[2K") && !piped.stdout.contains("\r"), "no terminal control in a log")
        #expect(piped.stdout.contains("step 50/") && piped.stdout.contains("step 100/"), "a plain line every 50 iterations")
        // Under a pseudo-terminal (util-linux script): the line is redrawn in place.
        let tty = try Harness.run("/usr/bin/script", ["-qec", ([local] + args + ["--out", dir + "/tty"]).joined(separator: " "), "/dev/null"])
        #expect(tty.status == 0, "\(tty.all)")
        #expect(tty.stdout.contains("\r\u{1B}[2Kepoch"), "live line redrawn in place")
        let quiet = try Harness.mpirun(2, ["train"] + Self.small + ["--out", dir + "/quiet", "--quiet"])
        #expect(quiet.status == 0 && quiet.stdout.split(separator: "\n").count == 1, "\(quiet.stdout)")
        #expect(ProgressOptions.detectedMode(environment: ["OMPI_COMM_WORLD_SIZE": "2"]) == .plain)
        #expect(ProgressOptions.detectedMode(environment: ["RINGWATT_TTY": "1", "OMPI_COMM_WORLD_SIZE": "2"]) == .tty)
    }
}

/// `report --html`: one self-contained page, well-formed (a strict XML parser reads it), and
/// every figure on it is the summary's.
@Suite struct HTMLReportTests {
    @Test func reportPageIsSelfContainedAndHoldsTheSummarysFigures() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Stopped at iteration 20 and resumed, so the page has what the restart cost too.
        let job = ["train", "--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--steps", "40", "--eval-every", "10",
                   "--checkpoint-every", "10", "--idle-seconds", "0", "--quiet"]
        #expect(try Harness.mpirun(2, job + ["--out", dir], environment: ["RINGWATT_FAULT_STOP_AT": "19"]).status == 3)
        let run = try Harness.mpirun(2, job + ["--resume", dir])
        #expect(run.status == 0, "\(run.all)")
        let report = try Harness.ringwatt(["report", dir, "--html"])
        #expect(report.status == 0 && report.stdout.contains("report: \(dir)/report.html"), "\(report.all)")
        let text = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        let doc = try XMLDocument(xmlString: text, options: [])
        #expect(doc.rootElement()?.name == "html")
        // Self-contained: nothing fetched, nothing run.
        for forbidden in ["http:", "https:", "<script", "src=", "href=", "@import", "url("] {
            #expect(!text.contains(forbidden), "\(forbidden) in the page")
        }
        #expect(text.components(separatedBy: "<svg ").count - 1 == 2, "the energy and power plots, inline")
        // Every tagged figure is the summary's value: the same number up to the last bit or two
        // (Foundation's two JSON readers on Linux, the decoder the report reads with and
        // JSONSerialization here, do not both round decimal text correctly).
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as? [String: Any])
        let cells = try doc.nodes(forXPath: "//td[@data-field]").compactMap { $0 as? XMLElement }
        #expect(cells.count >= 20, "\(cells.count) figures")
        for cell in cells {
            let field = cell.attribute(forName: "data-field")!.stringValue!, shown = Double(cell.attribute(forName: "data-value")!.stringValue!)!
            let parts = field.split(separator: ".").map(String.init)
            var value = summary[parts[0]]
            if parts.count == 2 { value = (value as? [String: Any])?[parts[1]] }
            if value == nil, field == "e_total_j" { value = (summary["accounting"] as? [String: Any])?["e_total_j"] }
            let expected = try #require((value as? NSNumber)?.doubleValue, "\(field) not in summary.json")
            #expect(abs(expected - shown) <= 1e-15 * abs(expected), "\(field): page \(shown), summary \(expected)")
        }
        #expect(cells.contains { $0.attribute(forName: "data-field")?.stringValue == "faults.goodput" }
                && text.contains("What faults cost") && text.contains("resumed by hand (--resume)"))
        // The evaluation iterations are named beside the plot, not drawn to its scale.
        #expect(text.contains("Dashed lines mark iterations that also evaluated"))

        // A sweep's page: this run and a one-rank one, with predictions beside them.
        let one = dir + "-1"
        defer { try? FileManager.default.removeItem(atPath: one) }
        let single = try Harness.ringwatt(["train", "--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--steps", "40",
                                           "--eval-every", "10", "--idle-seconds", "0", "--quiet", "--out", one])
        #expect(single.status == 0, "\(single.all)")
        let fit = dir + "-fit.json", errors = dir + "-errors.json", sweep = dir + "-sweep.html"
        defer { for f in [fit, errors, sweep] { try? FileManager.default.removeItem(atPath: f) } }
        try #"{"alpha_s": 1e-5, "beta_s_per_byte": 1e-9, "gamma_s_per_byte": 1e-10}"#.write(toFile: fit, atomically: false, encoding: .utf8)
        let predict = try Harness.ringwatt(["predict", "--calibration", one, "--fit", fit, "--max-nodes", "2", "--shared-cores", "2",
                                            "--measured", one, "--errors", errors])
        #expect(predict.status == 0, "\(predict.all)")
        let compare = try Harness.ringwatt(["compare", dir, one, "--html", sweep, "--predictions", errors])
        #expect(compare.status == 0 && compare.stdout.contains("report: \(sweep)"), "\(compare.all)")
        let page = try String(contentsOfFile: sweep, encoding: .utf8)
        let sweepDoc = try XMLDocument(xmlString: page, options: [])
        #expect(sweepDoc.rootElement()?.name == "html" && !page.contains("http") && !page.contains("<script"))
        #expect(page.contains(dir) && page.contains(one) && page.contains("Prediction against measurement"))
        #expect(page.components(separatedBy: "<svg ").count - 1 == 2, "energy and time against nodes")
        let lonely = try Harness.ringwatt(["compare", dir, "--predictions", errors])
        #expect(lonely.status != 0 && lonely.stderr.contains("give --html FILE too"))
    }
}
