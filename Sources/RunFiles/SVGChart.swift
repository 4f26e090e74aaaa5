import Foundation

/// A self-contained SVG chart: points and lines on linear or logarithmic axes with ticks, axis
/// titles and a legend outside the plotting area (so it never covers data). Labelled points of a
/// line are numbered on the chart and named in a key below it (labels written beside close points
/// would cover each other); other labels are hover text. No scripts, no external references: it
/// can be inlined into an HTML page or opened as a file.
public struct SVGChart {
    public struct Point {
        public var x: Double, y: Double
        public var label: String?
        public init(x: Double, y: Double, label: String? = nil) { self.x = x; self.y = y; self.label = label }
    }

    public enum Style { case markers, line, lineAndMarkers, highlight }

    public struct Series {
        public var name: String
        public var points: [Point]
        public var style: Style
        public var color: String
        public init(name: String, points: [Point], style: Style, color: String) {
            self.name = name; self.points = points; self.style = style; self.color = color
        }
    }

    public var title: String
    public var xTitle: String
    public var yTitle: String
    public var series: [Series]
    public var width = 720.0, height = 440.0
    /// Dashed vertical lines with a label at their top (a deadline), inside the x range they widen.
    public var verticalLines: [(x: Double, label: String)] = []
    /// Logarithmic axes (chosen when the data span more than 30× unless set).
    public var xLog: Bool?
    public var yLog: Bool?

    public init(title: String, xTitle: String, yTitle: String, series: [Series]) {
        self.title = title; self.xTitle = xTitle; self.yTitle = yTitle; self.series = series
    }

    static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// An axis: the data range widened to whole ticks, mapped to [0, 1].
    struct Axis {
        var lo: Double, hi: Double, log: Bool
        var ticks: [Double]

        init(_ values: [Double], log requested: Bool?) {
            let v = values.filter { $0.isFinite }
            var lo = v.min() ?? 0, hi = v.max() ?? 1
            let log = requested ?? (lo > 0 && hi / lo > 30)
            if log {
                lo = Foundation.pow(10, Foundation.floor(Foundation.log10(lo))); hi = Foundation.pow(10, Foundation.ceil(Foundation.log10(hi)))
                if hi <= lo { hi = lo * 10 }
                ticks = stride(from: Foundation.log10(lo), through: Foundation.log10(hi) + 1e-9, by: 1).map { Foundation.pow(10, $0) }
            } else {
                if lo > 0 && lo < hi * 0.5 { lo = 0 }  // start at zero unless the data sit far from it
                if hi <= lo { hi = lo + 1 }
                let raw = (hi - lo) / 5, mag = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
                let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw }!
                lo = Foundation.floor(lo / step) * step; hi = Foundation.ceil(hi / step) * step
                // A point on the frame would be half hidden: leave a step beyond the data.
                if let top = v.max(), hi - top < step * 0.05 { hi += step }
                if let bottom = v.min(), bottom - lo < step * 0.05, lo != 0 { lo -= step }
                ticks = stride(from: lo, through: hi + step * 1e-9, by: step).map { $0 }
            }
            self.lo = lo; self.hi = hi; self.log = log
        }

        func unit(_ v: Double) -> Double {
            log ? (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo)) : (v - lo) / (hi - lo)
        }
    }

    static func tickLabel(_ v: Double) -> String {
        if v == 0 { return "0" }
        return String(format: "%.3g", v)
    }

    /// Where the plot area sits and how data maps into it.
    private struct Frame {
        let xAxis: Axis, yAxis: Axis
        let left: Double, top: Double, pw: Double, ph: Double
        func px(_ x: Double) -> Double { left + pw * xAxis.unit(x) }
        func py(_ y: Double) -> Double { top + ph * (1 - yAxis.unit(y)) }
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The SVG; `standalone` gives it its XML namespace (a file of its own), without it is for
    /// inlining into an HTML page (whose parser supplies the namespace; no URL in the page).
    public func render(standalone: Bool = true) -> String {
        let all = series.flatMap(\.points)
        let legendHeight = 22.0 * Double((series.count + 1) / 2)
        let keyed = series.filter { $0.style == .lineAndMarkers }.flatMap(\.points).compactMap(\.label)
        let keyHeight = 18.0 * Double((keyed.count + 1) / 2)
        let height = self.height + keyHeight
        let left = 78.0, right = 24.0, top = 40.0, bottom = 58.0 + legendHeight + keyHeight
        let frame = Frame(xAxis: Axis(all.map(\.x) + verticalLines.map(\.x), log: xLog), yAxis: Axis(all.map(\.y), log: yLog),
                          left: left, top: top, pw: width - left - right, ph: height - top - bottom)
        let f = Self.f
        var s = "<svg " + (standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "") + "viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"100%\" "
            + "style=\"max-width:\(Int(width))px;font-family:sans-serif;font-size:12px\" role=\"img\" aria-label=\"\(Self.escaped(title))\">\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(Self.escaped(title))</text>\n"
        s += axes(frame) + marks(frame) + legend(frame, keyed: keyed, legendHeight: legendHeight)
        return s + "</svg>\n"
    }

    /// The plot area's box, grid, tick labels, axis titles and marked x values.
    private func axes(_ fr: Frame) -> String {
        let f = Self.f, (left, top, pw, ph) = (fr.left, fr.top, fr.pw, fr.ph)
        var s = "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"#888\"/>\n"
        for t in fr.xAxis.ticks {
            s += "<line x1=\"\(f(fr.px(t)))\" y1=\"\(f(top))\" x2=\"\(f(fr.px(t)))\" y2=\"\(f(top + ph))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(fr.px(t)))\" y=\"\(f(top + ph + 16))\" text-anchor=\"middle\">\(Self.tickLabel(t))</text>\n"
        }
        for t in fr.yAxis.ticks {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(fr.py(t)))\" x2=\"\(f(left + pw))\" y2=\"\(f(fr.py(t)))\" stroke=\"#eee\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(fr.py(t) + 4))\" text-anchor=\"end\">\(Self.tickLabel(t))</text>\n"
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(top + ph + 36))\" text-anchor=\"middle\">\(Self.escaped(xTitle))\(fr.xAxis.log ? " (log)" : "")</text>\n"
        s += "<text transform=\"translate(16 \(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escaped(yTitle))\(fr.yAxis.log ? " (log)" : "")</text>\n"
        for line in verticalLines where line.x.isFinite && (!fr.xAxis.log || line.x > 0) {
            s += "<line x1=\"\(f(fr.px(line.x)))\" y1=\"\(f(top))\" x2=\"\(f(fr.px(line.x)))\" y2=\"\(f(top + ph))\" stroke=\"#c0392b\" stroke-dasharray=\"5 4\"/>"
            s += "<text x=\"\(f(fr.px(line.x) + 4))\" y=\"\(f(top + 14))\" font-size=\"11\" fill=\"#c0392b\">\(Self.escaped(line.label))</text>\n"
        }
        return s
    }

    /// Every series' lines and markers; a labelled point of a line gets its number in the key.
    private func marks(_ fr: Frame) -> String {
        let f = Self.f
        var s = "", number = 0
        for sr in series {
            let pts = sr.points.filter { $0.x.isFinite && $0.y.isFinite && (!fr.xAxis.log || $0.x > 0) && (!fr.yAxis.log || $0.y > 0) }
            if sr.style == .line || sr.style == .lineAndMarkers, pts.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"2\" points=\""
                    + pts.map { "\(f(fr.px($0.x))),\(f(fr.py($0.y)))" }.joined(separator: " ") + "\"/>\n"
            }
            guard sr.style != .line else { continue }
            let r = sr.style == .highlight ? 7.0 : 3.5
            for p in pts {
                s += sr.style == .highlight
                    ? "<circle cx=\"\(f(fr.px(p.x)))\" cy=\"\(f(fr.py(p.y)))\" r=\"\(r)\" fill=\"none\" stroke=\"\(sr.color)\" stroke-width=\"2.5\"><title>\(Self.escaped(p.label ?? sr.name))</title></circle>\n"
                    : "<circle cx=\"\(f(fr.px(p.x)))\" cy=\"\(f(fr.py(p.y)))\" r=\"\(r)\" fill=\"\(sr.color)\" fill-opacity=\"0.75\"><title>\(Self.escaped(p.label ?? sr.name))</title></circle>\n"
                if p.label != nil, sr.style == .lineAndMarkers {
                    // The point's number in the key, above and below the line in turn.
                    number += 1
                    s += "<text x=\"\(f(fr.px(p.x)))\" y=\"\(f(fr.py(p.y) + (number % 2 == 1 ? -9 : 17)))\" text-anchor=\"middle\" "
                        + "font-size=\"11\" fill=\"\(sr.color)\">\(number)</text>\n"
                }
            }
        }
        return s
    }

    /// The series' legend below the plot, two to a row, then the numbered points' key.
    private func legend(_ fr: Frame, keyed: [String], legendHeight: Double) -> String {
        let f = Self.f
        var s = ""
        for (i, sr) in series.enumerated() {
            let x = fr.left + Double(i % 2) * fr.pw / 2, y = fr.top + fr.ph + 52 + 22 * Double(i / 2)
            s += sr.style == .line
                ? "<line x1=\"\(f(x))\" y1=\"\(f(y - 4))\" x2=\"\(f(x + 18))\" y2=\"\(f(y - 4))\" stroke=\"\(sr.color)\" stroke-width=\"2\"/>"
                : "<circle cx=\"\(f(x + 9))\" cy=\"\(f(y - 4))\" r=\"4\" fill=\"\(sr.style == .highlight ? "none" : sr.color)\" stroke=\"\(sr.color)\" stroke-width=\"2\"/>"
            s += "<text x=\"\(f(x + 24))\" y=\"\(f(y))\">\(Self.escaped(sr.name))</text>\n"
        }
        for (i, label) in keyed.enumerated() {
            let x = fr.left + Double(i % 2) * fr.pw / 2, y = fr.top + fr.ph + 52 + legendHeight + 18 * Double(i / 2)
            s += "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"11\">\(i + 1)  \(Self.escaped(label))</text>\n"
        }
        return s
    }
}
