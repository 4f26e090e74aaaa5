import Foundation
import Testing

/// The report pages in a real browser: headless Chromium (Debian's `chromium`, which
/// scripts/test.sh installs) opens a run's page and a sweep's at a phone's width and a desktop's.
/// Each renders with no console error, its screenshot is not blank, and every plot (inline SVG)
/// lays out with a non-zero size. The pages carry no script: to read the sizes the test opens a
/// copy with one appended that writes them into the DOM, which Chromium then prints.
@Suite(.serialized) struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let windows = [(390, 844), (1280, 900)]

    func browse(_ browser: String, _ profile: String, _ arguments: [String]) throws -> Harness.Output {
        try Harness.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                                  "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"] + arguments)
    }

    /// Console messages Chromium logged at error level, or uncaught exceptions.
    static func consoleErrors(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter {
            $0.contains("CONSOLE") && ($0.contains(":ERROR:") || $0.contains("Uncaught"))
        }
    }

    @Test func theReportPagesRenderInHeadlessChromium() throws {
        let browser = try #require(Self.chromium, "chromium is not installed (scripts/test.sh installs it)")
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let job = ["train", "--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--steps", "40", "--eval-every", "10",
                   "--idle-seconds", "0", "--quiet"]
        #expect(try Harness.mpirun(2, job + ["--out", dir + "/two"]).status == 0)
        #expect(try Harness.ringwatt(job + ["--out", dir + "/one"]).status == 0)
        #expect(try Harness.ringwatt(["report", dir + "/two", "--html"]).status == 0)
        #expect(try Harness.ringwatt(["compare", dir + "/two", dir + "/one", "--html", dir + "/sweep.html"]).status == 0)
        // Bad input gets one line: a directory that is not a run.
        let notARun = try Harness.ringwatt(["report", dir + "/two/profile-none", "--html"])
        #expect(notARun.status != 0 && notARun.stderr.split(separator: "\n").count == 1
                && notARun.stderr.contains("not a run directory"), "\(notARun.all)")
        let profile = dir + "/profile"
        for page in [dir + "/two/report.html", dir + "/sweep.html"] {
            let text = try String(contentsOfFile: page, encoding: .utf8)
            let plots = text.components(separatedBy: "<svg ").count - 1
            #expect(plots >= 2, "\(page): \(plots) plots")
            // A copy that writes every plot's laid-out size into the body, for --dump-dom to print.
            let probe = page + ".probe.html"
            try text.replacingOccurrences(of: "</body>", with: """
                <script>document.body.setAttribute('data-page-width', document.documentElement.clientWidth); document.body.setAttribute('data-svg-sizes', Array.from(document.querySelectorAll('svg')).map(function (s) { var r = s.getBoundingClientRect(); return r.width + 'x' + r.height; }).join(' '));</script></body>
                """).write(toFile: probe, atomically: true, encoding: .utf8)
            for (width, height) in Self.windows {
                let shot = "\(page).\(width).png"
                let shown = try browse(browser, profile, ["--window-size=\(width),\(height)", "--screenshot=" + shot, "file://" + page])
                #expect(shown.status == 0 && FileManager.default.fileExists(atPath: shot), "\(page) at \(width): \(shown.stderr)")
                #expect(Self.consoleErrors(shown.stderr).isEmpty, "\(Self.consoleErrors(shown.stderr))")
                // Not blank: more than one colour, and ink (not the background) on a share of the pixels.
                let pixels = try Harness.run("/usr/bin/env", ["python3", "-c", """
                    import sys
                    from PIL import Image
                    im = Image.open(sys.argv[1]).convert('RGB')
                    colours = im.getcolors(maxcolors=1 << 24)
                    background = max(colours)[1]
                    ink = sum(n for n, c in colours if c != background)
                    print(len(colours), ink / (im.width * im.height), im.width, im.height)
                    """, shot])
                let figures = pixels.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                try #require(figures.count == 4, "\(pixels.all)")
                #expect(figures[0] > 16 && figures[1] > 0.02, "\(page) at \(width): \(figures[0]) colours, ink on \(figures[1]) of the pixels")
                #expect(figures[2] == Double(width), "the screenshot is the window's width")
                let dom = try browse(browser, profile, ["--window-size=\(width),\(height)", "--dump-dom", "file://" + probe])
                #expect(dom.status == 0 && Self.consoleErrors(dom.stderr).isEmpty, "\(dom.stderr)")
                let sizes = dom.stdout.components(separatedBy: "data-svg-sizes=\"").dropFirst().first?.split(separator: "\"").first
                    .map { $0.split(separator: " ").map(String.init) } ?? []
                #expect(sizes.count == plots, "\(page) at \(width): sizes \(sizes)")
                // Chromium lays a page out at least 500 px wide whatever the window: the plots
                // must fit the width the page was laid out at (no sideways scrolling).
                let pageWidth = try #require(dom.stdout.components(separatedBy: "data-page-width=\"").dropFirst().first?
                    .split(separator: "\"").first.flatMap { Double($0) })
                #expect(pageWidth >= Double(width) && pageWidth <= Double(max(width, 500)), "page laid out \(pageWidth) px wide")
                for size in sizes {
                    let wh = size.split(separator: "x").compactMap { Double($0) }
                    #expect(wh.count == 2 && wh[0] > 0 && wh[1] > 0 && wh[0] <= pageWidth, "\(page) at \(width): a plot of \(size)")
                }
            }
        }
    }
}
