import Foundation
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

/// A level fitted more than once stands as the median of its fits: per size, per share, per
/// conversion, and the line — and fits of different experiments are refused in one line.
@Suite struct RingFitMedianTests {
    static func fit(alpha: Double, rows: [[Double]], shares: [[Double]] = [], bf16: Double = 2e-10, link: Double = 1,
                    spin: Int = 200) throws -> RingFitFile {
        let json = """
            {"alpha_s": \(alpha), "beta_s_per_byte": 8e-9, "gamma_s_per_byte": 1e-10, "nodes": 2, "ranks": 2, "link_gbit": \(link),
             "comm_wait_us": 50, "comm_spin_us": \(spin), "comm_cpu_share": 0.5, "rows": \(rows), "comm_cpu_share_by_bytes": \(shares),
             "conversion_s_per_byte": {"bf16": \(bf16)}}
            """
        return try RunFileCoding.decode(RingFitFile.self, json)
    }

    @Test func theMedianOfThreeFitsAtEverySize() throws {
        let a = try Self.fit(alpha: 1e-4, rows: [[4, 1e-3], [1000, 2e-3]], shares: [[4, 0.9]], bf16: 1e-10)
        let b = try Self.fit(alpha: 3e-4, rows: [[4, 9e-3], [1000, 3e-3]], shares: [[4, 0.7], [1000, 0.2]], bf16: 5e-10)
        let c = try Self.fit(alpha: 2e-4, rows: [[4, 2e-3], [1000, 8e-3]], shares: [[4, 0.8]], bf16: 3e-10)
        let m = try RingFitFile.median([("a", a), ("b", b), ("c", c)])
        #expect(m.alphaS == 2e-4 && m.betaSPerByte == 8e-9)
        #expect(m.rows == [[4, 2e-3], [1000, 3e-3]], "each size its own median: no one fit's row survives whole")
        #expect(m.commCpuShareByBytes == [[4, 0.8], [1000, 0.2]], "a size one fit measured: that fit's share")
        #expect(m.conversionSPerByte == ["bf16": 3e-10] && m.commCpuShare == 0.5 && m.linkGbit == 1)
        #expect(try RingFitFile.median([("a", a)]).rows == a.rows, "one fit is itself")
    }

    @Test func fitsOfDifferentExperimentsAreRefused() throws {
        let a = try Self.fit(alpha: 1e-4, rows: [[4, 1e-3], [1000, 2e-3]])
        let tail = "; fits of one level combine only when they repeat one experiment"
        let cases: [(RingFitFile, String)] = [
            (try Self.fit(alpha: 1e-4, rows: [[4, 1e-3], [4000, 2e-3]]), "b: timed sizes 4,4000, a 4,1000"),
            (try Self.fit(alpha: 1e-4, rows: [[4, 1e-3], [1000, 2e-3]], link: 10), "b: fitted at link Gbit/s 10.0, a 1.0"),
            (try Self.fit(alpha: 1e-4, rows: [[4, 1e-3], [1000, 2e-3]], spin: 0), "b: waited (µs: sleep, spin, spin limit) 50/0/-, a 50/200/-"),
        ]
        for (b, message) in cases {
            #expect(throws: RunError.configuration(message + tail)) { try RingFitFile.median([("a", a), ("b", b)]) }
        }
    }
}

/// Fits of the inter-node level on 2 ranks (2 nodes × 1) and on 4 (2 nodes × 2) stand side by
/// side — the narrower prices pairs, the wider the rings of 4 ranks and more — each set of waits
/// on its own, a level missing from the slept fits taken from the spun ones.
@Suite struct PlanNetworksTests {
    @Test func aWiderInterNodeFitJoinsTheLevel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ringwatt-networks-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // As the emulated cluster fits them: every host on one machine.
        func fit(_ name: String, nodes: Int, ranks: Int, alpha: Double, spin: Int, link: Double = 1) throws -> String {
            let path = "\(dir)/\(name).json"
            try """
                {"alpha_s": \(alpha), "beta_s_per_byte": 8e-9, "gamma_s_per_byte": 0, "nodes": \(nodes), "ranks": \(ranks),
                 "comm_wait_us": 50, "comm_spin_us": \(spin), "link_gbit": \(link), "ranks_per_machine": \(ranks)}
                """.write(toFile: path, atomically: false, encoding: .utf8)
            return path
        }
        let intra = try fit("intra", nodes: 1, ranks: 2, alpha: 1e-6, spin: 200)
        let pair = try fit("pair", nodes: 2, ranks: 2, alpha: 1e-5, spin: 200)
        let sleptPair = try fit("slept-pair", nodes: 2, ranks: 2, alpha: 3e-5, spin: 0)
        let sleptFour = try fit("slept-four", nodes: 2, ranks: 4, alpha: 2e-5, spin: 0)
        let (spun, slept) = try PlanInputs.networks(fits: [sleptFour, intra, pair, sleptPair], linkGbit: nil, fitLinkGbit: nil)
        #expect(spun.inter?.line.alpha == 1e-5 && spun.widerInter.isEmpty && spun.intra?.line.alpha == 1e-6)
        let withoutSpin = try #require(slept)
        #expect(withoutSpin.inter?.line.alpha == 3e-5 && withoutSpin.inter?.ranks == 2)
        #expect(withoutSpin.widerInter.map(\.line.alpha) == [2e-5] && withoutSpin.widerInter.map(\.ranks) == [4])
        #expect(withoutSpin.intra?.line.alpha == 1e-6, "the slept fits have no intra level: the spun one's")
        // With 4 cores a machine, the 4 ranks had one each; with 2, the ring timed the scheduler: one line.
        #expect(try PlanInputs.networks(fits: [intra, pair, sleptFour], linkGbit: nil, fitLinkGbit: nil, cores: 4).withoutSpin?.widerInter.count == 1)
        #expect(throws: RunError.configuration("\(sleptFour): its ring ran 4 ranks on a machine of 2 cores, which times the scheduler, not the network; fit the inter-node ring of 4 ranks where each has a core")) {
            try PlanInputs.networks(fits: [intra, pair, sleptFour], linkGbit: nil, fitLinkGbit: nil, cores: 2)
        }
        #expect(try PlanInputs.networks(fits: [intra, pair, sleptPair], linkGbit: nil, fitLinkGbit: nil, cores: 2).network.inter?.ranks == 2,
                "2 hosts × 1 rank on 2 cores: a core each")
        // 4 emulated hosts of one rank on the same 2 cores: as refused.
        let fourNodes = try fit("four-nodes", nodes: 4, ranks: 4, alpha: 2e-5, spin: 0)
        #expect(throws: RunError.configuration("\(fourNodes): its ring ran 4 ranks on a machine of 2 cores, which times the scheduler, not the network; fit the inter-node ring of 4 ranks where each has a core")) {
            try PlanInputs.networks(fits: [intra, pair, fourNodes], linkGbit: nil, fitLinkGbit: nil, cores: 2)
        }
        // Two fits of 4 ranks on different nodes do not repeat one experiment: one line.
        #expect(throws: RunError.configuration("\(fourNodes): fitted on nodes × ranks 4×4, \(sleptFour) 2×4; fits of one level combine only when they repeat one experiment")) {
            try PlanInputs.networks(fits: [intra, pair, sleptFour, fourNodes], linkGbit: nil, fitLinkGbit: nil)
        }
        // Widths fitted on different links: --link-gbit would rescale both from the pair's rate. One line.
        let fastFour = try fit("fast-four", nodes: 2, ranks: 4, alpha: 2e-5, spin: 0, link: 10)
        #expect(throws: RunError.configuration("--fit: the inter-node ring of 2 ranks was fitted at 1 Gbit/s, the one of 4 at 10 Gbit/s; fit every width on one link (--link-gbit rescales them together)")) {
            try PlanInputs.networks(fits: [intra, sleptPair, fastFour], linkGbit: nil, fitLinkGbit: nil, cores: 4)
        }
    }
}
