import ArgumentParser
import Foundation
import Model
import Support
import RunFiles
import Trainer

/// The step's products one shape at a time, for comparing BLAS libraries on exactly the calls a
/// step makes (scripts/bench/bench-blas.sh replays them through numpy's OpenBLAS).
struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-gemm",
        abstract: "Time every distinct cblas_sgemm call of one training step; one JSON line per call (count per step, seconds per call).",
        discussion: "Batch: 64 samples (mlp) or 8 sequences (gpt) unless --batch-size. Prints figures; asserts nothing. --list prints the calls without timing them.")

    @OptionGroup var step: StepOptions
    @Option(help: "Milliseconds to time each call for.") var milliseconds = 20.0
    @Flag(help: "Only list the calls.") var list = false

    func validate() throws {
        guard milliseconds > 0 else { throw ValidationError("--milliseconds must be positive") }
    }

    func run() throws {
        let bench = step.gemm(try step.config(mlpBatch: 64, gptBatch: 8))
        var counts: [GEMMCall: Int] = [:], order: [GEMMCall] = []
        for call in bench.calls {
            if counts[call] == nil { order.append(call) }
            counts[call, default: 0] += 1
        }
        for call in order {
            var seconds = 0.0
            if !list {
                let once = bench.time(call, times: 3)
                let times = max(3, Int(milliseconds * 1e-3 / max(once, 1e-7)))
                seconds = (0..<3).map { _ in bench.time(call, times: times) }.min()!
            }
            print("{\"trans_a\":\(call.transA),\"trans_b\":\(call.transB),\"m\":\(call.m),\"n\":\(call.n),\"k\":\(call.k),"
                  + "\"lda\":\(call.lda),\"ldb\":\(call.ldb),\"ldc\":\(call.ldc),\"beta\":\(call.beta),\"count\":\(counts[call]!),"
                  + "\"seconds\":\(seconds)}")
        }
    }
}
