import Testing
import Foundation
@testable import Collectives

/// Closed-form checks: rank r contributes (r+1)·(i+1) at element i, so the sum is
/// (i+1)·p(p+1)/2 and the mean (i+1)·(p+1)/2 — exact in Float for the sizes used here.
@Suite struct AllReduceTests {
    static func lengths(_ p: Int) -> [Int] { Array(Set([0, 1, max(0, p - 1), p + 1, 2 * p + 3, 1000])).sorted() }

    func check(ranks p: Int, algorithm: AllReduceAlgorithm, segmentBytes: Int = 1 << 20, average: Bool) {
        let errors = LocalWorld.run(ranks: p) { comm in
            comm.allReduce.options.algorithm = algorithm
            comm.allReduce.options.segmentBytes = segmentBytes
            for n in Self.lengths(p) {
                var buffer = (0..<n).map { Float((comm.rank + 1) * ($0 % 97 + 1)) }
                try buffer.withUnsafeMutableBufferPointer {
                    if average { try comm.allReduce.average($0) } else { try comm.allReduce.sum($0) }
                }
                for i in 0..<n {
                    let total = Float((triangular(p)) * (i % 97 + 1))
                    let expected = average ? total / Float(p) : total
                    if abs(buffer[i] - expected) > 1e-5 * abs(expected) {
                        throw Failure("rank \(comm.rank) n=\(n) i=\(i): \(buffer[i]) != \(expected)")
                    }
                }
            }
        }
        for (rank, error) in errors.enumerated() { #expect(error == nil, "p=\(p) rank \(rank): \(String(describing: error))") }
    }

    @Test(arguments: 1...16)
    func ringSum(ranks: Int) { check(ranks: ranks, algorithm: .ring, average: false) }

    @Test(arguments: 1...16)
    func ringAverageWithTinySegments(ranks: Int) {
        // 12-byte segments: every chunk is split into several pipelined segments, and chunk sizes
        // that differ by one element give neighbours different segment counts.
        check(ranks: ranks, algorithm: .ring, segmentBytes: 12, average: true)
    }

    @Test(arguments: 1...16)
    func recursiveDoublingSum(ranks: Int) { check(ranks: ranks, algorithm: .recursiveDoubling, average: false) }

    @Test(arguments: 1...16)
    func halvingDoublingAverage(ranks: Int) { check(ranks: ranks, algorithm: .halvingDoubling, average: true) }

    @Test(arguments: [2, 3, 5, 8])
    func autoAverage(ranks: Int) { check(ranks: ranks, algorithm: .auto, average: true) }

    @Test func largeOddLength() {
        let n = 1_000_003
        let errors = LocalWorld.run(ranks: 3) { comm in
            comm.allReduce.options.algorithm = .ring
            comm.allReduce.options.segmentBytes = 64 << 10
            var buffer = [Float](repeating: Float(comm.rank + 1), count: n)
            try buffer.withUnsafeMutableBufferPointer { try comm.allReduce.sum($0) }
            guard buffer.allSatisfy({ $0 == 6 }) else { throw Failure("rank \(comm.rank): wrong sum") }
            // Each rank sends 2(p−1)/p of the buffer, up to rounding of chunk edges.
            let ideal = 2.0 * 2.0 / 3.0 * Double(n * 4)
            guard abs(Double(comm.allReduce.stats.bytesSent) - ideal) <= 16 else {
                throw Failure("bytes sent \(comm.allReduce.stats.bytesSent), ideal \(ideal)")
            }
        }
        #expect(errors.allSatisfy { $0 == nil }, "\(errors)")
    }

    /// Random (non-integer) data: every rank must end with the same bits.
    @Test(arguments: [AllReduceAlgorithm.ring, .recursiveDoubling, .halvingDoubling])
    func ranksHoldIdenticalBits(algorithm: AllReduceAlgorithm) {
        let p = 5, n = 777
        let results = ResultBox(count: p)
        let errors = LocalWorld.run(ranks: p) { comm in
            comm.allReduce.options.algorithm = algorithm
            var state = UInt64(comm.rank + 1) &* 0x9E3779B97F4A7C15
            var buffer = (0..<n).map { _ -> Float in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(state >> 40) / Float(1 << 24) - 0.5
            }
            try buffer.withUnsafeMutableBufferPointer { try comm.allReduce.average($0) }
            results.set(comm.rank, buffer.map(\.bitPattern))
        }
        #expect(errors.allSatisfy { $0 == nil })
        let all = results.values
        for r in 1..<p { #expect(all[r] == all[0], "rank \(r) differs from rank 0") }
    }

    /// 16-bit wire formats: within (p+1)·u·Σ|x| of the exact mean, identical bits on every rank.
    @Test(arguments: [WireFormat.bf16, .f16], [AllReduceAlgorithm.ring, .recursiveDoubling, .halvingDoubling])
    func compressedSumsAreBoundedAndIdentical(wire: WireFormat, algorithm: AllReduceAlgorithm) {
        for p in [1, 2, 3, 5, 8] {
            let n = 1237
            let results = ResultBox(count: p)
            @Sendable func value(_ rank: Int, _ i: Int) -> Float {
                var z = UInt64(rank * 100_003 + i) &* 0x9E3779B97F4A7C15
                z ^= z >> 29
                return Float(z % 20001) / 10000 - 1  // in [-1, 1]
            }
            let errors = LocalWorld.run(ranks: p) { comm in
                comm.allReduce.options.algorithm = algorithm
                comm.allReduce.options.wire = wire
                comm.allReduce.options.segmentBytes = 256
                comm.allReduce.options.eagerBytes = 300
                var buffer = (0..<n).map { value(comm.rank, $0) }
                try buffer.withUnsafeMutableBufferPointer { try comm.allReduce.average($0) }
                for i in 0..<n {
                    let exact = (0..<p).map { Double(value($0, i)) }.reduce(0, +) / Double(p)
                    let bound = Double(p + 1) * wire.unitRoundoff * (0..<p).map { abs(Double(value($0, i))) }.reduce(0, +) / Double(p) + 1e-7
                    if abs(Double(buffer[i]) - exact) > bound {
                        throw Failure("p=\(p) \(wire) \(algorithm) i=\(i): \(buffer[i]) vs \(exact), bound \(bound)")
                    }
                }
                let expectedBytes = p == 1 ? 0 : 1
                if (comm.allReduce.stats.bytesSent > 0 ? 1 : 0) != expectedBytes { throw Failure("bytes sent") }
                results.set(comm.rank, buffer.map(\.bitPattern))
            }
            #expect(errors.allSatisfy { $0 == nil }, "\(errors.compactMap { $0 })")
            let all = results.values
            for r in 1..<p { #expect(all[r] == all[0], "p=\(p) \(wire) \(algorithm): rank \(r) differs") }
        }
    }

    @Test func compressedWireHalvesTheBytes() {
        let errors = LocalWorld.run(ranks: 4) { comm in
            var a = [Float](repeating: 1, count: 4000)
            try a.withUnsafeMutableBufferPointer { try comm.allReduce.sum($0) }
            let full = comm.allReduce.stats.bytesSent
            comm.allReduce.resetStats()
            comm.allReduce.options.wire = .bf16
            try a.withUnsafeMutableBufferPointer { try comm.allReduce.sum($0) }
            guard comm.allReduce.stats.bytesSent * 2 == full else { throw Failure("\(comm.allReduce.stats.bytesSent) vs \(full)") }
            guard a.allSatisfy({ $0 == 16 }) else { throw Failure("small integers are exact in bf16") }
        }
        #expect(errors.allSatisfy { $0 == nil }, "\(errors)")
    }

    @Test func lengthMismatchIsAnErrorOnEveryRank() {
        let errors = LocalWorld.run(ranks: 3) { comm in
            var buffer = [Float](repeating: 1, count: comm.rank == 1 ? 5 : 4)
            try buffer.withUnsafeMutableBufferPointer { try comm.allReduce.sum($0) }
        }
        for error in errors {
            #expect(error as? CollectiveError == .lengthMismatch(operation: "all-reduce", lengths: [4, 5, 4]))
        }
        #expect("\(errors[0]!)".contains("rank 1: 5"))
    }

    @Test func agreementNamesTheDifferingRanks() {
        let errors = LocalWorld.run(ranks: 4) { comm in
            try comm.agree(on: comm.rank == 2 ? 99 : 1, what: "configuration")
        }
        for error in errors {
            #expect(error as? CollectiveError == .disagreement(what: "configuration", ranks: [2]))
        }
    }

    @Test func gatherSumBroadcastAndTopology() {
        let errors = LocalWorld.run(ranks: 5, ranksPerNode: 2) { comm in
            let rows = try comm.gather([Double(comm.rank), 1])
            guard rows.count == 5, rows[3] == [3, 1] else { throw Failure("gather \(rows)") }
            guard try comm.sum([Double(comm.rank + 1)]) == [15] else { throw Failure("sum") }
            guard try comm.max([Double(comm.rank)]) == [4] else { throw Failure("max") }
            let b = try comm.broadcast(comm.rank == 0 ? Array("hello".utf8) : [], root: 0)
            guard b == Array("hello".utf8) else { throw Failure("broadcast") }
            guard comm.nodeCount == 3, comm.node == comm.rank / 2, comm.localRank == comm.rank % 2 else {
                throw Failure("topology")
            }
            guard comm.localSize == (comm.rank == 4 ? 1 : 2) else { throw Failure("localSize") }
        }
        #expect(errors.allSatisfy { $0 == nil }, "\(errors)")
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func triangular(_ p: Int) -> Int { p * (p + 1) / 2 }

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [[UInt32]]
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [UInt32]) { lock.lock(); storage[i] = v; lock.unlock() }
    var values: [[UInt32]] { lock.lock(); defer { lock.unlock() }; return storage }
}
