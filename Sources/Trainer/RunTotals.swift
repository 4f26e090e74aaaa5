import Collectives
import CostModel
import Energy
import Foundation
import Model

/// Rank 0's (and, identically, every rank's) running account of the cluster: turns each
/// iteration's per-rank records into one line of iterations.jsonl and keeps the totals the
/// summary reports. Every rank holds the same gathered records, so all reach the same totals
/// and take the same decisions (e.g. the energy budget). Checkpoints carry it (`Codable`).
struct RunTotals: Codable, Equatable {
    /// Set by the trainer, not stored: the job's rank count and the gradient bytes each step reduces (n × 4).
    var ranks = 0, reducedBytes = 0
    var iterations = 0, samples = 0
    /// Σ over iterations of the ranks' mean iteration seconds. Each rank's iterations tile its
    /// training loop, so this is the loop's wall time (a max per iteration would add up jitter).
    var seconds = 0.0
    /// `seconds` without data loading, evaluation and checkpoints (mean over ranks per iteration).
    var trainSeconds = 0.0
    var phaseSeconds = [Double](repeating: 0, count: Phase.allCases.count)
    var phaseJoules = [Double](repeating: 0, count: Phase.allCases.count)
    var rankJoules: [Double] = []
    var commBytes = 0.0
    var commSeconds = 0.0
    var commExposedSeconds = 0.0
    var lastLoss: Double? = nil
    var energyJoules: Double { phaseJoules.reduce(0, +) }
    var samplesPerSecond: Double { trainSeconds > 0 ? Double(samples) / trainSeconds : 0 }

    enum CodingKeys: String, CodingKey {
        case iterations, samples, seconds, trainSeconds = "train_seconds", phaseSeconds = "phase_seconds"
        case phaseJoules = "phase_joules", rankJoules = "rank_joules", commBytes = "comm_bytes"
        case commSeconds = "comm_seconds", commExposedSeconds = "comm_exposed_seconds", lastLoss = "last_loss"
    }

    init(ranks: Int, reducedBytes: Int) {
        self.ranks = ranks
        self.reducedBytes = reducedBytes
        rankJoules = Array(repeating: 0, count: ranks)
    }

    /// Continues from a checkpoint's totals, which must be of a run with this many ranks and phases.
    mutating func restore(_ saved: RunTotals) throws {
        guard saved.phaseSeconds.count == phaseSeconds.count, saved.phaseJoules.count == phaseJoules.count,
              saved.rankJoules.count == ranks else {
            throw TrainerError.checkpoint("checkpoint totals are for \(saved.rankJoules.count) ranks and \(saved.phaseJoules.count) phases, "
                                          + "not \(ranks) and \(phaseJoules.count)")
        }
        let (r, n) = (ranks, reducedBytes)
        self = saved
        ranks = r; reducedBytes = n
    }

    /// Adds one iteration (one record per rank) and returns its line of iterations.jsonl.
    mutating func add(_ records: [IterationRecord], nodeOf: [Int], localSizeOf: [Int],
                      source: String, learningRate: Double) -> IterationLine {
        let p = Double(records.count)
        let seconds = records.map { $0.end - $0.start }.reduce(0, +) / p
        func meanPhase(_ phase: Phase) -> Double { records.map { $0.seconds(phase) }.reduce(0, +) / p }
        var joules = [Double](repeating: 0, count: Phase.allCases.count)
        for record in records {
            for i in joules.indices { joules[i] += record.processJoules[i] + record.nodeJoules[i] }
        }
        // Node-wide joules (read by the node's first rank) are shared equally by the node's ranks,
        // which all spend the whole iteration on it; process joules belong to their rank.
        var nodeJoules: [Int: Double] = [:]
        for (r, record) in records.enumerated() { nodeJoules[nodeOf[r], default: 0] += record.nodeJoules.sum }
        let perRank = records.enumerated().map { r, record in
            record.processJoules.sum + (nodeJoules[nodeOf[r]] ?? 0) / Double(localSizeOf[r])
        }
        let energy = joules.reduce(0, +)
        let compute = joules[Phase.compute.rawValue], comm = joules[Phase.comm.rawValue]
        let samples = records.map(\.samples).reduce(0, +)
        let loss = records.map(\.loss).reduce(0, +) / p
        let bytes = records.map(\.commBytes).max() ?? 0
        let commSeconds = records.map(\.commSeconds).reduce(0, +) / p
        let exposed = meanPhase(.comm)

        iterations += 1
        self.samples += samples
        self.seconds += seconds
        trainSeconds += seconds - meanPhase(.data) - meanPhase(.eval) - meanPhase(.checkpoint)
        for phase in Phase.allCases { phaseSeconds[phase.rawValue] += meanPhase(phase) }
        for i in joules.indices { phaseJoules[i] += joules[i] }
        for r in rankJoules.indices { rankJoules[r] += perRank[r] }
        commBytes += Double(bytes)
        self.commSeconds += commSeconds
        commExposedSeconds += exposed
        lastLoss = loss.isFinite ? loss : nil

        func r6(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }
        return IterationLine(
            iter: records[0].iter, epoch: records[0].epoch, loss: loss.isFinite ? r6(loss) : nil, lr: r6(learningRate),
            seconds: seconds, computeS: meanPhase(.compute), commS: commSeconds, commExposedS: exposed,
            dataS: meanPhase(.data), optimizerS: meanPhase(.optimizer), evalS: meanPhase(.eval), idleS: meanPhase(.idle),
            commBytes: bytes, busbwGBps: r6(busBandwidth(bytes: Double(reducedBytes), seconds: commSeconds, ranks: records.count) / 1e9),
            samples: samples, energyJ: r6(energy), energyComputeJ: r6(compute), energyCommJ: r6(comm),
            energyOtherJ: r6(energy - compute - comm), powerW: r6(seconds > 0 ? energy / seconds : 0),
            energySource: source, rankEnergyJ: perRank.map(r6),
            joulesPerSample: samples > 0 ? r6(energy) / Double(samples) : 0)  // of the line's own (rounded) energy_j
    }

    /// What the run's summary says about time, energy and communication; the caller adds what the
    /// totals do not know (status, evaluations, the model, the run's plan).
    func summary(_ run: RunFacts, config: TrainConfig) -> RunSummary {
        let energy = energyJoules
        let compute = phaseJoules[Phase.compute.rawValue], comm = phaseJoules[Phase.comm.rawValue]
        let facility = config.accounting.totals(measuredJoules: energy, bytesMoved: commBytes * Double(ranks))
        let algbwSeconds = commSeconds / Double(max(1, iterations))
        return RunSummary(figures: RunFigures(
            status: run.status, ranks: ranks, nodes: run.nodes, epochs: run.epochs, iterations: iterations,
            samples: samples, seconds: seconds, wallSeconds: run.wallSeconds, trainSeconds: trainSeconds,
            samplesPerS: samplesPerSecond, finalLoss: lastLoss, parameters: run.parameterCount,
            skippedSteps: run.skippedSteps, parameterChecksum: String(run.parameterChecksum, radix: 16),
            peakRssMib: (run.peakRSSBytes / 1048576 * 10).rounded() / 10,
            secondsByPhase: Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0.name, phaseSeconds[$0.rawValue]) }),
            commBytes: commBytes, commS: commSeconds, commExposedS: commExposedSeconds,
            commAlgorithm: Array(Set(run.bucketAlgorithms)).sorted().joined(separator: "+"),
            commBucketsBytes: run.bucketBytes, commBucketAlgorithms: run.bucketAlgorithms, overlap: run.overlap,
            wireDtype: config.wire.rawValue,
            busbwGBps: busBandwidth(bytes: Double(reducedBytes), seconds: algbwSeconds, ranks: ranks) / 1e9,
            energyJ: energy, energyKwh: energy / 3.6e6, energyComputeJ: compute, energyCommJ: comm,
            energyOtherJ: energy - compute - comm,
            energyByPhaseJ: Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0.name, phaseJoules[$0.rawValue]) }),
            commEnergyShare: energy > 0 ? comm / energy : 0, joulesPerSample: samples > 0 ? energy / Double(samples) : 0,
            samplesPerJoule: energy > 0 ? Double(samples) / energy : 0, meanPowerW: seconds > 0 ? energy / seconds : 0,
            sampleUnit: run.sampleUnit,
            joulesPerSampleByCategory: samples > 0 ? ["compute": compute / Double(samples), "comm": comm / Double(samples),
                                                      "other": (energy - compute - comm) / Double(samples)] : nil,
            joulesPerParameter: run.parameterCount > 0 ? energy / Double(run.parameterCount) : nil,
            rankEnergyJ: rankJoules, energySource: run.sourceLabel, energySourceByNode: run.nodeSources,
            accounting: AccountingSummary(eComputeJ: facility.computeJ, eTransferJ: facility.transferJ, eStorageJ: facility.storageJ,
                                          eAuxJ: facility.auxJ, eTotalJ: facility.totalJ, pue: config.accounting.pue,
                                          networkJoulesPerByte: config.accounting.networkJoulesPerByte,
                                          carbonGPerKwh: config.accounting.carbonGramsPerKWh),
            co2G: facility.co2Grams, cost: facility.cost,
            estimate: run.estimate.map { EstimateSummary(formula: $0.formula, wattsPerBusyCore: $0.wattsPerBusyCore,
                                                         nodeIdleWatts: $0.nodeIdleWatts) },
            notes: run.notes, config: config), evaluations: run.evaluations)
    }
}

/// What the end of a run knows beyond the totals.
struct RunFacts {
    var status: RunStatus
    var nodes: Int
    var wallSeconds: Double
    var epochs: Int
    var evaluations: [Evaluation]
    var peakRSSBytes: Double
    var nodeSources: [String]
    var sourceLabel: String
    var estimate: EstimateModel?
    var parameterChecksum: UInt64
    var notes: [String]
    var overlap: Bool
    var bucketAlgorithms: [String]
    var bucketBytes: [Int]
    var parameterCount: Int
    var skippedSteps: Int
    var sampleUnit: String
}
