import Energy
import Foundation
import Support
import Testing

/// The phase-power fit against closed forms: exact data gives the powers exactly, noisy data gives
/// them within their standard errors, and what the data cannot determine is said to be so.
@Suite struct PhaseRegressionTests {
    /// 20 ms intervals split at random between compute, comm and other.
    static func intervals(_ n: Int, seed: UInt64) -> [[Double]] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in
            let a = rng.nextUniform(), b = rng.nextUniform() * (1 - a)
            return [0.02 * a, 0.02 * b, 0.02 * (1 - a - b)]
        }
    }

    @Test func exactIntervalsGiveThePowersExactly() throws {
        var fit = PhaseRegression()
        for x in Self.intervals(50, seed: 1) { fit.add(joules: 60 * x[0] + 25 * x[1] + 40 * x[2], seconds: x) }
        let p = try #require(fit.fit())
        #expect(abs(p["compute"]!.watts - 60) < 1e-9 && abs(p["comm"]!.watts - 25) < 1e-9 && abs(p["other"]!.watts - 40) < 1e-9)
        #expect(p["compute"]!.standardError! < 1e-6)
    }

    @Test func noisyIntervalsGiveThePowersWithinTheirStandardErrors() throws {
        var rng = SplitMix64(seed: 9)
        var fit = PhaseRegression()
        for x in Self.intervals(400, seed: 2) {
            let noise = (rng.nextUniform() - 0.5) * 0.02  // ±10 mJ on ~0.8 J intervals
            fit.add(joules: 60 * x[0] + 25 * x[1] + 40 * x[2] + noise, seconds: x)
        }
        let p = try #require(fit.fit())
        for (phase, truth) in [("compute", 60.0), ("comm", 25.0), ("other", 40.0)] {
            let e = try #require(p[phase]), se = try #require(e.standardError)
            #expect(se > 0 && se < 1, "\(phase) ± \(se)")
            #expect(abs(e.watts - truth) < 4 * se, "\(phase): \(e.watts) ± \(se), truth \(truth)")
        }
    }

    @Test func accumulatingInPartsIsTheSameFit() throws {
        var whole = PhaseRegression(), first = PhaseRegression(), second = PhaseRegression()
        for (i, x) in Self.intervals(30, seed: 3).enumerated() {
            let y = 50 * x[0] + 30 * x[1] + 35 * x[2] + Double(i % 3) * 1e-3
            whole.add(joules: y, seconds: x)
            if i < 13 { first.add(joules: y, seconds: x) } else { second.add(joules: y, seconds: x) }
        }
        first.merge(second)
        #expect(first.intervals == whole.intervals)
        let a = try #require(first.fit()), b = try #require(whole.fit())  // the same up to summation order
        for phase in PhaseRegression.phases {
            #expect(abs(a[phase]!.watts - b[phase]!.watts) < 1e-9 && abs(a[phase]!.standardError! - b[phase]!.standardError!) < 1e-9)
        }
    }

    @Test func undeterminedPhasesAreSaidToBe() {
        var none = PhaseRegression()
        #expect(none.fit() == nil)
        // A phase never entered is absent; one rank with no communication still fits the others.
        var noComm = PhaseRegression()
        for x in Self.intervals(20, seed: 4) { noComm.add(joules: 60 * x[0] + 40 * (x[1] + x[2]), seconds: [x[0], 0, x[1] + x[2]]) }
        let fit = noComm.fit()
        #expect(fit?["comm"] == nil && abs((fit?["compute"]?.watts ?? 0) - 60) < 1e-9)
        // Phases always in the same proportion cannot be told apart.
        var collinear = PhaseRegression()
        for t in [0.01, 0.02, 0.015, 0.005] { collinear.add(joules: 50 * t, seconds: [t / 2, t / 2, 0]) }
        #expect(collinear.fit() == nil)
        // Two intervals cannot fit three phases.
        var short = PhaseRegression()
        short.add(joules: 1, seconds: [0.01, 0.005, 0.005]); short.add(joules: 1, seconds: [0.005, 0.01, 0.005])
        #expect(short.fit() == nil)
        none.add(joules: .nan, seconds: [1, 0, 0])
        #expect(none.intervals == 0)
    }
}
