import Foundation
import Testing
@testable import Collectives

@Suite struct GradientBucketsTests {
    @Test func bucketsArePiecesMergedFromTheEnd() {
        let errors = LocalWorld.run(ranks: 1) { comm in
            var g = [Float](repeating: 0, count: 25)
            try g.withUnsafeMutableBufferPointer { buffer in
                // Pieces [20,25) [10,20) [0,10): at least 40 bytes (10 floats) each bucket, the last as it comes.
                let b = GradientBuckets(boundaries: [20, 10, 0], buffer: buffer, bucketBytes: 40,
                                        overlap: false, allReduce: comm.allReduce)
                guard b.ranges == [10..<25, 0..<10] else { throw Failure("ranges \(b.ranges)") }
                let each = GradientBuckets(boundaries: [24, 20, 13, 10, 3, 0], buffer: buffer, bucketBytes: 0,
                                           overlap: false, allReduce: comm.allReduce)
                guard each.ranges == [24..<25, 20..<24, 13..<20, 10..<13, 3..<10, 0..<3] else { throw Failure("each: \(each.ranges)") }
                let one = GradientBuckets(boundaries: [20, 10, 0], buffer: buffer, bucketBytes: 1 << 30,
                                          overlap: false, allReduce: comm.allReduce)
                guard one.ranges == [0..<25] else { throw Failure("one bucket: \(one.ranges)") }
            }
        }
        #expect(errors.allSatisfy { $0 == nil }, "\(errors)")
    }

    /// Overlap on and off: the same buckets, the same algorithm, so the same bits; and the
    /// averages are right (rank r contributes (r+1)·(i+1)).
    @Test(arguments: [2, 3, 5])
    func overlapGivesTheSameBitsAsSequential(ranks p: Int) {
        // Pieces as backward reports them: a layer [340,347), one [300,340), and a first layer
        // [0,300) in row blocks of 70 (the last block short), so buckets split a layer.
        let pieces = [340..<347, 300..<340, 230..<300, 160..<230, 90..<160, 20..<90, 0..<20]
        let results = ResultBox(count: 2 * p)
        let errors = LocalWorld.run(ranks: p) { comm in
            comm.allReduce.options.segmentBytes = 64
            for (k, overlap) in [false, true].enumerated() {
                var g = [Float](repeating: 0, count: 347)
                try g.withUnsafeMutableBufferPointer { buffer in
                    let buckets = GradientBuckets(boundaries: pieces.map(\.lowerBound), buffer: buffer, bucketBytes: 100,
                                                  overlap: overlap, allReduce: comm.allReduce)
                    if buckets.ranges.count < 4 { throw Failure("expected sub-layer buckets, got \(buckets.ranges)") }
                    defer { buckets.shutdown() }
                    for step in 0..<3 {
                        // "Backward": pieces finish from the end of the buffer down, each reported when written.
                        for piece in pieces {
                            for i in piece { buffer[i] = Float((comm.rank + 1) * (i + 1 + step)) * 0.37 }
                            buckets.gradientsFinal(from: piece.lowerBound)
                        }
                        try buckets.finishStep()
                        for i in 0..<347 {
                            let exact = 0.37 * Double(triangular(p) * (i + 1 + step)) / Double(p)
                            if abs(Double(buffer[i]) - exact) > 1e-4 * exact { throw Failure("i \(i): \(buffer[i]) vs \(exact)") }
                        }
                    }
                    results.set(k * p + comm.rank, Array(buffer).map(\.bitPattern))
                }
            }
        }
        #expect(errors.allSatisfy { $0 == nil }, "\(errors)")
        let all = results.values
        for r in 0..<p { #expect(all[r] == all[p + r], "rank \(r): overlap changed the bits") }
    }
}
