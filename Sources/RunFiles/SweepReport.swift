import Foundation

/// `ringwatt compare RUN… --html FILE`: a sweep on one page — the comparison table, energy per
/// sample (token) and time per iteration against nodes with `predict`'s figures beside the
/// measured ones and its errors, each run's energy split, and what each ran on. Self-contained
/// and well-formed like `RunReport`.
public struct SweepReport {
    public let runs: [RunOnDisk]
    /// The comparison table as `compare` prints it.
    public let header: [String]
    public let rows: [[String]]
    /// `predict --errors` rows, if given: predictions at the runs' node counts.
    public let predictions: [PredictionError]
    public let conclusions: [String]

    public init(runs: [RunOnDisk], header: [String], rows: [[String]], predictions: [PredictionError], conclusions: [String]) {
        self.runs = runs; self.header = header; self.rows = rows; self.predictions = predictions; self.conclusions = conclusions
    }

    static let e = SVGChart.escaped

    public func html() -> String {
        let unit = runs.first?.summary.sampleUnit ?? "sample"
        let title = "Ringwatt sweep — \(runs.count) runs, \(runs.first?.summary.config.model.rawValue ?? "")"
        var body = "<h1>\(Self.e(title))</h1>\n<p class=\"sub\">" + runs.map { Self.e($0.path) }.joined(separator: " · ") + "</p>\n"
        body += "<ul>" + conclusions.map { "<li>\(Self.e($0))</li>" }.joined() + "</ul>\n"
        body += charts(unit: unit)
        if !predictions.isEmpty { body += errors(unit: unit) }
        body += "<h2>The runs</h2>\n<div class=\"scroll\"><table><tr>" + header.map { "<th>\(Self.e($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            body += "<tr>" + row.enumerated().map { $0.offset == 0 ? "<td>\(Self.e($0.element))</td>" : "<td class=\"n\">\(Self.e($0.element))</td>" }.joined() + "</tr>\n"
        }
        body += "</table></div>\n" + splits() + machines()
        return HTMLPage.document(title: title, body: body)
    }

    /// Energy per unit and time per iteration against nodes; runs that differ in something other
    /// than nodes (a variant: overlap, a wire format) are their own points, named on hover.
    func charts(unit: String) -> String {
        // Runs that change how the gradient travels (wire format, overlap) against the first are variants.
        func isVariant(_ r: RunOnDisk) -> Bool {
            guard let first = runs.first?.summary else { return false }
            return r.summary.wireDtype != first.wireDtype || r.summary.overlap != first.overlap
        }
        func measured(_ value: (RunOnDisk) -> Double, variants: Bool = false) -> [SVGChart.Point] {
            runs.filter { isVariant($0) == variants }.map {
                SVGChart.Point(x: Double($0.nodes), y: value($0), label: "\($0.path): \($0.nodes) node(s), wire \($0.summary.wireDtype), overlap \($0.summary.overlap ? "on" : "off")")
            }
        }
        let byNodes = Dictionary(predictions.map { ($0.nodes, $0) }, uniquingKeysWith: { a, _ in a })
        let predictedNodes = byNodes.keys.sorted()
        var energy = SVGChart(title: "Energy per \(unit) against nodes", xTitle: "nodes", yTitle: "J per \(unit)",
                              series: [SVGChart.Series(name: "measured (median training iteration)",
                                                       points: measured { $0.trainingJoulesPerSample }, style: .markers, color: "#4c72b0")])
        var time = SVGChart(title: "Time per iteration against nodes", xTitle: "nodes", yTitle: "ms per iteration",
                            series: [SVGChart.Series(name: "measured (median training iteration)",
                                                     points: measured { 1e3 * $0.trainingSecondsPerIteration }, style: .markers, color: "#4c72b0")])
        if runs.contains(where: isVariant) {
            energy.series.append(SVGChart.Series(name: "variants (another wire or overlap; hover for which)",
                                                 points: measured({ $0.trainingJoulesPerSample }, variants: true), style: .markers, color: "#dd8452"))
            time.series.append(SVGChart.Series(name: "variants (another wire or overlap; hover for which)",
                                               points: measured({ 1e3 * $0.trainingSecondsPerIteration }, variants: true), style: .markers, color: "#dd8452"))
        }
        if !predictedNodes.isEmpty {
            energy.series.append(SVGChart.Series(name: "predicted (ringwatt predict)", points: predictedNodes.map {
                .init(x: Double($0), y: byNodes[$0]!.joulesPerSamplePredicted) }, style: .line, color: "#c44e52"))
            time.series.append(SVGChart.Series(name: "predicted (ringwatt predict)", points: predictedNodes.map {
                .init(x: Double($0), y: 1e3 * byNodes[$0]!.tIterPredictedS) }, style: .line, color: "#c44e52"))
        }
        energy.xLog = false; time.xLog = false
        return "<h2>Energy and time against nodes</h2>\n<figure>\(energy.render(standalone: false))</figure>\n"
            + "<figure>\(time.render(standalone: false))<figcaption>Each point a run: its median training iteration "
            + "(iterations that evaluated left out), the figure `predict` compares with.</figcaption></figure>\n"
    }

    func errors(unit: String) -> String {
        var html = "<h2>Prediction against measurement</h2>\n<div class=\"scroll\"><table><tr><th>nodes</th><th>time/iteration predicted</th>"
            + "<th>measured</th><th>error</th><th>J/\(unit) predicted</th><th>measured</th><th>error</th></tr>\n"
        for p in predictions.sorted(by: { $0.nodes < $1.nodes }) {
            html += "<tr><td class=\"n\">\(p.nodes)</td><td class=\"n\">\(RunReport.format(1e3 * p.tIterPredictedS, "ms"))</td>"
                + "<td class=\"n\">\(RunReport.format(1e3 * p.tIterMeasuredS, "ms"))</td><td class=\"n\">\(String(format: "%+.1f %%", 100 * p.tIterError))</td>"
                + "<td class=\"n\">\(RunReport.format(p.joulesPerSamplePredicted, "J"))</td><td class=\"n\">\(RunReport.format(p.joulesPerSampleMeasured, "J"))</td>"
                + "<td class=\"n\">\(String(format: "%+.1f %%", 100 * p.energyError))</td></tr>\n"
        }
        return html + "</table></div>\n"
    }

    func splits() -> String {
        var html = "<h2>Where each run's energy went</h2>\n"
        for r in runs {
            let s = r.summary
            let parts = [(s.energyComputeJ, "#4c72b0"), (s.energyCommJ, "#dd8452"), (s.energyOtherJ, "#55a868")]
            let total = max(1e-300, parts.map(\.0).reduce(0, +))
            html += "<p>\(Self.e(r.path)): \(RunReport.format(s.energyJ, "J")) — compute \(String(format: "%.0f %%", 100 * s.energyComputeJ / total)), "
                + "communication \(String(format: "%.0f %%", 100 * s.energyCommJ / total)), other \(String(format: "%.0f %%", 100 * s.energyOtherJ / total))</p>"
                + "<div class=\"bar\" role=\"img\" aria-label=\"energy by category\">"
                + parts.filter { $0.0 > 0 }.map { "<div style=\"width:\(String(format: "%.3f", 100 * $0.0 / total))%;background:\($0.1)\"></div>" }.joined()
                + "</div>\n"
        }
        return html + "<p><span class=\"swatch\" style=\"background:#4c72b0\"></span>compute <span class=\"swatch\" style=\"background:#dd8452\"></span>communication "
            + "<span class=\"swatch\" style=\"background:#55a868\"></span>other</p>\n"
    }

    func machines() -> String {
        var html = "<h2>What each ran on</h2>\n<div class=\"scroll\"><table><tr><th>run</th><th>energy source</th><th>CPU</th><th>BLAS core</th><th>MPI</th></tr>\n"
        for r in runs {
            let m = r.summary.figures.metadata
            html += "<tr><td>\(Self.e(r.path))</td><td>\(Self.e(r.summary.energySource))</td><td>\(Self.e(m?.cpu ?? m?.cpuModel ?? "unknown"))</td>"
                + "<td>\(Self.e(m?.blas?.core ?? "unknown"))</td><td>\(Self.e(m?.mpiLibrary ?? "unknown"))</td></tr>\n"
        }
        return html + "</table></div>\n"
    }
}
