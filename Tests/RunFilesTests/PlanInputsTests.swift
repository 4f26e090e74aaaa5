import Testing
import Collectives
import CostModel
@testable import RunFiles

/// The grid `plan` prices, from its lists: counted by hand, repeats dropped, bad items one line.
@Suite struct PlanInputsTests {
    @Test func theGridCountedByHand() throws {
        let grid = try PlanInputs.grid(ranksPerNode: "1,2", wire: "f32,bf16", overlap: "off,on", bucketMb: "auto,whole", maxNodes: 4,
                                       algorithm: .ring)
        // 1×1: one configuration (nothing to send). Every other topology (1×2, 2×1, 2×2, 4×1, 4×2):
        // 2 wires × (overlap off: 2 bucket sizes + overlap on: the 100 kB one; one bucket has nothing to hide) = 6.
        #expect(grid.count == 1 + 5 * 6)
        #expect(grid.filter { $0.overlap && ($0.bucketBytes ?? 0).isInfinite }.isEmpty)
        #expect(Set(grid.map(\.topology.nodes)) == [1, 2, 4])
        let again = try PlanInputs.grid(ranksPerNode: "1, 2,1", wire: "f32,bf16,f32", overlap: "off,on", bucketMb: "auto,whole,auto",
                                        maxNodes: 7, algorithm: .ring)
        #expect(again == grid, "repeats dropped; node counts are powers of two up to --max-nodes")
        let mb = try PlanInputs.grid(ranksPerNode: "2", wire: "bf16", overlap: "on", bucketMb: "0.5", maxNodes: 1, algorithm: .ring)
        #expect(mb.map(\.bucketBytes) == [500_000])
    }

    @Test func unreadableItemsAreOneLine() {
        let cases: [(String, String, String, String, String)] = [
            ("0", "f32", "off", "auto", "--ranks-per-node: cannot read '0'"),
            ("1", "f8", "off", "auto", "--wire: cannot read 'f8'"),
            ("1", "f32", "maybe", "auto", "--overlap: cannot read 'maybe'"),
            ("1", "f32", "off", "-1", "--bucket-mb: cannot read '-1'"),
            ("1", "f32", "off", ",", "--bucket-mb: cannot read ','"),
        ]
        for (k, w, o, b, message) in cases {
            #expect(throws: RunError.configuration(message)) {
                try PlanInputs.grid(ranksPerNode: k, wire: w, overlap: o, bucketMb: b, maxNodes: 2, algorithm: .ring)
            }
        }
    }
}
