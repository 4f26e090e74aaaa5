import ArgumentParser
import Foundation
import Trainer

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the summary table of a run directory (finished, interrupted or failed), from its files.")

    @Argument(help: "A run directory written by `ringwatt train`.")
    var runDirectory: String

    func run() throws {
        let path = runDirectory + "/" + RunDirectory.summaryFile
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("\(runDirectory) holds no summary.json: not a run directory, or a run still in progress")
        }
        let summary: JSON
        do { summary = try JSON.parse(text) } catch { throw ValidationError("\(path) is not valid JSON") }
        if summary["energy_j"] == nil {
            // A failure stub: say what failed, and what the per-iteration file holds.
            print("status  \(summary["status"]?.string ?? "?")")
            if let error = summary["error"]?.string { print("error   \(error)") }
            let lines = ((try? String(contentsOfFile: runDirectory + "/" + RunDirectory.iterationsFile, encoding: .utf8)) ?? "")
                .split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
            let energy = lines.compactMap { $0["energy_j"]?.double }.reduce(0, +)
            print(String(format: "iterations recorded %d, energy %.1f J, checkpoint %@", lines.count, energy,
                         summary["checkpoint"]?.string ?? "none"))
            return
        }
        print(SummaryTable.render(summary, directory: runDirectory))
    }
}
