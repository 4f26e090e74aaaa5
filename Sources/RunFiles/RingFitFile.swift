import CostModel
import Foundation
import RunFiles

/// The file `bench-allreduce --fit` writes and `predict --fit` reads: the ring's fitted α, β, γ
/// and how well the straight line fitted.
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

    enum CodingKeys: String, CodingKey {
        case model, ranks, nodes, alphaS = "alpha_s", betaSPerByte = "beta_s_per_byte", gammaSPerByte = "gamma_s_per_byte"
        case interceptS = "intercept_s", slopeSPerByte = "slope_s_per_byte", maxRelativeError = "max_relative_error"
        case meanRelativeError = "mean_relative_error", points
    }

    public init(_ fit: RingFit, ranks: Int, nodes: Int) {
        self.ranks = ranks; self.nodes = nodes
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
    }

    public var ring: RingCostModel { RingCostModel(alpha: alphaS, beta: betaSPerByte, gamma: gammaSPerByte) }

    public static func read(path: String) throws -> RingFitFile {
        try RunFileCoding.decode(RingFitFile.self, String(contentsOfFile: path, encoding: .utf8))
    }
}
