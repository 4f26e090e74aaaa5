/// The ring all-reduce's cost (Thakur, Rabenseifner & Gropp; Patarasuk & Yuan): for n bytes on p ranks,
///
///   t(n, p) = 2(p−1)·α + 2·((p−1)/p)·n·β + ((p−1)/p)·n·γ
///
/// α the latency of one step, β the seconds per byte on the wire, γ the seconds per byte of the
/// local reduction. 2(p−1) steps each move n/p bytes; the reduce-scatter half also adds them.
public struct RingCostModel: Sendable, Equatable, Codable {
    public var alpha: Double
    public var beta: Double
    public var gamma: Double

    public init(alpha: Double, beta: Double, gamma: Double) {
        self.alpha = alpha; self.beta = beta; self.gamma = gamma
    }

    /// Seconds for one all-reduce of `bytes` on `ranks` ranks (0 for one rank).
    public func seconds(bytes n: Double, ranks p: Int) -> Double {
        guard p > 1 else { return 0 }
        let q = Double(p - 1) / Double(p)
        return 2 * Double(p - 1) * alpha + 2 * q * n * beta + q * n * gamma
    }

    /// The same model with the wire part of β at another link rate: the fit's wire time per byte
    /// (8 / `fitLinkGbit`, 0 if unknown) replaced by 8 / `linkGbit`, never below the new wire alone.
    public func atLink(gbit linkGbit: Double, fitLinkGbit: Double?) -> RingCostModel {
        let wireNow = 8 / (linkGbit * 1e9)
        let wireFit = fitLinkGbit.map { 8 / ($0 * 1e9) } ?? 0
        return RingCostModel(alpha: alpha, beta: max(wireNow, beta - wireFit + wireNow), gamma: gamma)
    }
}

/// A fit of the ring's cost to measured (bytes, seconds) rows at one rank count.
public struct RingFit: Sendable, Equatable {
    public var model: RingCostModel
    /// t = intercept + slope·n, the straight line fitted.
    public var intercept: Double
    public var slope: Double
    public var maxRelativeError: Double
    public var meanRelativeError: Double
    public var points: Int

    /// Weighted least squares of t = a + b·n, weights 1/t² (least relative error, so latency-bound
    /// small sizes count as much as bandwidth-bound large ones), read as the ring's cost with γ
    /// measured separately: α = a / 2(p−1), β = (b·p/(p−1) − γ) / 2, both clamped at 0.
    /// Nil without two distinct sizes or with one rank.
    public static func fit(_ rows: [(bytes: Double, seconds: Double)], ranks p: Int, gamma: Double) -> RingFit? {
        let points = rows.filter { $0.bytes > 0 && $0.seconds > 0 }
        guard p > 1, Set(points.map(\.bytes)).count >= 2 else { return nil }
        let w = points.map { 1 / ($0.seconds * $0.seconds) }
        let sw = w.reduce(0, +)
        let sx = zip(w, points).map { $0 * $1.bytes }.reduce(0, +), sy = zip(w, points).map { $0 * $1.seconds }.reduce(0, +)
        let sxx = zip(w, points).map { $0 * $1.bytes * $1.bytes }.reduce(0, +)
        let sxy = zip(w, points).map { $0 * $1.bytes * $1.seconds }.reduce(0, +)
        let b = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
        let a = (sy - b * sx) / sw
        let errors = points.map { abs(a + b * $0.bytes - $0.seconds) / $0.seconds }
        let q = Double(p - 1) / Double(p)
        let model = RingCostModel(alpha: max(0, a) / (2 * Double(p - 1)), beta: max(0, (b / q - gamma) / 2), gamma: gamma)
        return RingFit(model: model, intercept: a, slope: b, maxRelativeError: errors.max() ?? 0,
                       meanRelativeError: errors.reduce(0, +) / Double(errors.count), points: points.count)
    }
}
