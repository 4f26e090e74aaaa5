import ArgumentParser
import Foundation
import Model

/// The child `BLASSetup` starts once per core it measures: verifies and times the core this
/// process loaded, prints one JSON line. Hidden: not for users.
struct BLASProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas-probe", abstract: "Verify and time the BLAS core this process loaded (internal).", shouldDisplay: false)

    @Flag(help: "Only time; skip the float64 verification.") var noVerify = false

    func run() throws {
        let core = OpenBLAS.coreName
        let corrupt = (ProcessInfo.processInfo.environment[BLASSetup.corruptKey] ?? "").lowercased()
            .split(separator: ",").contains { $0 == core.lowercased() }
        let check = noVerify ? (worstRatio: Double?.some(0), passed: true) : BLASProbe.verify(corrupt: corrupt)
        let times = BLASProbe.time()
        let result = BLASProbeResult(requested: nil, core: core, accepted: true, verified: check.passed,
                                     worstErrorRatio: check.worstRatio, mlpSeconds: times.mlp, gptSeconds: times.gpt)
        print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
    }
}
