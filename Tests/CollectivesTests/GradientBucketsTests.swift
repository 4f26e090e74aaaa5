import Foundation
import Testing
@testable import Collectives

@Suite struct GradientBucketsTests {
    @Test func bucketsAreWholeLayersInReverseOrder() {
        let errors = LocalWorld.run(ranks: 1) { comm in
            var g = [Float](repeating: 0, count: 25)
            try g.withUnsafeMutableBufferPointer { buffer in
                let b = GradientBuckets(layers: [0..<10, 10..<20, 20..<25], buffer: buffer, bucketBytes: 40,
                                        overlap: false, allReduce: comm.allReduce)
                guard b.ranges == [10..<25, 0..<10], b.completesBucket == [1, 0, nil] else {
                    throw Failure("ranges \(b.ranges) completes \(b.completesBucket)")
                }
                let one = GradientBuckets(layers: [0..<10, 10..<20, 20..<25], buffer: buffer, bucketBytes: 1 << 30,
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
        let layers = [0..<300, 300..<340, 340..<347]
        let results = ResultBox(count: 2 * p)
        let errors = LocalWorld.run(ranks: p) { comm in
            comm.allReduce.segmentBytes = 64
            for (k, overlap) in [false, true].enumerated() {
                var g = [Float](repeating: 0, count: 347)
                try g.withUnsafeMutableBufferPointer { buffer in
                    let buckets = GradientBuckets(layers: layers, buffer: buffer, bucketBytes: 100, overlap: overlap,
                                                  allReduce: comm.allReduce)
                    defer { buckets.shutdown() }
                    for step in 0..<3 {
                        // "Backward": layers finish in reverse order, each reported when written.
                        for l in stride(from: 2, through: 0, by: -1) {
                            for i in layers[l] { buffer[i] = Float((comm.rank + 1) * (i + 1 + step)) * 0.37 }
                            buckets.layerDone(l)
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
