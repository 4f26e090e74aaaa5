import Collectives
import CostModel
import Foundation

/// The file `bench-allreduce --fit` writes and `predict --fit` / `plan --fit` read: the ring's
/// fitted α, β, γ on `nodes` nodes of `ranks / nodes` ranks each, how well the straight line
/// fitted, and the conversion cost of each 16-bit wire format on the machine it ran on.
/// Fitted on one node it is the intra-node level; on N nodes, the inter-node level (of a ring of
/// its ranks; on nodes of one rank each, of a pair's exchange too).
public struct RingFitFile: Codable {
    public var model = "t = 2(p-1)*alpha + 2((p-1)/p)*n*beta + ((p-1)/p)*n*gamma, n in bytes"
    public var ranks: Int?
    public var nodes: Int?
    public var alphaS: Double
    public var betaSPerByte: Double
    public var gammaSPerByte: Double
    public var interceptS: Double?
    public var slopeSPerByte: Double?
    public var maxRelativeError: Double?
    public var meanRelativeError: Double?
    public var points: Int?
    /// c_w: seconds per Float32 byte to encode to and decode from each 16-bit wire format.
    public var conversionSPerByte: [String: Double]?
    /// The ring rows fitted: [bytes, seconds per call] (the slowest rank's mean), ascending.
    public var rows: [[Double]]?
    /// The share of a core a rank keeps busy in the ring (CPU seconds over wall seconds, the
    /// largest size, the mean over ranks): what communicating draws between idle and busy.
    public var commCpuShare: Double?
    /// The same share at every size of the ring rows: [bytes, share], ascending.
    public var commCpuShareByBytes: [[Double]]?
    /// The link rate the fit ran at, when the launcher knew it (RINGWATT_LINK_GBIT).
    public var linkGbit: Double?
    /// The most ranks that shared one physical machine in the fit (absent in older files): the
    /// emulated cluster's hosts share one, so 2 hosts × 2 ranks put 4 on it.
    public var ranksPerMachine: Int?
    /// How its waits ran: tested and slept (µs at first; 0: waited in MPI), and tested first for
    /// so many µs — and up to the limit while waits ended within it (`SpinPolicy`; absent: no more).
    public var commWaitUs: Int?
    public var commSpinUs: Int?
    public var commSpinLimitUs: Int?

    enum CodingKeys: String, CodingKey {
        case model, ranks, nodes, alphaS = "alpha_s", betaSPerByte = "beta_s_per_byte", gammaSPerByte = "gamma_s_per_byte"
        case interceptS = "intercept_s", slopeSPerByte = "slope_s_per_byte", maxRelativeError = "max_relative_error"
        case meanRelativeError = "mean_relative_error", points, conversionSPerByte = "conversion_s_per_byte", linkGbit = "link_gbit", rows, commCpuShare = "comm_cpu_share"
        case commCpuShareByBytes = "comm_cpu_share_by_bytes", ranksPerMachine = "ranks_per_machine"
        case commWaitUs = "comm_wait_us", commSpinUs = "comm_spin_us", commSpinLimitUs = "comm_spin_limit_us"
    }

    public init(_ fit: RingFit, ranks: Int, nodes: Int, conversionSPerByte: [WireFormat: Double] = [:], linkGbit: Double? = nil,
                rows: [(bytes: Double, seconds: Double)] = []) {
        self.ranks = ranks; self.nodes = nodes; self.linkGbit = linkGbit
        self.rows = rows.isEmpty ? nil : rows.map { [$0.bytes, $0.seconds] }
        self.conversionSPerByte = conversionSPerByte.isEmpty ? nil : Dictionary(uniqueKeysWithValues: conversionSPerByte.map { ($0.rawValue, $1) })
        alphaS = fit.model.alpha; betaSPerByte = fit.model.beta; gammaSPerByte = fit.model.gamma
        interceptS = fit.intercept; slopeSPerByte = fit.slope; maxRelativeError = fit.maxRelativeError
        meanRelativeError = fit.meanRelativeError; points = fit.points
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? model
        ranks = try c.decodeIfPresent(Int.self, forKey: .ranks); nodes = try c.decodeIfPresent(Int.self, forKey: .nodes)
        alphaS = try c.decode(Double.self, forKey: .alphaS); betaSPerByte = try c.decode(Double.self, forKey: .betaSPerByte)
        gammaSPerByte = try c.decode(Double.self, forKey: .gammaSPerByte)
        interceptS = try c.decodeIfPresent(Double.self, forKey: .interceptS)
        slopeSPerByte = try c.decodeIfPresent(Double.self, forKey: .slopeSPerByte)
        maxRelativeError = try c.decodeIfPresent(Double.self, forKey: .maxRelativeError)
        meanRelativeError = try c.decodeIfPresent(Double.self, forKey: .meanRelativeError)
        points = try c.decodeIfPresent(Int.self, forKey: .points)
        conversionSPerByte = try c.decodeIfPresent([String: Double].self, forKey: .conversionSPerByte)
        linkGbit = try c.decodeIfPresent(Double.self, forKey: .linkGbit)
        rows = try c.decodeIfPresent([[Double]].self, forKey: .rows)
        commCpuShare = try c.decodeIfPresent(Double.self, forKey: .commCpuShare)
        commCpuShareByBytes = try c.decodeIfPresent([[Double]].self, forKey: .commCpuShareByBytes)
        ranksPerMachine = try c.decodeIfPresent(Int.self, forKey: .ranksPerMachine)
        commWaitUs = try c.decodeIfPresent(Int.self, forKey: .commWaitUs)
        commSpinUs = try c.decodeIfPresent(Int.self, forKey: .commSpinUs)
        commSpinLimitUs = try c.decodeIfPresent(Int.self, forKey: .commSpinLimitUs)
        guard (ranksPerMachine ?? 1) >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .ranksPerMachine, in: c, debugDescription: "ranks_per_machine must be ≥ 1")
        }
        guard (commCpuShareByBytes ?? []).allSatisfy({ $0.count == 2 && $0[0] > 0 && $0[1] >= 0 && $0.allSatisfy(\.isFinite) }) else {
            throw DecodingError.dataCorruptedError(forKey: .commCpuShareByBytes, in: c, debugDescription: "comm_cpu_share_by_bytes must be [bytes > 0, share ≥ 0] pairs")
        }
        guard (rows ?? []).allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isFinite) }) else {
            throw DecodingError.dataCorruptedError(forKey: .rows, in: c, debugDescription: "rows must be [bytes, seconds] pairs")
        }
    }

    public var ring: RingCostModel { RingCostModel(alpha: alphaS, beta: betaSPerByte, gamma: gammaSPerByte) }

    /// The level this file describes, with its measured rows (`LevelCost`).
    public var levelCost: LevelCost {
        LevelCost(ring, rows: (rows ?? []).map { LevelCost.Row(bytes: $0[0], seconds: $0[1]) }, ranks: ranks ?? 2,
                  cpuShare: commCpuShare, cpuShares: cpuShareRows)
    }

    /// `comm_cpu_share_by_bytes` as the cost model takes it.
    public var cpuShareRows: [LevelCost.ShareRow] {
        (commCpuShareByBytes ?? []).map { LevelCost.ShareRow(bytes: $0[0], share: $0[1]) }
    }

    public var conversion: [WireFormat: Double] {
        Dictionary(uniqueKeysWithValues: (conversionSPerByte ?? [:]).compactMap { k, v in WireFormat(rawValue: k).map { ($0, v) } })
    }

    /// Which level of the two-level model this fit describes: intra (one node) or inter (N > 1
    /// nodes: the ring ordered by node crosses nodes at every step, so the network paces it; on
    /// nodes of one rank each, a pair's exchange too — `ClusterCostModel.widerInter`).
    public var level: String {
        guard let nodes else { return "inter" }  // files from before nodes were recorded: one network
        return nodes == 1 ? "intra" : "inter"
    }

    /// The fit file at `path`; anything else is one line naming it.
    public static func read(path: String) throws -> RingFitFile {
        do { return try RunFileCoding.decode(RingFitFile.self, String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw RunError.configuration("\(path): not a bench-allreduce --fit file (alpha_s, beta_s_per_byte, gamma_s_per_byte)")
        }
    }
}
