import Foundation
import Synchronization
import Testing
@testable import Collectives

/// The bench-allreduce harness in-process, threads as ranks: rows for every size and candidate,
/// identical on every rank, exact results reported as exact, a wrong one caught.
@Suite struct AllReduceBenchmarkTests {
    final class Rows: @unchecked Sendable {
        let lock = NSLock()
        var byRank: [Int: ([AllReduceBenchmark.Row], Bool)] = [:]
        func set(_ rank: Int, _ value: ([AllReduceBenchmark.Row], Bool)) { lock.lock(); byRank[rank] = value; lock.unlock() }
    }

    func run(ranks p: Int, wrong: Bool) -> Rows {
        let rows = Rows()
        let errors = LocalWorld.run(ranks: p) { comm in
            var bench = AllReduceBenchmark(counts: [0, 1, 7, 1000])
            bench.iters = 3; bench.warmup = 1; bench.minSeconds = 0
            var candidates = AllReduceBenchmark.ours([.ring, .recursiveDoubling, .auto], comm)
            if wrong {
                // Sums, then one rank's element 3 is off by one: the harness must say so on every rank.
                candidates.append(.init(name: "wrong", exact: true) { b in
                    try comm.allReduce.sum(b)
                    if comm.rank == p - 1 && b.count > 3 { b[3] += 1 }
                })
            }
            let result = try bench.run(comm, candidates)
            rows.set(comm.rank, result)
        }
        for (rank, error) in errors.enumerated() { #expect(error == nil, "rank \(rank): \(String(describing: error))") }
        return rows
    }

    @Test(arguments: [1, 2, 3, 4])
    func everySizeAndCandidateIsTimedAndExact(ranks p: Int) throws {
        let rows = run(ranks: p, wrong: false)
        let root = try #require(rows.byRank[0])
        #expect(!root.1)
        #expect(root.0.map(\.count) == [0, 0, 0, 1, 1, 1, 7, 7, 7, 1000, 1000, 1000])
        #expect(root.0.map(\.algorithm) == Array(repeating: ["ring", "recursive-doubling", "auto"], count: 4).flatMap { $0 })
        for row in root.0 {
            #expect(row.error == 0 && row.iters >= 3 && row.min <= row.mean && row.mean <= row.max, "\(row)")
        }
        // Every rank reports the slowest rank's times: the same rows everywhere.
        for r in 1..<p { #expect(rows.byRank[r]?.0 == root.0) }
    }

    @Test func aWrongResultIsCaughtOnEveryRank() throws {
        let rows = run(ranks: 3, wrong: true)
        for r in 0..<3 {
            let (table, failed) = try #require(rows.byRank[r])
            #expect(failed)
            let wrong = table.filter { $0.algorithm == "wrong" }
            #expect(wrong.map(\.error) == [0, 0, 1, 1])  // sizes 0 and 1 have no element 3
        }
    }

    /// --pause-us: every rank spins before each timed call, and the pause is not in the call's
    /// time (a call of 8 floats between threads takes microseconds; the fastest of ten stays
    /// below a 20 ms pause however loaded the machine), while the whole run takes ten pauses.
    @Test func aPauseBeforeEachCallIsNotTimed() throws {
        let rows = Rows(), started = Date()
        let errors = LocalWorld.run(ranks: 2) { comm in
            var bench = AllReduceBenchmark(counts: [8])
            bench.iters = 10; bench.warmup = 1; bench.minSeconds = 0; bench.pauseSeconds = 0.02
            rows.set(comm.rank, try bench.run(comm, AllReduceBenchmark.ours([.ring], comm)))
        }
        for error in errors { #expect(error == nil) }
        let row = try #require(rows.byRank[0]?.0.first)
        #expect(row.iters == 10 && row.error == 0 && row.min < 0.02, "\(row)")
        #expect(Date().timeIntervalSince(started) >= 10 * 0.02)

        // A minimum time counts the pauses: 50 ms at 20 ms a call is --iters' 3 calls, not the
        // thousands that µs calls alone would take.
        let counted = Rows()
        let errors2 = LocalWorld.run(ranks: 2) { comm in
            var bench = AllReduceBenchmark(counts: [8])
            bench.iters = 3; bench.warmup = 1; bench.minSeconds = 0.05; bench.pauseSeconds = 0.02
            counted.set(comm.rank, try bench.run(comm, AllReduceBenchmark.ours([.ring], comm)))
        }
        for error in errors2 { #expect(error == nil) }
        #expect(counted.byRank[0]?.0.first?.iters == 3, "\(String(describing: counted.byRank[0]))")
    }

    @Test func timedCallsFillTheMinimumTime() {
        #expect(AllReduceBenchmark.timedCalls(iters: 20, minSeconds: 0.05, perCall: 1e-5) == 5000)
        #expect(AllReduceBenchmark.timedCalls(iters: 20, minSeconds: 0.05, perCall: 0.01) == 20)
        #expect(AllReduceBenchmark.timedCalls(iters: 20, minSeconds: 0.05, perCall: 1e-9) == 100_000)
        #expect(AllReduceBenchmark.timedCalls(iters: 7, minSeconds: 0, perCall: 1e-5) == 7)
    }

    /// A round starts from the pristine values written into the buffer's own storage: the call's
    /// first write then finds it unique, so no copy lands in the timed region. (`buffer = pristine`
    /// shared the storage, and that write copied it into a fresh allocation: 16 MB, one host ×
    /// 2 ranks, the mean call 12 % slower, the slowest 60 %.)
    @Test func aRoundStartsWithoutACopyInTheTimedCall() {
        let pristine: [Float] = (0..<4096).map(Float.init)
        var buffer = [Float](repeating: -1, count: 4096)
        let own = buffer.withUnsafeMutableBufferPointer { $0.baseAddress }
        AllReduceBenchmark.restore(&buffer, pristine)
        #expect(buffer == pristine)
        #expect(buffer.withUnsafeMutableBufferPointer { $0.baseAddress } == own)
        var shared = pristine
        let before = pristine.withUnsafeBufferPointer { UnsafeMutablePointer(mutating: $0.baseAddress) }
        let written = shared.withUnsafeMutableBufferPointer { $0.baseAddress }
        #expect(written != before, "an assignment shares; the first write copies")
    }
}
