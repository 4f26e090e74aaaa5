import Collectives
import Energy

/// `ringwatt plan`: every configuration of a grid priced for a given amount of work, the
/// time–energy Pareto frontier, and the recommendation — the least energy that meets a deadline,
/// and the fastest within an energy budget.
public struct Plan: Sendable {
    /// One configuration, priced for the whole work.
    public struct Row: Sendable, Equatable {
        public var configuration: JobConfiguration
        /// Per iteration, from `ScalingPrediction`.
        public var point: ScalingPrediction.Point
        public var batchPerRank: Double
        /// How the per-rank compute time at that batch was formed.
        public var computeBasis: ScalingPrediction.ComputeBasis
        public var steps: Double
        public var seconds: Double
        /// At the facility: IT energy (+ transfer estimate) × PUE, as a run's summary counts it.
        public var facility: EnergyAccounting.Totals
        /// The three terms of the IT energy: the ranks' dynamic power while computing (and
        /// everything but communication), all power while communication is exposed, and the
        /// machines' idle power during the rest.
        public var computeJoules: Double
        public var commJoules: Double
        public var idleJoules: Double
        public var joulesPerSample: Double
        public var onFrontier = false

        public var joules: Double { facility.totalJ }

        /// The largest of the three terms.
        public var dominantTerm: String {
            [("compute", computeJoules), ("communication", commJoules), ("idle", idleJoules)].max { $0.1 < $1.1 }!.0
        }
    }

    /// A pick with the margin to the next best by the same criterion.
    public struct Pick: Sendable, Equatable {
        public var row: Row
        public var runnerUp: Row?
        /// (runner-up − pick) / pick of the criterion (energy for the least-energy pick, time for the fastest).
        public var margin: Double?
    }

    public enum PlanError: Error, Equatable, CustomStringConvertible {
        case nothingToPlan
        case notFinite(String)
        case deadlineUnmet(deadline: Double, fastest: String, seconds: Double)
        case budgetUnmet(budget: Double, cheapest: String, joules: Double)

        public var description: String {
            switch self {
            case let .notFinite(c): "\(c): the prediction is not a finite positive time and energy (check the calibration's and the fit's figures)"
            case .nothingToPlan: "no configuration in the grid can run this work (every one was excluded; see the notes)"
            case let .deadlineUnmet(d, fastest, s):
                "no configuration meets the deadline of \(Plan.duration(d)): the fastest, \(fastest), takes \(Plan.duration(s))"
            case let .budgetUnmet(b, cheapest, j):
                "no configuration fits the energy budget of \(Plan.kWh(b)): the cheapest, \(cheapest), needs \(Plan.kWh(j))"
            }
        }
    }

    public var rows: [Row]
    /// Configurations left out, with why (a global batch the ranks can't divide).
    public var notes: [String]

    /// Prices `configurations` for `work` samples (or tokens): weak scaling at the calibration's
    /// batch per rank, or strong scaling at `globalBatch` divided over the ranks.
    public init(prediction: ScalingPrediction, configurations: [JobConfiguration], work: Double, globalBatch: Double?,
                accounting: EnergyAccounting) throws {
        var rows: [Row] = [], notes: [String] = []
        for c in configurations {
            let p = Double(c.topology.ranks)
            var batch = prediction.batchPerRank
            if let g = globalBatch {
                guard g.truncatingRemainder(dividingBy: p) == 0 else {
                    notes.append("\(c.topology.label): a global batch of \(Int(g)) does not divide over \(Int(p)) ranks; left out")
                    continue
                }
                batch = g / p
            }
            let pt = try prediction.point(c, batchPerRank: batch)
            let steps = (work / pt.globalBatch).rounded(.up), perEpoch = steps / pt.steps
            let it = pt.joules * perEpoch
            // Bytes on the wire: the gradient (however it is bucketed) × 2(p−1)/p per rank, every step.
            let bytes = steps * p * busBandwidthFactor(ranks: c.topology.ranks) * prediction.bucketBytes.reduce(0, +)
                * Double(c.wire.bytes) / 4
            let facility = accounting.totals(measuredJoules: it, bytesMoved: bytes)
            guard steps.isFinite, pt.iterationSeconds.isFinite, pt.iterationSeconds > 0, facility.totalJ.isFinite else {
                throw PlanError.notFinite(c.label)
            }
            rows.append(Row(configuration: c, point: pt, batchPerRank: batch, computeBasis: prediction.compute(atBatch: batch).basis,
                            steps: steps, seconds: steps * pt.iterationSeconds,
                            facility: facility,
                            computeJoules: (pt.computeJoules + pt.otherJoules - pt.idleJoules) * perEpoch,
                            commJoules: pt.commJoules * perEpoch, idleJoules: pt.idleJoules * perEpoch,
                            joulesPerSample: facility.totalJ / (steps * pt.globalBatch)))
        }
        guard !rows.isEmpty else { throw PlanError.nothingToPlan }
        for i in Self.frontier(rows.map { ($0.seconds, $0.joules) }) { rows[i].onFrontier = true }
        self.rows = rows; self.notes = notes
    }

    /// Indices of the points no other point beats on both time and energy (at least as good on
    /// both and better on one), in order of time.
    public static func frontier(_ points: [(seconds: Double, joules: Double)]) -> [Int] {
        let order = points.indices.sorted { (points[$0].seconds, points[$0].joules) < (points[$1].seconds, points[$1].joules) }
        var result: [Int] = [], best = Double.infinity
        for i in order where points[i].joules < best {
            result.append(i)
            best = points[i].joules
        }
        return result
    }

    /// The least energy among the configurations that finish within `deadline` seconds (all if
    /// nil); ties go to the faster one.
    public func leastEnergy(deadline: Double?) throws -> Pick {
        let feasible = rows.filter { deadline == nil || $0.seconds <= deadline! }
        guard !feasible.isEmpty else {
            let fastest = rows.min { $0.seconds < $1.seconds }!
            throw PlanError.deadlineUnmet(deadline: deadline!, fastest: fastest.configuration.label, seconds: fastest.seconds)
        }
        return Self.pick(feasible, by: \.joules, then: \.seconds)
    }

    /// The fastest among the configurations within `budget` joules at the facility (all if nil);
    /// ties go to the one with less energy.
    public func fastest(energyBudget budget: Double?) throws -> Pick {
        let feasible = rows.filter { budget == nil || $0.joules <= budget! }
        guard !feasible.isEmpty else {
            let cheapest = rows.min { $0.joules < $1.joules }!
            throw PlanError.budgetUnmet(budget: budget!, cheapest: cheapest.configuration.label, joules: cheapest.joules)
        }
        return Self.pick(feasible, by: \.seconds, then: \.joules)
    }

    /// The best of `rows` by `key` (ties broken by `tie`), the runner-up and the margin in `key`.
    static func pick(_ rows: [Row], by key: KeyPath<Row, Double>, then tie: KeyPath<Row, Double>) -> Pick {
        let ranked = rows.sorted { ($0[keyPath: key], $0[keyPath: tie]) < ($1[keyPath: key], $1[keyPath: tie]) }
        let best = ranked[0], next = ranked.dropFirst().first
        return Pick(row: best, runnerUp: next, margin: next.map { ($0[keyPath: key] - best[keyPath: key]) / best[keyPath: key] })
    }

    /// "2.5 h", "14 min", "38 s".
    public static func duration(_ s: Double) -> String {
        s >= 7200 ? String(format: "%.3g h", s / 3600) : s >= 120 ? String(format: "%.3g min", s / 60) : String(format: "%.3g s", s)
    }

    public static func kWh(_ joules: Double) -> String { String(format: "%.3g kWh", joules / 3.6e6) }
}
