import RunFiles
import Collectives
import CostModel
import Energy
import Foundation
import Model

/// Rank 0's (and, identically, every rank's) running account of the cluster: turns each
/// iteration's per-rank records into one line of iterations.jsonl and keeps the totals the
/// summary reports. Every rank holds the same gathered records, so all reach the same totals
/// and take the same decisions (e.g. the energy budget). Checkpoints carry it (`Codable`).
package struct RunTotals: Codable, Equatable {
    /// Set by the trainer, not stored: the job's rank count and the gradient bytes each step reduces (n × 4).
    package var ranks = 0, reducedBytes = 0
    package var iterations = 0, samples = 0
    /// Σ over iterations of the ranks' mean iteration seconds. Each rank's iterations tile its
    /// training loop, so this is the loop's wall time (a max per iteration would add up jitter).
    package var seconds = 0.0
    /// `seconds` without data loading, evaluation and checkpoints (mean over ranks per iteration).
    package var trainSeconds = 0.0
    package var phaseSeconds = [Double](repeating: 0, count: Phase.allCases.count)
    package var phaseJoules = [Double](repeating: 0, count: Phase.allCases.count)
    package var rankJoules: [Double] = []
    package var commBytes = 0.0
    package var commSeconds = 0.0
    package var commExposedSeconds = 0.0
    package var lastLoss: Double? = nil
    /// Per physical machine (absent in checkpoints from before machines were told apart).
    package var machineTotals: [MachineTotals]?
    /// The ranks' CPU time (all threads), summed.
    package var cpuSeconds: Double?
    /// Joules each source ("kind,domain") measured over the run's power samples, idle baseline included.
    package var sourceJoules: [String: Double]?
    /// What resumes cost so far (absent until the first), from restarts.jsonl at the last resume.
    package var faults: FaultTotals?
    package var energyJoules: Double { phaseJoules.reduce(0, +) }
    package var machines: [MachineTotals] {
        get { machineTotals ?? [] }
        set { machineTotals = newValue }
    }
    /// The cluster's idle watts: Σ over machines whose idle power is known.
    package var idleWatts: Double? {
        let known = machines.compactMap(\.idleWatts)
        return known.isEmpty ? nil : known.reduce(0, +)
    }
    package var samplesPerSecond: Double { trainSeconds > 0 ? Double(samples) / trainSeconds : 0 }

    package enum CodingKeys: String, CodingKey {
        case iterations, samples, seconds, trainSeconds = "train_seconds", phaseSeconds = "phase_seconds"
        case phaseJoules = "phase_joules", rankJoules = "rank_joules", commBytes = "comm_bytes"
        case commSeconds = "comm_seconds", commExposedSeconds = "comm_exposed_seconds", lastLoss = "last_loss"
        case machineTotals = "machines", cpuSeconds = "cpu_seconds", sourceJoules = "source_joules", faults
    }

    package init(ranks: Int, reducedBytes: Int, machines: Int) {
        self.ranks = ranks
        self.reducedBytes = reducedBytes
        rankJoules = Array(repeating: 0, count: ranks)
        machineTotals = Array(repeating: MachineTotals(), count: machines)
    }

    /// Continues from a checkpoint's totals, which must have this many phases. A checkpoint of
    /// another rank count (a resume on fewer or more ranks) keeps every total; its per-rank joules
    /// are spread evenly over the new ranks (their sum, the run's energy, is kept).
    package mutating func restore(_ saved: RunTotals) throws {
        var saved = saved
        if saved.rankJoules.count != ranks && !saved.rankJoules.isEmpty {
            let sum = saved.rankJoules.reduce(0, +)
            saved.rankJoules = Array(repeating: sum / Double(ranks), count: ranks)
        }
        guard saved.phaseSeconds.count == phaseSeconds.count, saved.phaseJoules.count == phaseJoules.count,
              saved.rankJoules.count == ranks else {
            throw RunError.checkpoint("checkpoint totals are for \(saved.rankJoules.count) ranks and \(saved.phaseJoules.count) phases, "
                                          + "not \(ranks) and \(phaseJoules.count)")
        }
        let (r, n, fresh) = (ranks, reducedBytes, machines)
        self = saved
        ranks = r; reducedBytes = n
        // A run resumed on another set of machines starts their accounts afresh.
        if machines.count != fresh.count { machines = fresh }
    }

    /// Each rank's joules in an iteration: its own (process) joules, plus its share of its
    /// machine's machine-wide joules (read by the machine's first rank) in proportion to its CPU
    /// time in the iteration (equally where none was measured).
    static func rankJoules(_ records: [IterationRecord], machineOf: [Int]) -> [Double] {
        let machineCount = (machineOf.max() ?? -1) + 1
        var machineJoules = [Double](repeating: 0, count: machineCount), machineCPU = machineJoules
        var machineRanks = [Int](repeating: 0, count: machineCount)
        for (r, record) in records.enumerated() {
            machineJoules[machineOf[r]] += record.nodeJoules.sum
            machineCPU[machineOf[r]] += max(0, record.cpuSeconds)
            machineRanks[machineOf[r]] += 1
        }
        return records.enumerated().map { r, record -> Double in
            let m = machineOf[r], machineTime = machineCPU[m]
            let share = machineTime > 0 ? max(0, record.cpuSeconds) / machineTime : 1 / Double(machineRanks[m])
            return record.processJoules.sum + machineJoules[m] * share
        }
    }

    /// Adds an iteration's joules to the machines' accounts, in place.
    private mutating func addToMachines(_ records: [IterationRecord], perRank: [Double], machineOf: [Int]) {
        guard var list = machineTotals else { return }
        machineTotals = nil  // `list` is the only reference: updated in place
        for (r, joules) in perRank.enumerated() where machineOf[r] < list.count {
            let m = machineOf[r]
            list[m].energyJ += joules
            for p in 0..<IterationRecord.phaseCount { list[m].phaseJoules[p] += records[r].processJoules[p] + records[r].nodeJoules[p] }
        }
        machineTotals = list
    }

    /// Adds one iteration (one record per rank) and returns its line of iterations.jsonl.
    package mutating func add(_ records: [IterationRecord], machineOf: [Int], source: String, learningRate: Double) -> IterationLine {
        // Plain loops in record order (the sums' order, and so their bits, are those of map/reduce),
        // and the machine accounts mutated in place: this runs for every iteration at every flush.
        let p = Double(records.count), phases = Phase.allCases.count
        var seconds = 0.0, samples = 0, loss = 0.0, bytes = 0, commSeconds = 0.0, cpu = 0.0, slowestCompute = 0.0
        var phaseSum = [Double](repeating: 0, count: phases), joules = phaseSum
        for record in records {
            seconds += record.end - record.start
            slowestCompute = max(slowestCompute, record.seconds(.compute))
            for i in 0..<phases {
                phaseSum[i] += record.seconds(Phase(rawValue: i)!)
                joules[i] += record.processJoules[i] + record.nodeJoules[i]
            }
            samples += record.samples
            loss += record.loss
            bytes = max(bytes, record.commBytes)
            commSeconds += record.commSeconds
            cpu += max(0, record.cpuSeconds)
        }
        seconds /= p; loss /= p; commSeconds /= p
        func meanPhase(_ phase: Phase) -> Double { phaseSum[phase.rawValue] / p }
        let perRank = Self.rankJoules(records, machineOf: machineOf)
        addToMachines(records, perRank: perRank, machineOf: machineOf)
        cpuSeconds = (cpuSeconds ?? 0) + cpu
        let energy = joules.reduce(0, +)
        let compute = joules[Phase.compute.rawValue], comm = joules[Phase.comm.rawValue]
        let exposed = meanPhase(.comm)
        let split = IdleSplit(idleWatts: idleWatts, seconds: seconds, joules: energy)

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
            joulesPerSample: samples > 0 ? r6(energy) / Double(samples) : 0,  // of the line's own (rounded) energy_j
            energyIdleJ: split.map { r6($0.idle) }, energyDynamicJ: split.map { r6($0.dynamic) },
            startS: r6(records.map(\.start).reduce(0, +) / p), computeMaxS: slowestCompute)
    }
}

/// What the end of a run knows beyond the totals.
package struct RunFacts {
    package var status: RunStatus
    package var nodes: Int
    package var wallSeconds: Double
    package var epochs: Int
    package var evaluations: [Evaluation]
    package var peakRSSBytes: Double
    package var nodeSources: [String]
    package var sourceLabel: String
    package var estimate: EstimateModel?
    package var parameterChecksum: UInt64
    package var notes: [String]
    package var overlap: Bool
    package var bucketAlgorithms: [String]
    package var bucketBytes: [Int]
    package var parameterCount: Int
    package var skippedSteps: Int
    package var sampleUnit: String
    package var plan: PowerPlan
    package var metadata: RunMetadata
    /// Every stored property, in order (the memberwise initializer, visible to the package).
    package init(status: RunStatus, nodes: Int, wallSeconds: Double, epochs: Int, evaluations: [Evaluation],
                 peakRSSBytes: Double, nodeSources: [String], sourceLabel: String, estimate: EstimateModel? = nil,
                 parameterChecksum: UInt64, notes: [String], overlap: Bool, bucketAlgorithms: [String],
                 bucketBytes: [Int], parameterCount: Int, skippedSteps: Int, sampleUnit: String, plan: PowerPlan,
                 metadata: RunMetadata) {
        self.status = status; self.nodes = nodes; self.wallSeconds = wallSeconds; self.epochs = epochs;
        self.evaluations = evaluations; self.peakRSSBytes = peakRSSBytes; self.nodeSources = nodeSources;
        self.sourceLabel = sourceLabel; self.estimate = estimate; self.parameterChecksum = parameterChecksum;
        self.notes = notes; self.overlap = overlap; self.bucketAlgorithms = bucketAlgorithms;
        self.bucketBytes = bucketBytes; self.parameterCount = parameterCount; self.skippedSteps = skippedSteps;
        self.sampleUnit = sampleUnit; self.plan = plan; self.metadata = metadata
    }

}

/// Idle and dynamic energy: the idle power × the time, and the rest. The one rule for iteration
/// lines, the run, each machine and each phase.
package struct IdleSplit {
    package let idle: Double, dynamic: Double

    /// nil where the idle power is unknown (--idle-seconds 0 with a counter).
    package init?(idleWatts: Double?, seconds: Double, joules: Double) {
        guard let idleWatts else { return nil }
        idle = idleWatts * seconds
        dynamic = joules - idle
    }
}
