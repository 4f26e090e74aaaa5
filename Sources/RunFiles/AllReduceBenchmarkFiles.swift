import Foundation
import Collectives
import CostModel

/// One row of `bench-allreduce --json` / `--csv`: one algorithm at one size.
public struct BenchRecord: Codable, Equatable {
    public var ranks, nodes: Int
    public var algorithm: String
    /// The size: bytes = 4 × count floats, timed in `iters` calls.
    public var bytes, count, iters: Int
    /// Mean, fastest and slowest call, µs (each call's time is its slowest rank's).
    public var timeUs, minUs, maxUs: Double
    public var algbwGBps, busbwGBps: Double
    /// Worst difference from the exact sum.
    public var maxAbsError: Double

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case ranks, nodes, algorithm, bytes, count, iters, timeUs = "time_us", minUs = "min_us", maxUs = "max_us"
        case algbwGBps = "algbw_GBps", busbwGBps = "busbw_GBps", maxAbsError = "max_abs_error"
    }

    public init(_ r: AllReduceBenchmark.Row, ranks p: Int, nodes: Int) {
        ranks = p; self.nodes = nodes; algorithm = r.algorithm; bytes = r.bytes; count = r.count; iters = r.iters
        timeUs = r.mean * 1e6; minUs = r.min * 1e6; maxUs = r.max * 1e6
        algbwGBps = r.mean > 0 ? Double(r.bytes) / r.mean / 1e9 : 0
        busbwGBps = busBandwidth(bytes: Double(r.bytes), seconds: r.mean, ranks: p) / 1e9
        maxAbsError = r.error
    }

    /// The CSV's cells, in `CodingKeys` order.
    public var cells: [CustomStringConvertible] {
        [ranks, nodes, algorithm, bytes, count, iters, timeUs, minUs, maxUs, algbwGBps, busbwGBps, maxAbsError]
    }

    /// The rows as nccl-tests prints them: one line per algorithm and size, columns aligned.
    public static func table(_ records: [BenchRecord]) -> String {
        func cell(_ s: String, _ w: Int, left: Bool = false) -> String {
            let pad = String(repeating: " ", count: Swift.max(0, w - s.count))
            return left ? s + pad : pad + s
        }
        var lines = [cell("bytes", 12) + cell("count", 11) + "  " + cell("algorithm", 19, left: true) + cell("calls", 7) + cell("time_us", 11)
                     + cell("min_us", 11) + cell("max_us", 11) + cell("algbw_GBps", 12) + cell("busbw_GBps", 12) + cell("max_error", 11)]
        for r in records {
            lines.append(cell(String(r.bytes), 12) + cell(String(r.count), 11) + "  " + cell(r.algorithm, 19, left: true) + cell(String(r.iters), 7)
                         + cell(String(format: "%.2f", r.timeUs), 11) + cell(String(format: "%.2f", r.minUs), 11)
                         + cell(String(format: "%.2f", r.maxUs), 11) + cell(String(format: "%.3f", r.algbwGBps), 12)
                         + cell(String(format: "%.3f", r.busbwGBps), 12) + cell(String(format: "%.2g", r.maxAbsError), 11))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension RingFitFile {
    /// The ring's α, β, γ fitted to the benchmark's ring rows, with this machine's conversion cost
    /// of each 16-bit wire, the link rate the emulated cluster set (RINGWATT_LINK_GBIT) and the CPU
    /// share measured in the ring at each size; nil with fewer than 2 ranks or 2 ring sizes.
    public init?(benchmark rows: [AllReduceBenchmark.Row], ranks p: Int, nodes: Int, cpuShares: [(bytes: Int, share: Double)]) {
        let ring = rows.filter { $0.algorithm == AllReduceAlgorithm.ring.rawValue && $0.count > 0 }.map { (bytes: Double($0.bytes), seconds: $0.mean) }
        guard let model = RingFit.fit(ring, ranks: p, gamma: AllReduce.reductionSecondsPerByte()) else { return nil }
        let conversion = Dictionary(uniqueKeysWithValues: [WireFormat.bf16, .f16].map { ($0, $0.conversionSecondsPerByte()) })
        let link = ProcessInfo.processInfo.environment["RINGWATT_LINK_GBIT"].flatMap(Double.init)
        self.init(model, ranks: p, nodes: nodes, conversionSPerByte: conversion, linkGbit: link, rows: ring)
        let shares = cpuShares.filter { $0.bytes > 0 }.sorted { $0.bytes < $1.bytes }
        commCpuShare = shares.last?.share
        commCpuShareByBytes = shares.isEmpty ? nil : shares.map { [Double($0.bytes), $0.share] }
    }
}
