import ArgumentParser
import Collectives
import Foundation
import Model
import Support
import CostModel
import Trainer

/// nccl-tests-style all-reduce benchmark: ours (ring, recursive doubling, auto) against Open MPI's
/// MPI_Allreduce as launched, in the same run, with each result checked against the exact sum.
struct BenchAllReduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-allreduce",
        abstract: "Time and verify all-reduce algorithms over a range of sizes (run under mpirun).",
        discussion: """
            Rank r contributes (r+1)·v(i) with v(i) = ((i mod 13) + 1)/4, so the exact sum is v(i)·p(p+1)/2.

            time_us is, per call, the slowest rank's time; mean, min and max over the timed calls: at least --iters, and as many more as fill --min-time-ms (estimated from the warm-up), so a millisecond of scheduler noise cannot move a 10 µs mean by much. Calls are timed in rounds of 5 back-to-back calls that start at a barrier, rounds interleaved across algorithms.

            algbw = bytes / time; busbw = algbw · 2(p−1)/p (nccl-tests' definition for all-reduce).

            The 'mpi' rows use whatever Open MPI selects at launch (labelled 'mpi-forced-ring' when the launch forces its ring with --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 4). The 'mpi-ring' rows call that same Open MPI ring (coll/base's allreduce_intra_ring) directly, so the two rings are compared within one run.
            """)

    @Option(help: "Smallest size in bytes.") var minBytes = 4
    @Option(help: "Largest size in bytes.") var maxBytes = 64 << 20
    @Option(help: "Multiply the size by this each row.") var factor = 4
    @Option(help: "Explicit element counts instead of the size range, comma-separated.") var counts: String?
    @Option(help: "Timed calls per size and algorithm, at least.") var iters = 20
    @Option(help: "Time each algorithm at each size for at least this long (more calls than --iters where they are short, estimated from the warm-up); 0, or --warmup 0: exactly --iters calls.")
    var minTimeMs = 50.0
    @Option(help: "Untimed calls per size first.") var warmup = 5
    @Option(help: "Algorithms, comma-separated: ring, recursive-doubling, halving-doubling, auto, mpi (MPI_Allreduce), mpi-ring (Open MPI's ring, called directly).")
    var algorithms = "ring,recursive-doubling,halving-doubling,auto,mpi" + (MPITransport.hasLibraryRing ? ",mpi-ring" : "")
    @OptionGroup(title: "Our all-reduce") var allReduce: AllReduceOptions
    @Option(help: "Write the rows as JSON to this file.") var json: String?
    @Option(help: "Write the rows as CSV to this file.") var csv: String?
    @Flag(help: "Exit non-zero if any result differs from the exact sum (beyond the wire format's bound).") var check = false
    @Option(help: "Fit the ring's cost model to the ring rows and write α, β, γ as JSON to this file.") var fit: String?
    @Flag(help: "Check lengths agree before each call of ours (MPI_Allreduce does not; off by default for a like-for-like comparison).")
    var verifyLengths = false

    func validate() throws {
        guard minBytes >= 0, maxBytes >= minBytes else { throw ValidationError("need 0 ≤ --min-bytes ≤ --max-bytes") }
        guard factor >= 2 else { throw ValidationError("--factor must be at least 2") }
        guard iters > 0, warmup >= 0 else { throw ValidationError("--iters must be positive and --warmup ≥ 0") }
        guard minTimeMs >= 0, minTimeMs <= 60_000 else { throw ValidationError("--min-time-ms must be in [0, 60000]") }
        _ = try parsedCounts()
        _ = try parsedAlgorithms()
    }

    func parsedCounts() throws -> [Int] {
        if let counts {
            let values = counts.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard values.allSatisfy({ $0 != nil && $0! >= 0 }) else { throw ValidationError("--counts must be non-negative integers") }
            return values.map { $0! }
        }
        var sizes: [Int] = []
        var b = max(4, minBytes)
        while b <= maxBytes { sizes.append(b / 4); b *= factor }
        return sizes
    }

    func parsedAlgorithms() throws -> [String] {
        let names = algorithms.split(separator: ",").map(String.init)
        for n in names where !Self.libraryNames.contains(n) && AllReduceAlgorithm(rawValue: n) == nil {
            throw ValidationError("unknown algorithm '\(n)'; choose from \(AllReduceAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")), mpi, mpi-ring")
        }
        if names.contains("mpi-ring") && !MPITransport.hasLibraryRing {
            throw ValidationError("mpi-ring calls Open MPI's ring directly and this MPI library is not Open MPI; use mpi")
        }
        return names
    }

    static let libraryNames: Set<String> = ["mpi", "mpi-ring"]

    struct Row {
        var algorithm: String
        var count: Int
        var iters: Int
        var mean: Double, min: Double, max: Double
        var error: Double
        var bytes: Int { count * 4 }
    }

    func run() throws {
        let sizes = try parsedCounts(), names = try parsedAlgorithms()
        let mpiLabel = mpiAlgorithmLabel()
        let wireDtype = allReduce.wireDtype
        try withMPI(waitMicroseconds: allReduce.commWaitUs) { comm in
            guard let mpi = comm.transport as? MPITransport else { return }
            let p = comm.size
            comm.allReduce.options = allReduce.options(algorithm: .auto, verifyLengths: verifyLengths)
            var rows: [Row] = []
            var failed = false
            for (sizeIndex, count) in sizes.enumerated() {
                // The first size also warms the job up (connections, page faults, scheduler
                // placement of oversubscribed ranks), which otherwise lands on its timings.
                let warmupCalls = sizeIndex == 0 ? max(warmup, 50) : warmup
                let pristine = (0..<count).map { Float(comm.rank + 1) * Float($0 % 13 + 1) / 4 }
                var buffer = pristine
                // Every call sums; a round starts from a fresh buffer, so values grow at most p^5.
                let calls: [(UnsafeMutableBufferPointer<Float>) throws -> Void] = names.map { name in
                    if name == "mpi" { return { try mpi.libraryAllReduceSum($0) } }
                    if name == "mpi-ring" { return { try mpi.libraryRingAllReduceSum($0) } }
                    let algorithm = AllReduceAlgorithm(rawValue: name)!
                    return { comm.allReduce.options.algorithm = algorithm; try comm.allReduce.sum($0) }
                }
                var errors: [Double] = []
                var perCall: [Double] = []  // this rank's median warm-up call, per algorithm
                for (a, call) in calls.enumerated() {
                    // Correctness on a fresh buffer, then warm-up.
                    buffer = pristine
                    try buffer.withUnsafeMutableBufferPointer { try call($0) }
                    var error = 0.0
                    let scale = Double(p * (p + 1) / 2)
                    for i in 0..<count { error = Swift.max(error, abs(Double(buffer[i]) - Double(i % 13 + 1) / 4 * scale)) }
                    // MPI sums exactly here (small integers); ours may round on a 16-bit wire: (p+1)·u·Σ|x|.
                    let bound = Self.libraryNames.contains(names[a]) ? 0 : Double(p + 1) * wireDtype.unitRoundoff * 13.0 / 4 * scale
                    let worst = try comm.max([error, error > bound ? 1 : 0])
                    errors.append(worst[0])
                    if worst[1] > 0 { failed = true }
                    var warm: [Double] = []
                    for _ in 0..<warmupCalls {
                        buffer = pristine
                        let t0 = monotonicSeconds()
                        try buffer.withUnsafeMutableBufferPointer { try call($0) }
                        warm.append(monotonicSeconds() - t0)
                    }
                    // No estimate without warm-up calls asked for (the first size's job warm-up does not count).
                    perCall.append(warmup == 0 ? 0 : warm.sorted()[warm.count / 2])
                }
                // Calls per algorithm: --iters, or more where the warm-up says that is shorter than
                // --min-time-ms (decided from the slowest rank's estimate, so every rank agrees).
                let estimates = try comm.max(perCall)
                let counts = estimates.map { Self.timedCalls(iters: iters, minSeconds: minTimeMs / 1000, perCall: $0) }
                // Timed in rounds of back-to-back calls (as a training loop issues them), rounds
                // interleaved across algorithms so drifting machine noise hits all alike. A barrier
                // starts each round, not each call, so its exit skew does not count as latency.
                var times = [[Double]](repeating: [], count: calls.count)
                while zip(times, counts).contains(where: { $0.count < $1 }) {
                    for (a, call) in calls.enumerated() where times[a].count < counts[a] {
                        let k = min(5, counts[a] - times[a].count)
                        buffer.withUnsafeMutableBufferPointer { b in pristine.withUnsafeBufferPointer { b.baseAddress?.update(from: $0.baseAddress!, count: count) } }
                        try comm.barrier()
                        for _ in 0..<k {
                            let t0 = monotonicSeconds()
                            try buffer.withUnsafeMutableBufferPointer { try call($0) }
                            times[a].append(monotonicSeconds() - t0)
                        }
                    }
                }
                for (a, name) in names.enumerated() {
                    let slowest = try comm.max(times[a])
                    rows.append(Row(algorithm: name == "mpi" ? mpiLabel : name, count: count, iters: counts[a],
                                    mean: slowest.reduce(0, +) / Double(slowest.count), min: slowest.min()!, max: slowest.max()!,
                                    error: errors[a]))
                }
            }
            guard comm.isRoot else { if check && failed { throw ExitCode(1) }; return }
            try report(rows, ranks: p, nodes: comm.nodeCount)
            if check && failed {
                FileHandle.standardError.write(Data("bench-allreduce: results differ from the exact sum\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// Rank 0: the table, and the JSON, CSV and fit files asked for.
    func report(_ rows: [Row], ranks p: Int, nodes: Int) throws {
        print("# ranks \(p), nodes \(nodes), iters ≥ \(iters), min time \(minTimeMs) ms, warmup \(warmup), segment \(allReduce.segmentBytes) B, "
              + "auto thresholds \(allReduce.smallMessageBytes)/\(allReduce.largeMessageBytes) B, wire \(allReduce.wireDtype.rawValue), "
              + "length check \(verifyLengths ? "on" : "off")")
        print("# \(CPUInfo.current?.description ?? "CPU unknown"); BLAS \(BLASSetup.info.line) (not used by this benchmark; the core training runs here)")
        func cell(_ s: String, _ w: Int, left: Bool = false) -> String {
            let pad = String(repeating: " ", count: Swift.max(0, w - s.count))
            return left ? s + pad : pad + s
        }
        print(cell("bytes", 12) + cell("count", 11) + "  " + cell("algorithm", 19, left: true) + cell("calls", 7) + cell("time_us", 11)
              + cell("min_us", 11) + cell("max_us", 11) + cell("algbw_GBps", 12) + cell("busbw_GBps", 12) + cell("max_error", 11))
        let records = rows.map { BenchRecord($0, ranks: p, nodes: nodes) }
        for r in records {
            print(cell(String(r.bytes), 12) + cell(String(r.count), 11) + "  " + cell(r.algorithm, 19, left: true) + cell(String(r.iters), 7)
                  + cell(String(format: "%.2f", r.timeUs), 11) + cell(String(format: "%.2f", r.minUs), 11)
                  + cell(String(format: "%.2f", r.maxUs), 11) + cell(String(format: "%.3f", r.algbwGBps), 12)
                  + cell(String(format: "%.3f", r.busbwGBps), 12) + cell(String(format: "%.2g", r.maxAbsError), 11))
        }
        if let json { try RunDirectory.writeAtomically(path: json, try RunFileCoding.document(records)) }
        if let csv {
            try writeCSV(csv, header: BenchRecord.CodingKeys.allCases.map(\.rawValue), rows: records.map {
                [$0.ranks, $0.nodes, $0.algorithm, $0.bytes, $0.count, $0.iters, $0.timeUs, $0.minUs, $0.maxUs,
                 $0.algbwGBps, $0.busbwGBps, $0.maxAbsError]
            })
        }
        if let fit {
            let ring = rows.filter { $0.algorithm == "ring" && $0.count > 0 }.map { (bytes: Double($0.bytes), seconds: $0.mean) }
            guard let model = RingFit.fit(ring, ranks: p, gamma: AllReduce.reductionSecondsPerByte()) else {
                throw ValidationError("--fit needs at least 2 ranks and 2 ring sizes")
            }
            let file = RingFitFile(model, ranks: p, nodes: nodes)
            try RunDirectory.writeAtomically(path: fit, try RunFileCoding.document(file))
            print("# fit: \(try RunFileCoding.line(file))")
        }
    }

    /// Timed calls for one algorithm at one size: `iters`, or enough to last `minSeconds` at
    /// `perCall` seconds a call, capped at 100 000 (a 4-byte call takes a few µs).
    static func timedCalls(iters: Int, minSeconds: Double, perCall: Double) -> Int {
        guard minSeconds > 0, perCall > 0 else { return iters }
        return max(iters, min(100_000, Int((minSeconds / perCall).rounded(.up))))
    }

    /// "mpi", or the tuned algorithm forced through MCA at launch (e.g. "mpi-forced-ring").
    func mpiAlgorithmLabel() -> String {
        let env = ProcessInfo.processInfo.environment
        if env["OMPI_MCA_coll_tuned_use_dynamic_rules"] == "1", let a = env["OMPI_MCA_coll_tuned_allreduce_algorithm"] {
            return a == "4" ? "mpi-forced-ring" : "mpi-forced-alg\(a)"
        }
        return "mpi"
    }

}

/// One row of the JSON output: one algorithm at one size.
struct BenchRecord: Codable {
    var ranks, nodes: Int
    var algorithm: String
    /// The size: bytes = 4 × count floats, timed in `iters` calls.
    var bytes, count, iters: Int
    /// Mean, fastest and slowest call, µs (each call's time is its slowest rank's).
    var timeUs, minUs, maxUs: Double
    var algbwGBps, busbwGBps: Double
    /// Worst difference from the exact sum.
    var maxAbsError: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ranks, nodes, algorithm, bytes, count, iters, timeUs = "time_us", minUs = "min_us", maxUs = "max_us"
        case algbwGBps = "algbw_GBps", busbwGBps = "busbw_GBps", maxAbsError = "max_abs_error"
    }

    init(_ r: BenchAllReduce.Row, ranks p: Int, nodes: Int) {
        ranks = p; self.nodes = nodes; algorithm = r.algorithm; bytes = r.bytes; count = r.count; iters = r.iters
        timeUs = r.mean * 1e6; minUs = r.min * 1e6; maxUs = r.max * 1e6
        algbwGBps = r.mean > 0 ? Double(r.bytes) / r.mean / 1e9 : 0
        busbwGBps = busBandwidth(bytes: Double(r.bytes), seconds: r.mean, ranks: p) / 1e9
        maxAbsError = r.error
    }
}
