import CostModel
import Foundation

/// What `plan --json` writes: the work, every configuration priced, and the picks.
public struct PlanFile: Codable, Equatable {
    public struct Row: Codable, Equatable {
        public var configuration: String
        public var nodes: Int
        public var ranksPerNode: Int
        public var wire: String
        public var overlap: Bool
        /// Bucket size in bytes; nil: the calibration run's buckets.
        public var bucketBytes: Double?
        public var batchPerRank: Double
        public var computeBasis: String
        public var tIterS: Double
        public var commExposedS: Double
        public var steps: Double
        public var seconds: Double
        public var energyJ: Double
        public var energyKwh: Double
        public var jPerSample: Double
        public var co2G: Double
        public var computeJ: Double
        public var commJ: Double
        public var idleJ: Double
        public var dominant: String
        public var onFrontier: Bool
        /// How much the ranks sharing a machine slow each other in this row (1: no calibration applies),
        /// and the ranks of the calibration it comes from.
        public var contentionCompute: Double
        public var contentionOther: Double
        public var contentionRanks: Int
        /// Priced at the fits whose waits did not spin (a machine with more ranks than cores).
        public var pricedWithoutSpin: Bool

        enum CodingKeys: String, CodingKey {
            case configuration, nodes, ranksPerNode = "ranks_per_node", wire, overlap, bucketBytes = "bucket_bytes"
            case batchPerRank = "batch_per_rank", computeBasis = "compute_basis", tIterS = "t_iter_s", commExposedS = "comm_exposed_s"
            case steps, seconds, energyJ = "energy_j", energyKwh = "energy_kwh", jPerSample = "j_per_sample", co2G = "co2_g"
            case computeJ = "compute_j", commJ = "comm_j", idleJ = "idle_j", dominant, onFrontier = "on_frontier"
            case contentionCompute = "contention_compute", contentionOther = "contention_other", contentionRanks = "contention_ranks"
            case pricedWithoutSpin = "priced_without_spin"
        }

        public init(_ r: Plan.Row) {
            let c = r.configuration
            configuration = c.label; nodes = c.topology.nodes; ranksPerNode = c.topology.ranksPerNode; wire = c.wire.rawValue
            overlap = c.overlap; bucketBytes = c.bucketBytes; batchPerRank = r.batchPerRank; computeBasis = r.computeBasis.rawValue
            tIterS = r.point.iterationSeconds; commExposedS = r.point.exposedCommSeconds; steps = r.steps; seconds = r.seconds
            energyJ = r.joules; energyKwh = r.facility.kWh; jPerSample = r.joulesPerSample; co2G = r.facility.co2Grams
            computeJ = r.computeJoules; commJ = r.commJoules; idleJ = r.idleJoules; dominant = r.dominantTerm; onFrontier = r.onFrontier
            contentionCompute = r.point.contention.compute; contentionOther = r.point.contention.other
            contentionRanks = r.point.contention.measuredAtRanks; pricedWithoutSpin = r.point.pricedWithoutSpin
        }
    }

    public struct Pick: Codable, Equatable {
        public var configuration: String
        public var runnerUp: String?
        public var margin: Double?
        enum CodingKeys: String, CodingKey { case configuration, runnerUp = "runner_up", margin }
        init(_ p: Plan.Pick) { configuration = p.row.configuration.label; runnerUp = p.runnerUp?.configuration.label; margin = p.margin }
    }

    public var unit: String
    public var work: Double
    public var deadlineS: Double?
    public var leastEnergy: Pick?
    public var fastestWithinBudget: Pick?
    public var notes: [String]
    public var rows: [Row]
    /// Measured runs of configurations in the grid, against their rows (per training iteration).
    public var measured: [PredictionError]

    enum CodingKeys: String, CodingKey {
        case unit, work, deadlineS = "deadline_s", leastEnergy = "least_energy", fastestWithinBudget = "fastest_within_budget", notes, rows
        case measured
    }

    public init(_ plan: Plan, unit: String, work: Double, deadline: Double?, least: Plan.Pick?, fastest: Plan.Pick?,
                measured: [PredictionError] = []) {
        self.measured = measured
        self.unit = unit; self.work = work; deadlineS = deadline
        leastEnergy = least.map(Pick.init); fastestWithinBudget = fastest.map(Pick.init)
        notes = plan.notes; rows = plan.rows.map(Row.init)
    }
}

/// The plan drawn: energy against time to finish for every configuration, the frontier joined,
/// the pick ringed.
public struct PlanPlot {
    public var plan: Plan
    public var pick: Plan.Pick?
    public var unit: String
    /// Drawn as a dashed line, in seconds.
    public var deadline: Double?

    public init(plan: Plan, pick: Plan.Pick?, unit: String, deadline: Double? = nil) {
        self.plan = plan; self.pick = pick; self.unit = unit; self.deadline = deadline
    }

    public var chart: SVGChart {
        func point(_ r: Plan.Row, label: Bool) -> SVGChart.Point {
            SVGChart.Point(x: r.seconds / 3600, y: r.facility.kWh, label: label ? r.configuration.label : nil)
        }
        let frontier = plan.rows.filter(\.onFrontier).sorted { $0.seconds < $1.seconds }
        let series0 = [
            SVGChart.Series(name: "configurations", points: plan.rows.filter { !$0.onFrontier }.map { point($0, label: true) },  // labels as hover text
                            style: .markers, color: "#9aa7b8"),
            SVGChart.Series(name: "time–energy frontier", points: frontier.map { point($0, label: true) },
                            style: .lineAndMarkers, color: "#1f5fa8"),
        ]
        var series = series0
        if let pick {
            series.append(SVGChart.Series(name: "pick: " + pick.row.configuration.label, points: [point(pick.row, label: false)],
                                          style: .highlight, color: "#c0392b"))
        }
        var chart = SVGChart(title: "Energy against time to finish, every configuration", xTitle: "time to finish, h",
                             yTitle: "energy at the facility, kWh", series: series)
        if let deadline { chart.verticalLines = [(deadline / 3600, "deadline " + Plan.duration(deadline))] }
        return chart
    }

    public func write(to path: String) throws {
        try RunDirectory.writeAtomically(path: path, chart.render())
    }
}
