import Foundation
import Testing

/// The training step allocates nothing. `ringwatt` runs with a counting allocator preloaded
/// (Tests/Fixtures/preload/allocation_counter.c); the trainer finds its counter and reports, per
/// rank, the heap allocations its training thread made inside the steps after the first
/// (evaluation excluded; the record flushes between steps are not steps). With --overlap off the
/// all-reduce runs on that thread too, so the collectives are counted as well.
@Suite(.serialized) struct AllocationTests {
    /// The allocator, built once with the C compiler on the PATH, into .build (nothing left in /tmp).
    static let preload: String = {
        let library = Harness.repository + "/.build/allocation_counter.so"
        let source = Harness.repository + "/Tests/Fixtures/preload/allocation_counter.c"
        let built = try! Harness.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O2", "-o", library, source])
        precondition(built.status == 0, "building the allocation counter failed: \(built.all)")
        return library
    }()

    static let runs: [(ranks: Int, arguments: [String])] = [
        // 1 and 3 ranks (3 takes the latency-bound algorithms' non-power-of-two path); 400 steps of
        // 64 over 20,000 samples cross epoch boundaries (a new sample order each).
        (1, ["--data", "synthetic:20000:784:10", "--steps", "400"]),
        (3, ["--data", "synthetic:20000:784:10", "--steps", "400", "--overlap", "off"]),
        (3, ["--data", "synthetic:20000:784:10", "--steps", "120", "--overlap", "off", "--algorithm", "ring", "--wire-dtype", "bf16"]),
        (2, ["--model", "gpt", "--size", "tiny", "--batch-size", "4", "--steps", "120", "--overlap", "off", "--grad-clip", "1"]),
    ]

    @Test(arguments: runs.indices)
    func trainingStepsAllocateNothing(run: Int) throws {
        let (ranks, arguments) = Self.runs[run]
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Harness.run("/usr/bin/mpirun", ["--oversubscribe", "-np", String(ranks), "-x", "OPENBLAS_NUM_THREADS",
                                                      "-x", "LD_PRELOAD=\(Self.preload)", Harness.binary, "train", "--quiet",
                                                      "--out", dir + "/run"] + arguments)
        #expect(out.status == 0, "\(out.all)")
        let steps = Int(arguments[arguments.firstIndex(of: "--steps")! + 1])! - 1
        let reports = out.stderr.split(separator: "\n").filter { $0.contains("heap allocations in") }
        #expect(reports.count == ranks, "one report per rank: \(out.stderr)")
        // One rank makes no MPI calls in a step: exactly nothing. With MPI traffic, Open MPI may grow
        // an internal free list once, at whatever step first needs it (not a per-step cost): a
        // handful at most, where one allocation per step would show hundreds.
        let allowed = ranks == 1 ? 0 : 8
        for line in reports {
            let counted = line.components(separatedBy: ": ").last?.split(separator: " ").first.flatMap { Int($0) }
            #expect(line.contains("heap allocations in \(steps) training steps after the first"), "\(line)")
            #expect(counted.map { $0 <= allowed } == true, "\(line)")
        }
    }
}
