import Foundation
import Support

extension RingFitFile {
    /// One level fitted more than once on a noisy machine, as one fit: at every size the median of
    /// the fits' rows (and of their CPU shares), the median line, the median conversion cost — as
    /// repeated calibrations stand for one by their median run. On a shared 2-core guest one fit's
    /// row at a size differed from the next pass's by 2–10× (docs/measurements/plan-study-xeon207.txt);
    /// the median of several is what the plan should price. The fits must describe the same
    /// experiment: the same nodes and ranks, the same sizes, the same link rate and waits.
    public static func median(_ fits: [(path: String, file: RingFitFile)]) throws -> RingFitFile {
        guard var result = fits.first?.file else { throw RunError.configuration("--fit: no fit to combine") }
        guard fits.count > 1 else { return result }
        let first = fits[0]
        for (path, f) in fits.dropFirst() {
            func differs(_ what: String, _ a: String, _ b: String) -> RunError {
                RunError.configuration("\(path): \(what) \(b), \(first.path) \(a); fits of one level combine only when they repeat one experiment")
            }
            guard f.nodes == result.nodes, f.ranks == result.ranks else {
                throw differs("fitted on nodes × ranks", "\(result.nodes ?? 0)×\(result.ranks ?? 0)", "\(f.nodes ?? 0)×\(f.ranks ?? 0)")
            }
            guard f.linkGbit == result.linkGbit else {
                throw differs("fitted at link Gbit/s", result.linkGbit.map { "\($0)" } ?? "unknown", f.linkGbit.map { "\($0)" } ?? "unknown")
            }
            guard f.commWaitUs == result.commWaitUs, f.commSpinUs == result.commSpinUs, f.commSpinLimitUs == result.commSpinLimitUs else {
                throw differs("waited (µs: sleep, spin, spin limit)", waits(result), waits(f))
            }
            guard (f.rows ?? []).map({ $0[0] }) == (result.rows ?? []).map({ $0[0] }) else {
                throw differs("timed sizes", sizes(result), sizes(f))
            }
        }
        let files = fits.map(\.file)
        func mid(_ values: [Double]) -> Double { Support.median(values)! }
        result.alphaS = mid(files.map(\.alphaS)); result.betaSPerByte = mid(files.map(\.betaSPerByte))
        result.gammaSPerByte = mid(files.map(\.gammaSPerByte))
        result.rows = result.rows.map { rows in rows.indices.map { i in [rows[i][0], mid(files.map { $0.rows![i][1] })] } }
        let shares = files.compactMap(\.commCpuShare)
        result.commCpuShare = shares.isEmpty ? nil : mid(shares)
        // Per size, the median of the fits that measured that size's share.
        let byBytes = Dictionary(grouping: files.flatMap { $0.commCpuShareByBytes ?? [] }) { $0[0] }
        result.commCpuShareByBytes = byBytes.isEmpty ? nil : byBytes.keys.sorted().map { [$0, mid(byBytes[$0]!.map { $0[1] })] }
        let keys = Set(files.flatMap { ($0.conversionSPerByte ?? [:]).keys })
        result.conversionSPerByte = keys.isEmpty ? nil
            : Dictionary(uniqueKeysWithValues: keys.map { k in (k, mid(files.compactMap { $0.conversionSPerByte?[k] })) })
        result.ranksPerMachine = files.compactMap(\.ranksPerMachine).max()
        // What the combined line's quality figures were is not one fit's any more.
        result.interceptS = nil; result.slopeSPerByte = nil; result.maxRelativeError = nil; result.meanRelativeError = nil
        return result
    }

    private static func waits(_ f: RingFitFile) -> String {
        "\(f.commWaitUs.map { "\($0)" } ?? "-")/\(f.commSpinUs.map { "\($0)" } ?? "-")/\(f.commSpinLimitUs.map { "\($0)" } ?? "-")"
    }

    private static func sizes(_ f: RingFitFile) -> String {
        let bytes = (f.rows ?? []).map { String(Int($0[0])) }
        return bytes.isEmpty ? "none" : bytes.count <= 4 ? bytes.joined(separator: ",") : "\(bytes.count) from \(bytes[0]) to \(bytes.last!) B"
    }
}
