import Foundation
import Support

/// Runs `ringwatt blas-probe` children, one per core and round, and combines what they report.
/// Rounds interleave the cores, so drift on a shared machine favours none; a core the library
/// does not accept or that fails verification is not timed again.
struct BLASProbeRunner {
    let environment: [String: String]
    var rounds = 3

    func measure(_ runs: [String?]) throws -> [BLASProbeResult] {
        var first: [BLASProbeResult] = []
        var mlp = Array(repeating: [Double](), count: runs.count), gpt = mlp
        for round in 0..<rounds {
            for (i, requested) in runs.enumerated() {
                if round > 0 && !(first[i].accepted && first[i].verified) { continue }
                let result = try probe(requested, verify: round == 0)
                if round == 0 { first.append(result) }
                mlp[i].append(result.mlpSeconds); gpt[i].append(result.gptSeconds)
            }
        }
        return first.enumerated().map { i, r in
            var combined = r
            combined.mlpSeconds = median(mlp[i]) ?? 0; combined.gptSeconds = median(gpt[i]) ?? 0
            return combined
        }
    }

    /// One child with OPENBLAS_CORETYPE = `requested` (unset for the library's own choice).
    func probe(_ requested: String?, verify: Bool) throws -> BLASProbeResult {
        var env = environment
        for key in ["OPENBLAS_CORETYPE", "OPENBLAS_VERBOSE", BLASSetup.reportedKey, BLASSetup.upgradedFromKey] { env[key] = nil }
        if let requested { env["OPENBLAS_CORETYPE"] = requested }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["blas-probe"] + (verify ? [] : ["--no-verify"])
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out; process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile(), errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let name = requested ?? "the library's core"
        guard process.terminationReason == .exit, process.terminationStatus == 0,
              var result = try? JSONDecoder().decode(BLASProbeResult.self, from: output) else {
            // A crash or a garbled answer: this core is unusable here.
            let how = process.terminationReason == .uncaughtSignal ? "killed by signal \(process.terminationStatus)"
                : "exit status \(process.terminationStatus)"
            let detail = String(decoding: errors, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
            FileHandle.standardError.write(Data("ringwatt: BLAS probe of \(name): \(how)\(detail)\n".utf8))
            return BLASProbeResult(requested: requested, core: requested ?? "?", accepted: true, verified: false,
                                   worstErrorRatio: nil, mlpSeconds: 0, gptSeconds: 0)
        }
        result.requested = requested
        // 0.3.21 falls back to its CPU-feature rules for a name it does not know, and says so only when verbose.
        result.accepted = requested.map { $0.lowercased() == result.core.lowercased()
            && !String(decoding: errors, as: UTF8.self).contains("Core not found") } ?? true
        return result
    }
}
