import ArgumentParser
import Foundation
import CostModel
import RunFiles

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare run directories (e.g. a sweep over node counts): time, speed-up, energy split, J/sample or J/token, evaluation.",
        discussion: "Speed-up and efficiency are against the run with the fewest nodes, per epoch (the same data per epoch at every node count). The evaluation columns follow the runs' model: test accuracy and the energy and samples to reach --target-accuracy (mlp), or validation loss and the energy and tokens to reach --target-val-loss (gpt), at the first evaluation that does (--eval-every sets how often runs evaluate).")

    @Argument(help: "Run directories.") var runs: [String]
    @Option(help: "Write the table as CSV to this file.") var csv: String?
    @Option(help: "Write the sweep on one self-contained HTML page (table, energy and time against nodes, splits) to this file.")
    var html: String?
    @Option(help: "With --html: `predict --errors` JSON, drawn beside the measurements with its errors.") var predictions: String?
    @Option(help: "Accuracy for the 'energy to reach it' columns (mlp runs).") var targetAccuracy = 0.85
    @Option(help: "Validation loss in nats for the 'energy to reach it' columns (gpt runs).") var targetValLoss = 2.5

    func validate() throws {
        guard predictions == nil || html != nil else { throw ValidationError("--predictions draws on the --html page; give --html FILE too") }
        guard !runs.isEmpty else { throw ValidationError("give at least one run directory") }
        guard targetAccuracy > 0 && targetAccuracy <= 1 else { throw ValidationError("--target-accuracy must be in (0, 1]") }
        guard targetValLoss > 0 && targetValLoss.isFinite else { throw ValidationError("--target-val-loss must be positive") }
    }

    func run() throws {
        let sweep = try SweepComparison(runs: runs.map { try RunOnDisk(path: $0) }, targetAccuracy: targetAccuracy, targetValLoss: targetValLoss)
        print(sweep.text(), terminator: "")
        if let csv { try writeCSV(csv, header: sweep.header, rows: sweep.rows) }
        if let html {
            var errors: [PredictionError] = []
            if let predictions {
                do { errors = try RunFileCoding.decode([PredictionError].self, String(contentsOfFile: predictions, encoding: .utf8)) } catch {
                    throw ValidationError("\(predictions): not a `predict --errors` file (\(error))")
                }
            }
            try RunDirectory.writeAtomically(path: html, sweep.html(predictions: errors))
            print("report: \(html)")
        }
    }
}

func f(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "-" }
