import CBLAS
import Foundation
import Support

/// What one process measured of the core it loaded: the probe's output, the cache's entries.
public struct BLASProbeResult: Codable, Equatable, Sendable {
    /// The OPENBLAS_CORETYPE the probe ran with; nil for the library's own choice.
    public var requested: String?
    /// What the library ran (openblas_get_corename).
    public var core: String
    /// The library took the requested name (an unknown name makes it fall back to its own rules).
    public var accepted: Bool
    /// Every verification case within its bound.
    public var verified: Bool
    /// The largest |error| / bound over the verification cases (≤ 1 passes); nil when a result
    /// was not finite or the process died.
    public var worstErrorRatio: Double?
    /// Median seconds of one MLP step's products and of one GPT block's (see `BLASProbe`).
    public var mlpSeconds: Double
    public var gptSeconds: Double

    public init(requested: String?, core: String, accepted: Bool, verified: Bool, worstErrorRatio: Double?,
                mlpSeconds: Double, gptSeconds: Double) {
        self.requested = requested; self.core = core; self.accepted = accepted; self.verified = verified
        self.worstErrorRatio = worstErrorRatio; self.mlpSeconds = mlpSeconds; self.gptSeconds = gptSeconds
    }

    public func seconds(_ workload: BLASWorkload) -> Double { workload == .mlp ? mlpSeconds : gptSeconds }
}

/// The checks and timings a probe process runs on the core it loaded.
///
/// Verification: every product shape and transpose the two models use (MLP 784-256-128-10 at
/// batch 64; a GPT block at C 256, T 64, its attention's row blocks) plus odd sizes in all four
/// transpose pairs, with α and β ≠ 1, against a float64 reference. The bound per element is the
/// textbook one for a length-k dot product in any summation order, (k + 4)·u·(|α|·Σ|a||b| + |β|·|c|)
/// with u = 2⁻²⁴ — loose for a correct kernel (seen: ≤ 0.05 of it), far below a wrong one's error.
///
/// Timing: the products of one default MLP step (batch 64) and of one default GPT block with its
/// output head (C 256, T 128, one sequence).
public enum BLASProbe {
    struct Case { let ta: Bool, tb: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float }

    static var cases: [Case] {
        var list: [Case] = []
        let B = 64
        for (i, o) in [(784, 256), (256, 128), (128, 10)] {
            list.append(Case(ta: false, tb: true, m: B, n: o, k: i, alpha: 1, beta: 1))    // forward
            list.append(Case(ta: true, tb: false, m: o, n: i, k: B, alpha: 1, beta: 1))    // weight gradient
            list.append(Case(ta: false, tb: false, m: B, n: i, k: o, alpha: 1, beta: 0))   // input gradient
        }
        let N = 64, C = 256
        for (i, o) in [(C, 3 * C), (C, C), (C, 4 * C), (4 * C, C), (C, 256)] {
            list.append(Case(ta: false, tb: true, m: N, n: o, k: i, alpha: 1, beta: 1))
            list.append(Case(ta: false, tb: false, m: N, n: i, k: o, alpha: 1, beta: 0))
            list.append(Case(ta: true, tb: false, m: o, n: i, k: N, alpha: 1, beta: 1))
        }
        list.append(Case(ta: false, tb: true, m: 32, n: 64, k: 64, alpha: 0.125, beta: 0))  // attention scores
        list.append(Case(ta: false, tb: false, m: 32, n: 64, k: 64, alpha: 1, beta: 0))     // scores × values
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            for (m, n, k) in [(1, 1, 1), (7, 13, 5), (33, 65, 17), (100, 3, 257), (17, 129, 31)] {
                list.append(Case(ta: ta, tb: tb, m: m, n: n, k: k, alpha: 0.75, beta: -0.5))
            }
        }
        return list
    }

    /// Runs every case; returns the worst error ratio (nil if a result is not finite) and whether
    /// all passed. `corrupt` adds 1 to one element of each result: the test hook that shows a
    /// failing verification is caught (RINGWATT_BLAS_TEST_CORRUPT names the core it applies to).
    public static func verify(corrupt: Bool = false) -> (worstRatio: Double?, passed: Bool) {
        var rng = SplitMix64(seed: 0xB1A5)
        var worst = 0.0
        for c in cases {
            let a = (0..<(c.m * c.k)).map { _ in Float(rng.nextUniform() * 2 - 1) }
            let b = (0..<(c.k * c.n)).map { _ in Float(rng.nextUniform() * 2 - 1) }
            let c0 = (0..<(c.m * c.n)).map { _ in Float(rng.nextUniform() * 2 - 1) }
            var out = c0
            cblas_sgemm(CblasRowMajor, c.ta ? CblasTrans : CblasNoTrans, c.tb ? CblasTrans : CblasNoTrans,
                        Int32(c.m), Int32(c.n), Int32(c.k), c.alpha, a, Int32(c.ta ? c.m : c.k),
                        b, Int32(c.tb ? c.k : c.n), c.beta, &out, Int32(c.n))
            if corrupt { out[out.count / 2] += 1 }
            // The reference reads rows of op(A) and columns of op(B) as contiguous float64 vectors.
            var rows = [Double](repeating: 0, count: c.m * c.k), columns = [Double](repeating: 0, count: c.n * c.k)
            for i in 0..<c.m { for p in 0..<c.k { rows[i * c.k + p] = Double(c.ta ? a[p * c.m + i] : a[i * c.k + p]) } }
            for j in 0..<c.n { for p in 0..<c.k { columns[j * c.k + p] = Double(c.tb ? b[j * c.k + p] : b[p * c.n + j]) } }
            let factor = Double(c.k + 4) * 0x1p-24, alpha = Double(c.alpha), beta = Double(c.beta)
            let ratio: Double? = rows.withUnsafeBufferPointer { x in
                columns.withUnsafeBufferPointer { y in
                    var worstHere = 0.0
                    for i in 0..<c.m {
                        for j in 0..<c.n {
                            var exact = 0.0, magnitude = 0.0
                            for p in 0..<c.k {
                                let product = x[i * c.k + p] * y[j * c.k + p]
                                exact += product; magnitude += abs(product)
                            }
                            let old = Double(c0[i * c.n + j]), got = Double(out[i * c.n + j])
                            guard got.isFinite else { return nil }
                            let bound = factor * (abs(alpha) * magnitude + abs(beta) * abs(old)) + 1e-30
                            worstHere = max(worstHere, abs(got - (alpha * exact + beta * old)) / bound)
                        }
                    }
                    return worstHere
                }
            }
            guard let ratio else { return (nil, false) }
            worst = max(worst, ratio)
        }
        return (worst, worst <= 1)
    }

    /// One MLP step's products and one GPT block's (with the output head): the median over
    /// `repeats` of the fastest of a few runs (a run a neighbour slowed is not the kernel's speed).
    public static func time(repeats: Int = 5) -> (mlp: Double, gpt: Double) {
        let mlp = GEMMBenchmark(model: MLP(widths: [784, 256, 128, 10], seed: 1), batch: 64)
        let gpt = GEMMBenchmark(shape: GPTShape(layers: 1, channels: 256, heads: 4, context: 128), batch: 1)
        func measure(_ run: () -> Double, best of: Int) -> Double {
            _ = run()
            return median((0..<repeats).map { _ in (0..<of).map { _ in run() }.min()! })!
        }
        return (measure(mlp.runOnce, best: 8), measure(gpt.runOnce, best: 2))
    }
}
