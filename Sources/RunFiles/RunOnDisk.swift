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
            throw RunError.runDirectory("\(path): the run \(stub.status.rawValue) before writing its figures (\(stub.error))")
        case let .figures(summary):
            self.summary = summary
        }
        let lines = try IterationLine.readAll(path: path + "/" + RunDirectory.iterationsFile)
        var joules = 0.0, samples = 0
        var cumulativeJoules: [Double] = [], cumulativeSamples: [Int] = [], epochEnds: [Double] = []
        for (i, line) in lines.enumerated() {
            joules += line.energyJ
            samples += line.samples
            cumulativeJoules.append(joules)
            cumulativeSamples.append(samples)
            if i == lines.count - 1 || lines[i + 1].epoch != line.epoch { epochEnds.append(joules) }
        }
        energyByEpoch = epochEnds
        self.lines = lines
        let training = lines.filter { $0.evalS == 0 && $0.samples > 0 }
        trainingIterations = training.isEmpty ? lines : training
        self.cumulativeJoules = cumulativeJoules
        self.cumulativeSamples = cumulativeSamples
        restarts = try RestartRecord.readAll(directory: path)
    }

    /// Every resume of the run, from restarts.jsonl (none for a run never resumed).
    public let restarts: [RestartRecord]

    /// Every iteration, as iterations.jsonl holds it.
    public let lines: [IterationLine]
    /// The iterations that only trained (no evaluation in them).
    public let trainingIterations: [IterationLine]

    /// After each iteration: the cluster's energy (J) and the samples (or tokens) so far.
    public let cumulativeJoules: [Double]
    public let cumulativeSamples: [Int]

    public var nodes: Int { summary.nodes }
    public var ranks: Int { summary.ranks }
    public var epochs: Double { Double(max(1, summary.epochs)) }
    public var secondsPerEpoch: Double { summary.seconds / epochs }
    public var joulesPerEpoch: Double { summary.energyJ / epochs }
    public var iterations: Double { Double(summary.iterations) }

    /// The first evaluation whose metric `name` reaches `target` (at least it when higher is better,
    /// at most it otherwise): its step, and the energy and samples (tokens) spent until then.
    public func reach(_ name: String, _ target: Double, higherIsBetter: Bool) -> (step: Int, joules: Double, samples: Int)? {
        guard let e = summary.evaluations.first(where: { e in
            e.value(name).map { higherIsBetter ? $0 >= target : $0 <= target } ?? false
        }), e.step > 0, e.step <= cumulativeJoules.count else { return nil }
        return (e.step, cumulativeJoules[e.step - 1], cumulativeSamples[e.step - 1])
    }

}
