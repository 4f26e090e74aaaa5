import Foundation

/// One finished run, read back from its directory for `compare` and `predict`.
public struct RunOnDisk {
    public let path: String
    public let summary: JSON
    /// Cumulative cluster energy at the end of each epoch (J), from iterations.jsonl.
    public let energyByEpoch: [Double]

    public init(path: String) throws {
        self.path = path
        guard let text = try? String(contentsOfFile: path + "/" + RunDirectory.summaryFile, encoding: .utf8),
              let summary = try? JSON.parse(text) else {
            throw RunDirectoryError(description: "\(path): no readable summary.json (not a run directory, or unfinished)")
        }
        guard summary["energy_j"] != nil, summary["seconds"] != nil else {
            throw RunDirectoryError(description: "\(path): the run \(summary["status"]?.string ?? "failed") before writing its figures")
        }
        self.summary = summary
        var perEpoch: [Int: Double] = [:]
        let lines = ((try? String(contentsOfFile: path + "/" + RunDirectory.iterationsFile, encoding: .utf8)) ?? "").split(separator: "\n")
        for line in lines {
            guard let j = try? JSON.parse(String(line)), let e = j["epoch"]?.double, let joules = j["energy_j"]?.double else { continue }
            perEpoch[Int(e), default: 0] += joules
        }
        var cumulative = 0.0
        energyByEpoch = perEpoch.keys.sorted().map { cumulative += perEpoch[$0]!; return cumulative }
    }

    public func number(_ key: String) -> Double { summary[key]?.double ?? .nan }
    public var nodes: Int { Int(number("nodes")) }
    public var ranks: Int { Int(number("ranks")) }
    public var epochs: Double { max(1, number("epochs")) }
    public var secondsPerEpoch: Double { number("seconds") / epochs }
    public var joulesPerEpoch: Double { number("energy_j") / epochs }
    public var iterations: Double { number("iterations") }
    public var accuracies: [Double] {
        if case let .array(a)? = summary["test_accuracy_per_epoch"] { return a.compactMap(\.double) }
        return []
    }

    /// Energy until the first epoch whose test accuracy reaches `target` (nil if none does).
    public func energyToReach(_ target: Double) -> Double? {
        guard let epoch = accuracies.firstIndex(where: { $0 >= target }), epoch < energyByEpoch.count else { return nil }
        return energyByEpoch[epoch]
    }
}
