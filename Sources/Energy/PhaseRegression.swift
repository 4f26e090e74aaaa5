/// Power per phase, fitted rather than apportioned. A counter sampled every 20 ms cannot see a
/// 0.3 ms communication phase; but across many sample intervals, how much time the ranks spent in
/// each phase varies, and the interval's energy follows. Least squares over the intervals of
///     E_i = Σ_p P_p · T_ip        (no intercept: the phases tile each interval)
/// gives P_p, the power while the ranks are in phase p, with standard errors from the residuals.
/// Only sufficient statistics are kept (XᵀX, Xᵀy, yᵀy, n), so it accumulates flush by flush and
/// travels in checkpoints.
public struct PhaseRegression: Sendable, Equatable, Codable {
    public static let phases = ["compute", "comm", "other"]
    private static let k = phases.count

    public private(set) var intervals = 0
    private var xtx = [Double](repeating: 0, count: k * k)
    private var xty = [Double](repeating: 0, count: k)
    private var yty = 0.0

    public init() {}

    /// One interval: its energy (J) and the seconds spent in each phase (`phases` order).
    public mutating func add(joules y: Double, seconds x: [Double]) {
        precondition(x.count == Self.k)
        guard y.isFinite, x.allSatisfy(\.isFinite) else { return }
        intervals += 1
        for i in 0..<Self.k {
            xty[i] += x[i] * y
            for j in 0..<Self.k { xtx[i * Self.k + j] += x[i] * x[j] }
        }
        yty += y * y
    }

    public mutating func merge(_ other: PhaseRegression) {
        intervals += other.intervals
        for i in xtx.indices { xtx[i] += other.xtx[i] }
        for i in xty.indices { xty[i] += other.xty[i] }
        yty += other.yty
    }

    public struct Estimate: Sendable, Equatable, Codable {
        public var watts: Double
        /// nil when there are no spare degrees of freedom (intervals ≤ phases fitted).
        public var standardError: Double?

        enum CodingKeys: String, CodingKey { case watts, standardError = "standard_error" }

        public init(watts: Double, standardError: Double?) {
            self.watts = watts
            self.standardError = standardError
        }

        /// Σ kᵢ·estimateᵢ of independent estimates: the watts add, the standard errors in
        /// quadrature (nil if any term's is nil).
        public static func sum(_ terms: [(k: Double, estimate: Estimate)]) -> Estimate {
            let errors = terms.map(\.estimate.standardError)
            let se: Double? = errors.contains { $0 == nil } ? nil
                : zip(terms, errors).map { t, e in t.k * t.k * e! * e! }.reduce(0, +).squareRoot()
            return Estimate(watts: terms.map { $0.k * $0.estimate.watts }.reduce(0, +), standardError: se)
        }
    }

    /// The fitted power of each phase that had time in it (phases never entered are absent), or
    /// nil when the intervals do not determine them (fewer intervals than phases, or phases whose
    /// time never varies apart, e.g. always in the same proportion).
    public func fit() -> [String: Estimate]? {
        let used = (0..<Self.k).filter { xtx[$0 * Self.k + $0] > 0 }
        let m = used.count
        guard m > 0, intervals >= m else { return nil }
        var a = used.flatMap { i in used.map { j in xtx[i * Self.k + j] } }
        guard let inverse = Self.invert(&a, m) else { return nil }
        let b = used.map { xty[$0] }
        let beta = (0..<m).map { i in (0..<m).reduce(0.0) { $0 + inverse[i * m + $1] * b[$1] } }
        // Residual sum of squares from the statistics: yᵀy − 2βᵀXᵀy + βᵀXᵀXβ.
        var quadratic = 0.0
        for i in 0..<m { for j in 0..<m { quadratic += beta[i] * xtx[used[i] * Self.k + used[j]] * beta[j] } }
        let rss = max(0, yty - 2 * zip(beta, b).reduce(0.0) { $0 + $1.0 * $1.1 } + quadratic)
        let dof = intervals - m
        let sigma2 = dof > 0 ? rss / Double(dof) : nil
        var result: [String: Estimate] = [:]
        for (i, phase) in used.enumerated() {
            result[Self.phases[phase]] = Estimate(watts: beta[i], standardError: sigma2.map { ($0 * inverse[i * m + i]).squareRoot() })
        }
        return result
    }

    /// Gauss-Jordan with partial pivoting; nil when (numerically) singular.
    static func invert(_ a: inout [Double], _ n: Int) -> [Double]? {
        var inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        let scale = (0..<n).map { a[$0 * n + $0] }.max() ?? 0
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0 * n + col]) < abs(a[$1 * n + col]) }!
            guard abs(a[pivot * n + col]) > 1e-12 * scale else { return nil }
            if pivot != col {
                for j in 0..<n { a.swapAt(pivot * n + j, col * n + j); inv.swapAt(pivot * n + j, col * n + j) }
            }
            let d = a[col * n + col]
            for j in 0..<n { a[col * n + j] /= d; inv[col * n + j] /= d }
            for row in 0..<n where row != col {
                let f = a[row * n + col]
                guard f != 0 else { continue }
                for j in 0..<n { a[row * n + j] -= f * a[col * n + j]; inv[row * n + j] -= f * inv[col * n + j] }
            }
        }
        return inv
    }
}
