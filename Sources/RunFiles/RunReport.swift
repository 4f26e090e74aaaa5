import Foundation

/// `ringwatt report RUN --html`: one self-contained page for a run — its figures (each tagged
/// with the summary field it shows, so a test can read them back), how each energy figure was
/// formed, the machine and its BLAS, the per-iteration energy and power drawn as inline SVG,
/// and the per-phase, per-machine and evaluation tables. No scripts, no network, no external
/// files; readable at phone width, printable. Well-formed XML, so strict parsers read it.
public struct RunReport {
    public let run: RunOnDisk
    var lines: [IterationLine] { run.lines }

    public init(run: RunOnDisk) {
        self.run = run
    }

    static func escaped(_ s: String) -> String { SVGChart.escaped(s) }

    /// A figure cell: the text shown, and the exact value of summary field `field`.
    static func figure(_ field: String, _ value: Double, _ text: String) -> String {
        "<td class=\"n\" data-field=\"\(field)\" data-value=\"\(value)\">\(escaped(text))</td>"
    }

    static func format(_ v: Double, _ unit: String) -> String {
        let a = abs(v)
        let number = a == 0 ? "0" : a >= 1e5 || a < 1e-3 ? String(format: "%.4g", v) : String(format: a >= 100 ? "%.1f" : "%.4g", v)
        return unit.isEmpty ? number : number + " " + unit
    }

    public func html() -> String {
        let s = run.summary, unit = s.sampleUnit ?? "sample"
        var body = ""
        let title = "Ringwatt run — " + (run.path as NSString).lastPathComponent
        body += "<h1>\(Self.escaped(title))</h1>\n"
        body += "<p class=\"sub\">\(Self.escaped(run.path)) · \(s.status.rawValue) · \(s.config.model.rawValue) · \(s.ranks) rank(s) on \(s.nodes) node(s) · "
            + "\(s.iterations) iterations, \(s.samples) \(unit)s · energy: \(Self.escaped(s.energySource))</p>\n"
        body += headline(s, unit: unit)
        body += split(s)
        body += charts(unit: unit)
        if let faults = s.figures.faults { body += self.faults(faults, unit: unit) }
        body += phases(s)
        if let machines = s.figures.machines, machines.count > 1 { body += machineTable(machines) }
        if !s.evaluations.isEmpty { body += evaluations(s) }
        body += methods(s)
        body += machine(s)
        if !s.notes.isEmpty {
            body += "<h2>Notes</h2>\n<ul>" + s.notes.map { "<li>\(Self.escaped($0))</li>" }.joined() + "</ul>\n"
        }
        return HTMLPage.document(title: title, body: body)
    }

    func headline(_ s: RunSummary, unit: String) -> String {
        var rows: [(String, String)] = [
            ("energy (IT)", Self.figure("energy_j", s.energyJ, Self.format(s.energyJ, "J") + " (" + Self.format(s.energyKwh, "kWh") + ")")),
            ("energy per \(unit)", Self.figure("joules_per_sample", s.joulesPerSample, Self.format(s.joulesPerSample, "J"))),
            ("\(unit)s per second", Self.figure("samples_per_s", s.samplesPerS, Self.format(s.samplesPerS, ""))),
            ("time", Self.figure("seconds", s.seconds, Self.format(s.seconds, "s"))),
            ("mean power", Self.figure("mean_power_w", s.meanPowerW, Self.format(s.meanPowerW, "W"))),
            ("at the facility (PUE \(s.accounting.pue))", Self.figure("e_total_j", s.accounting.eTotalJ, Self.format(s.accounting.eTotalJ, "J"))),
            ("CO₂ (\(Self.format(s.accounting.carbonGPerKwh, "g/kWh")))", Self.figure("co2_g", s.co2G, Self.format(s.co2G, "g"))),
            ("communication share of energy", Self.figure("comm_energy_share", s.commEnergyShare, String(format: "%.1f %%", 100 * s.commEnergyShare))),
            ("peak memory per rank", Self.figure("peak_rss_mib", s.peakRssMib, Self.format(s.peakRssMib, "MiB"))
                + (s.figures.memoryEstimateMib.map { "<td>estimated \(Self.format($0, "MiB")) before the run</td>" } ?? "")),
        ]
        if let loss = s.finalLoss { rows.append(("final loss", Self.figure("final_loss", loss, Self.format(loss, "")))) }
        if let idle = s.figures.energyIdleJ, let dynamic = s.figures.energyDynamicJ {
            rows.append(("idle energy (the machines' idle power × time)", Self.figure("energy_idle_j", idle, Self.format(idle, "J"))))
            rows.append(("dynamic energy (the rest)", Self.figure("energy_dynamic_j", dynamic, Self.format(dynamic, "J"))))
        }
        return "<h2>What the run cost</h2>\n<div class=\"scroll\"><table>\n"
            + rows.map { "<tr><th>\(Self.escaped($0.0))</th>\($0.1)</tr>" }.joined(separator: "\n") + "\n</table></div>\n"
    }

    func split(_ s: RunSummary) -> String {
        let parts = [("compute", s.energyComputeJ, "#4c72b0", "energy_compute_j"), ("communication", s.energyCommJ, "#dd8452", "energy_comm_j"),
                     ("other", s.energyOtherJ, "#55a868", "energy_other_j")]
        let total = max(1e-300, parts.map(\.1).reduce(0, +))
        var html = "<h2>Where the energy went</h2>\n<div class=\"bar\" role=\"img\" aria-label=\"energy by category\">"
        for p in parts where p.1 > 0 {
            html += "<div style=\"width:\(String(format: "%.3f", 100 * p.1 / total))%;background:\(p.2)\"></div>"
        }
        html += "</div>\n<div class=\"scroll\"><table><tr><th>category</th><th>energy</th><th>share</th></tr>\n"
        for p in parts {
            html += "<tr><td><span class=\"swatch\" style=\"background:\(p.2)\"></span>\(p.0)</td>"
                + Self.figure(p.3, p.1, Self.format(p.1, "J")) + "<td class=\"n\">\(String(format: "%.1f %%", 100 * p.1 / total))</td></tr>\n"
        }
        return html + "</table></div>\n"
    }

    /// Energy per sample and power per iteration. Evaluation iterations (an order of magnitude
    /// dearer) are marked, not drawn to scale: the training iterations' variation shows.
    func charts(unit: String) -> String {
        let training = lines.filter { $0.evalS == 0 && $0.samples > 0 }
        let evaluation = lines.filter { $0.evalS > 0 }
        guard !training.isEmpty else { return "" }
        var energy = SVGChart(title: "Energy per \(unit), each training iteration", xTitle: "iteration", yTitle: "J per \(unit)",
                              series: [SVGChart.Series(name: "training iterations",
                                                       points: training.map { .init(x: Double($0.iter), y: $0.energyJ / Double($0.samples)) },
                                                       style: .line, color: "#4c72b0")])
        energy.xLog = false; energy.yLog = false
        energy.verticalLines = evaluation.prefix(12).map { (Double($0.iter), "eval") }
        var power = SVGChart(title: "Power of the cluster, each iteration", xTitle: "iteration", yTitle: "W",
                             series: [SVGChart.Series(name: "all ranks, all machines", points: lines.map { .init(x: Double($0.iter), y: $0.powerW) },
                                                      style: .line, color: "#c44e52")])
        if let idle = run.summary.figures.idlePowerW, let first = lines.first, let last = lines.last {
            power.series.append(SVGChart.Series(name: "idle power of the machines (\(Self.format(idle, "W")))",
                                                points: [.init(x: Double(first.iter), y: idle), .init(x: Double(last.iter), y: idle)],
                                                style: .line, color: "#888888"))
        }
        power.xLog = false; power.yLog = false
        var html = "<h2>Per iteration</h2>\n<figure>\(energy.render(standalone: false))<figcaption>"
        if evaluation.isEmpty {
            html += "Every iteration trained."
        } else {
            html += "Dashed lines mark iterations that also evaluated, left out of the line: "
                + evaluation.prefix(12).map { "iteration \($0.iter): \(Self.format($0.energyJ, "J")) (\(Self.format($0.evalS, "s")) evaluating)" }
                    .joined(separator: "; ") + (evaluation.count > 12 ? "; …" : "") + "."
        }
        html += "</figcaption></figure>\n<figure>\(power.render(standalone: false))<figcaption>The cluster's power in each iteration "
            + "(energy over seconds, all ranks); the machines draw their idle power whatever the ranks do.</figcaption></figure>\n"
        return html
    }

    /// The resumes: what they wasted (tagged with summary.json's `faults.*`) and each one's record.
    func faults(_ f: FaultSummary, unit: String) -> String {
        let rows: [(String, String)] = [
            ("restarts", Self.figure("faults.restarts", Double(f.restarts), "\(f.restarts)")),
            ("iterations redone", Self.figure("faults.iterations_redone", Double(f.iterationsRedone), "\(f.iterationsRedone)")),
            ("goodput (useful iterations / all run)", Self.figure("faults.goodput", f.goodput, String(format: "%.1f %%", 100 * f.goodput))),
            ("energy of redone iterations (measured)", Self.figure("faults.redone_j", f.redoneJ, Self.format(f.redoneJ, "J"))),
            ("restart gaps (idle power × time held)", Self.figure("faults.gap_j", f.gapJ, Self.format(f.gapJ, "J") + " over " + Self.format(f.gapS, "s"))),
            ("wasted", Self.figure("faults.wasted_j", f.wastedJ, Self.format(f.wastedJ, "J") + " and " + Self.format(f.wastedS, "s"))),
            ("energy, faults included", Self.figure("faults.energy_with_waste_j", f.energyWithWasteJ, Self.format(f.energyWithWasteJ, "J"))),
        ]
        var html = "<h2>What faults cost</h2>\n<div class=\"scroll\"><table>\n"
            + rows.map { "<tr><th>\(Self.escaped($0.0))</th>\($0.1)</tr>" }.joined(separator: "\n") + "\n</table></div>\n"
        guard !run.restarts.isEmpty else { return html }
        html += "<div class=\"scroll\"><table><tr><th>restart</th><th>when</th><th>why</th><th>ended as</th><th>from iteration</th>"
            + "<th>ranks</th><th>redone</th><th>redone energy</th><th>gap</th><th>gap energy</th></tr>\n"
        for r in run.restarts {
            html += "<tr><td class=\"n\">\(r.restart)</td><td>\(Self.escaped(r.time))</td><td>\(Self.escaped(r.reason))</td>"
                + "<td>\(Self.escaped(r.previousStatus))</td><td class=\"n\">\(r.resumedFromIteration)</td>"
                + "<td class=\"n\">\(r.ranksBefore == r.ranks ? "\(r.ranks)" : "\(r.ranksBefore) → \(r.ranks)")</td>"
                + "<td class=\"n\">\(r.iterationsRedone)</td><td class=\"n\">\(Self.format(r.redoneJ, "J"))</td>"
                + "<td class=\"n\">\(Self.format(r.gapS, "s"))</td><td class=\"n\">\(r.gapJ.map { Self.format($0, "J") } ?? "not charged")</td></tr>\n"
        }
        return html + "</table></div>\n"
    }

    func phases(_ s: RunSummary) -> String {
        var html = "<h2>By phase</h2>\n<div class=\"scroll\"><table><tr><th>phase</th><th>seconds</th><th>energy</th>"
            + (s.figures.energyDynamicByPhaseJ != nil ? "<th>dynamic energy</th>" : "") + "</tr>\n"
        for phase in s.secondsByPhase.keys.sorted() {
            let seconds = s.secondsByPhase[phase] ?? 0, joules = s.energyByPhaseJ[phase] ?? 0
            html += "<tr><td>\(Self.escaped(phase))</td>" + Self.figure("seconds_by_phase." + phase, seconds, Self.format(seconds, "s"))
                + Self.figure("energy_by_phase_j." + phase, joules, Self.format(joules, "J"))
                + (s.figures.energyDynamicByPhaseJ.map { Self.figure("energy_dynamic_by_phase_j." + phase, $0[phase] ?? 0, Self.format($0[phase] ?? 0, "J")) } ?? "")
                + "</tr>\n"
        }
        return html + "</table></div>\n"
    }

    func machineTable(_ machines: [MachineSummary]) -> String {
        var html = "<h2>By machine</h2>\n<div class=\"scroll\"><table><tr><th>machine</th><th>ranks</th><th>energy</th><th>idle power</th></tr>\n"
        for m in machines {
            html += "<tr><td>\(Self.escaped(m.hostname))</td><td>\(m.ranks.map(String.init).joined(separator: ", "))</td>"
                + "<td class=\"n\">\(Self.format(m.energyJ, "J"))</td><td class=\"n\">\(m.idlePowerW.map { Self.format($0, "W") } ?? "–")</td></tr>\n"
        }
        return html + "</table></div>\n"
    }

    func evaluations(_ s: RunSummary) -> String {
        let names = s.metricNames
        var html = "<h2>Evaluations</h2>\n<div class=\"scroll\"><table><tr><th>step</th>" + names.map { "<th>\(Self.escaped($0))</th>" }.joined() + "</tr>\n"
        for e in s.evaluations {
            html += "<tr><td class=\"n\">\(e.step)</td>" + names.map { "<td class=\"n\">\(e.value($0).map { Self.format($0, "") } ?? "–")</td>" }.joined() + "</tr>\n"
        }
        return html + "</table></div>\n"
    }

    func methods(_ s: RunSummary) -> String {
        guard let methods = s.figures.energyMethods, !methods.isEmpty else { return "" }
        return "<h2>How each figure was formed</h2>\n<div class=\"scroll\"><table>\n"
            + methods.keys.sorted().map { "<tr><th>\(Self.escaped($0))</th><td>\(Self.escaped(methods[$0]!))</td></tr>" }.joined(separator: "\n")
            + "\n</table></div>\n"
    }

    func machine(_ s: RunSummary) -> String {
        var rows: [(String, String)] = [("energy source", s.energySource)]
        if let e = s.estimate { rows.append(("estimate", e.formula)) }
        if let m = s.figures.metadata {
            rows += [("CPU", m.cpu ?? m.cpuModel ?? "unknown"), ("BLAS", m.blas.map { "\($0.core) (\($0.choice)); \($0.config)" } ?? "unknown"),
                     ("MPI", m.mpiLibrary), ("hosts", m.hostnames.joined(separator: ", ")), ("run id", m.runID),
                     ("Ringwatt", m.ringwattVersion + (m.gitCommit.map { " (\($0))" } ?? ""))]
            if let job = m.slurmJobID { rows.append(("Slurm job", job + (m.slurmStepID.map { ".\($0)" } ?? ""))) }
        }
        rows += [("all-reduce", "\(s.commAlgorithm), wire \(s.wireDtype), \(s.commBucketsBytes.count) bucket(s), overlap \(s.overlap ? "on" : "off")"),
                 ("parameters", "\(s.parameters) (checksum \(s.parameterChecksum))")]
        return "<h2>Machine and job</h2>\n<div class=\"scroll\"><table>\n"
            + rows.map { "<tr><th>\(Self.escaped($0.0))</th><td>\(Self.escaped($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table></div>\n"
    }
}

/// The page around a report: one style for runs and sweeps, no scripts, no external files,
/// readable at phone width, printable; well-formed XML.
public enum HTMLPage {
    public static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(SVGChart.escaped(title))</title>
        <style>
        body { font-family: sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; color: #222; line-height: 1.4; }
        h1 { font-size: 1.4rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin-top: 1.6rem; border-bottom: 1px solid #ddd; }
        .sub { color: #555; margin-top: 0; }
        .scroll { overflow-x: auto; }
        table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.92rem; }
        th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .bar { display: flex; height: 1.4rem; width: 100%; border: 1px solid #ccc; margin: 0.4rem 0; }
        .bar div { height: 100%; }
        .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem; vertical-align: middle; }
        figure { margin: 1rem 0; } figcaption { color: #555; font-size: 0.9rem; }
        @media print { body { max-width: none; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }
}
