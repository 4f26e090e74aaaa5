import ArgumentParser
import Foundation
import Model

@main
struct Ringwatt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringwatt",
        abstract: "Data-parallel training over MPI that accounts every iteration in seconds, bytes and joules.",
        discussion: "Run under mpirun: `mpirun -np 4 ringwatt train --epochs 1 --out runs/demo`.",
        subcommands: [Train.self, Report.self, Compare.self, Predict.self, BenchAllReduce.self, BenchStep.self, Power.self,
                      BenchGEMM.self, Doctor.self, BLASProbeCommand.self])

    /// Parses, then — for the commands whose speed depends on BLAS — settles the BLAS core before
    /// anything calls BLAS or initialises MPI (this may re-execute the process), then runs.
    static func main() {
        do {
            var command = try parseAsRoot()
            if let blas = command as? UsesBLAS {
                BLASSetup.prepare(for: blas.blasWorkload) { line in
                    FileHandle.standardError.write(Data("ringwatt: \(line)\n".utf8))
                }
            }
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// A command that runs BLAS (or reports the core runs use): its workload decides which
/// products the core is chosen on.
protocol UsesBLAS {
    var blasWorkload: BLASWorkload { get }
}

extension Train: UsesBLAS { var blasWorkload: BLASWorkload { model.model == .gpt ? .gpt : .mlp } }
extension BenchStep: UsesBLAS { var blasWorkload: BLASWorkload { step.model == .gpt ? .gpt : .mlp } }
extension BenchAllReduce: UsesBLAS { var blasWorkload: BLASWorkload { .mlp } }
extension Doctor: UsesBLAS { var blasWorkload: BLASWorkload { workload } }
extension BenchGEMM: UsesBLAS { var blasWorkload: BLASWorkload { step.model == .gpt ? .gpt : .mlp } }
