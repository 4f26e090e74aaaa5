import Foundation

/// One finished run, read back from its directory for `compare` and `predict`.
public struct RunOnDisk {
    public let path: String
    public let summary: RunSummary
    /// Cumulative cluster energy at the end of each epoch (J), from iterations.jsonl.
    public let energyByEpoch: [Double]

    public init(path: String) throws {
        self.path = path
        switch try SummaryFile.read(directory: path) {
        case let .failed(stub):
            throw TrainerError.runDirectory("\(path): the run \(stub.status.rawValue) before writing its figures (\(stub.error))")
        case let .figures(summary):
            self.summary = summary
        }
        var perEpoch: [Int: Double] = [:]
        for line in try IterationLine.readAll(path: path + "/" + RunDirectory.iterationsFile) {
            perEpoch[line.epoch, default: 0] += line.energyJ
        }
        var cumulative = 0.0
        energyByEpoch = perEpoch.keys.sorted().map { cumulative += perEpoch[$0]!; return cumulative }
    }

    public var nodes: Int { summary.nodes }
    public var ranks: Int { summary.ranks }
    public var epochs: Double { Double(max(1, summary.epochs)) }
    public var secondsPerEpoch: Double { summary.seconds / epochs }
    public var joulesPerEpoch: Double { summary.energyJ / epochs }
    public var iterations: Double { Double(summary.iterations) }

    /// Energy until the end of the first epoch whose metric `name` reaches `target` (at least it
    /// when higher is better, at most it otherwise); nil if none does.
    public func energyToReach(_ name: String, _ target: Double, higherIsBetter: Bool) -> Double? {
        let series = summary.evaluations.map { $0.first { $0.name == name }?.value ?? .nan }
        guard let epoch = series.firstIndex(where: { higherIsBetter ? $0 >= target : $0 <= target }),
              epoch < energyByEpoch.count else { return nil }
        return energyByEpoch[epoch]
    }
}
