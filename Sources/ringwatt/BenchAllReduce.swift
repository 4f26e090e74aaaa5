import ArgumentParser
import Collectives
import Foundation
import Model
import MPI
import Support
import CostModel
import Energy
import RunFiles
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
    @Option(help: "Spin this many µs (every rank, after a barrier) before each timed call, as training computes between its all-reduces; 0: back to back.")
    var pauseUs = 0.0
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
        guard pauseUs >= 0, pauseUs <= 10_000_000 else { throw ValidationError("--pause-us must be in [0, 10000000]") }
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

    typealias Row = AllReduceBenchmark.Row

    func run() throws {
        var bench = AllReduceBenchmark(counts: try parsedCounts())
        bench.iters = iters; bench.minSeconds = minTimeMs / 1000; bench.warmup = warmup; bench.wire = allReduce.wireDtype
        bench.pauseSeconds = pauseUs / 1e6
        let names = try parsedAlgorithms(), mpiLabel = mpiAlgorithmLabel()
        try withMPI(waiting: allReduce) { comm in
            guard let mpi = comm.transport as? MPITransport else { return 0 }
            comm.allReduce.options = allReduce.options(algorithm: .auto, verifyLengths: verifyLengths)
            let candidates = names.map { name -> AllReduceBenchmark.Candidate in
                switch name {
                case "mpi": return .init(name: mpiLabel, exact: true) { try mpi.libraryAllReduceSum($0) }
                case "mpi-ring": return .init(name: name, exact: true) { try mpi.libraryRingAllReduceSum($0) }
                default: return AllReduceBenchmark.ours([AllReduceAlgorithm(rawValue: name)!], comm)[0]
                }
            }
            let (rows, failed) = try bench.run(comm, candidates)
            // The fit also records the CPU a rank spends in the ring, at every size.
            let ring = fit == nil ? nil : candidates.first { $0.name == AllReduceAlgorithm.ring.rawValue }
            let shares = try ring.map { try bench.cpuShares(comm, $0, rows: rows) } ?? []
            let perMachine = Int(try comm.max([Double(comm.ranksSharing(key: MachineIdentity.current().key))])[0])
            guard comm.isRoot else { return check && failed ? 1 : 0 }
            try report(rows, ranks: comm.size, nodes: comm.nodeCount, cpuShares: shares,
                       machine: (perMachine, Int(mpi.sleepMicroseconds), mpi.spin))
            guard check && failed else { return 0 }
            FileHandle.standardError.write(Data("bench-allreduce: results differ from the exact sum\n".utf8))
            return 1
        }
    }

    /// Rank 0: the table, and the JSON, CSV and fit files asked for.
    func report(_ rows: [Row], ranks p: Int, nodes: Int, cpuShares: [(bytes: Int, share: Double)],
                machine: (ranks: Int, waitUs: Int, spin: SpinPolicy)) throws {
        print("# ranks \(p), nodes \(nodes), iters ≥ \(iters), min time \(minTimeMs) ms, warmup \(warmup), pause \(pauseUs) µs, segment \(allReduce.segmentBytes) B, "
              + "auto thresholds \(allReduce.smallMessageBytes)/\(allReduce.largeMessageBytes) B, wire \(allReduce.wireDtype.rawValue), "
              + "length check \(verifyLengths ? "on" : "off"); \(machine.ranks) rank(s) on the busiest machine, waits "
              + (machine.waitUs > 0 ? "test and sleep \(machine.waitUs) µs, spinning \(machine.spin.description) first" : "in MPI"))
        print("# \(CPUInfo.current?.description ?? "CPU unknown"); BLAS \(BLASSetup.info.line) (not used by this benchmark; the core training runs here)")
        let records = rows.map { BenchRecord($0, ranks: p, nodes: nodes) }
        print(BenchRecord.table(records), terminator: "")
        if let json { try RunDirectory.writeAtomically(path: json, try RunFileCoding.document(records)) }
        if let csv { try writeCSV(csv, header: BenchRecord.CodingKeys.allCases.map(\.rawValue), rows: records.map(\.cells)) }
        if let fit {
            guard var file = RingFitFile(benchmark: rows, ranks: p, nodes: nodes, cpuShares: cpuShares) else {
                throw ValidationError("--fit needs at least 2 ranks and 2 ring sizes")
            }
            file.ranksPerMachine = machine.ranks; file.commWaitUs = machine.waitUs; file.commSpinUs = Int(machine.spin.base)
            file.commSpinLimitUs = machine.spin.limit > machine.spin.base ? Int(machine.spin.limit) : nil
            try RunDirectory.writeAtomically(path: fit, try RunFileCoding.document(file))
            print("# fit: \(try RunFileCoding.line(file))")
        }
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
