import ArgumentParser
import Foundation
import Model

@main
struct Ringwatt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringwatt",
        abstract: "Data-parallel training over MPI that accounts every iteration in seconds, bytes and joules.",
        discussion: "Run under mpirun: `mpirun -np 4 ringwatt train --epochs 1 --out runs/demo`.",
        subcommands: [Train.self, Report.self, Compare.self, Predict.self, PlanCommand.self, BenchAllReduce.self, BenchStep.self, Power.self,
                      BenchGEMM.self, Doctor.self, Resumable.self, Sample.self, BLASProbeCommand.self])

    /// Parses, then — for the commands whose speed depends on BLAS — settles the BLAS core before
    /// anything calls BLAS or initialises MPI (this may re-execute the process), then runs.
    static func main() {
        refuseNonUTF8Arguments()
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

/// Arguments reach Swift as Strings, which replace bytes that are not UTF-8 with U+FFFD: a path
/// with such a name (legal on Linux) would silently become another path — a corpus "missing", an
/// --out written somewhere else. Such an argument is refused before anything runs.
private func refuseNonUTF8Arguments() {
    for i in 1..<Int(CommandLine.argc) {
        guard let argument = CommandLine.unsafeArgv[i] else { continue }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(argument).assumingMemoryBound(to: UInt8.self), count: strlen(argument))
        guard String(validating: bytes, as: UTF8.self) == nil else { continue }
        let shown = bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
        FileHandle.standardError.write(Data(("ringwatt: error: argument \(i) (\(shown)) is not valid UTF-8; Ringwatt takes UTF-8 "
            + "names only: rename the file or directory, or give a symbolic link with a UTF-8 name\n").utf8))
        exit(2)
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
