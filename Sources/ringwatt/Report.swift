import ArgumentParser
import Foundation
import RunFiles

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the summary table of a run directory (finished, interrupted or failed), from its files.")

    @Argument(help: "A run directory written by `ringwatt train`.")
    var runDirectory: String
    @Flag(help: "Also write a self-contained HTML page of the run (figures, plots, tables) to RUN/report.html.")
    var html = false
    @Option(help: "Write the HTML page here instead (implies --html).") var htmlFile: String?

    func run() throws {
        // Not a run: one line saying why (not a usage error: the arguments were well formed).
        switch try SummaryFile.read(directory: runDirectory) {
        case let .figures(summary):
            print(SummaryTable.render(summary, directory: runDirectory))
            if html || htmlFile != nil {
                let path = htmlFile ?? runDirectory + "/report.html"
                try RunDirectory.writeAtomically(path: path, RunReport(run: try RunOnDisk(path: runDirectory)).html())
                print("report: \(path)")
            }
        case let .failed(stub):
            // A failure stub: say what failed, and what the per-iteration file holds.
            print("status  \(stub.status.rawValue)")
            print("error   \(stub.error)")
            let lines = try IterationLine.readAll(path: runDirectory + "/" + RunDirectory.iterationsFile)
            print(String(format: "iterations recorded %d, energy %.1f J, checkpoint %@", lines.count,
                         lines.map(\.energyJ).reduce(0, +), stub.checkpoint ?? "none"))
        }
    }
}
