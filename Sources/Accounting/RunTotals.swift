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
        case machineTotals = "machines", cpuSeconds = "cpu_seconds", sourceJoules = "source_joules"
    }

    package init(ranks: Int, reducedBytes: Int, machines: Int) {
        self.ranks = ranks
        self.reducedBytes = reducedBytes
        rankJoules = Array(repeating: 0, count: ranks)
        machineTotals = Array(repeating: MachineTotals(), count: machines)
    }

    /// Continues from a checkpoint's totals, which must be of a run with this many ranks and phases.
    package mutating func restore(_ saved: RunTotals) throws {
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

    /// Adds one iteration (one record per rank) and returns its line of iterations.jsonl.
    package mutating func add(_ records: [IterationRecord], machineOf: [Int], source: String, learningRate: Double) -> IterationLine {
        // Plain loops in record order (the sums' order, and so their bits, are those of map/reduce),
        // and the machine accounts mutated in place: this runs for every iteration at every flush.
        let p = Double(records.count), phases = Phase.allCases.count
        var seconds = 0.0, samples = 0, loss = 0.0, bytes = 0, commSeconds = 0.0, cpu = 0.0
        var phaseSum = [Double](repeating: 0, count: phases), joules = phaseSum
        for record in records {
            seconds += record.end - record.start
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
        // Machine-wide joules (read by the machine's first rank) go to the machine's ranks in
        // proportion to their CPU time in the iteration (equally where none was measured);
        // process joules belong to their rank.
        let machineCount = (machineOf.max() ?? -1) + 1
        var machineJoules = [Double](repeating: 0, count: machineCount), machineCPU = machineJoules
        var machineRanks = [Int](repeating: 0, count: machineCount)
        for (r, record) in records.enumerated() {
            machineJoules[machineOf[r]] += record.nodeJoules.sum
            machineCPU[machineOf[r]] += max(0, record.cpuSeconds)
            machineRanks[machineOf[r]] += 1
        }
        let perRank = records.enumerated().map { r, record -> Double in
            let m = machineOf[r], machineTime = machineCPU[m]
            let share = machineTime > 0 ? max(0, record.cpuSeconds) / machineTime : 1 / Double(machineRanks[m])
            return record.processJoules.sum + machineJoules[m] * share
        }
        if var list = machineTotals {
            machineTotals = nil  // `list` is the only reference: updated in place
            for (r, joules) in perRank.enumerated() where machineOf[r] < list.count {
                let m = machineOf[r]
                list[m].energyJ += joules
                for p in 0..<IterationRecord.phaseCount { list[m].phaseJoules[p] += records[r].processJoules[p] + records[r].nodeJoules[p] }
            }
            machineTotals = list
        }
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
            startS: r6(records.map(\.start).reduce(0, +) / p))
    }

    /// What the run's summary says about time, energy and communication; the caller adds what the
    /// totals do not know (status, evaluations, the model, the run's plan).
    package func summary(_ run: RunFacts, config: TrainConfig) -> RunSummary {
        let energy = energyJoules
        let compute = phaseJoules[Phase.compute.rawValue], comm = phaseJoules[Phase.comm.rawValue]
        let facility = config.accounting.totals(measuredJoules: energy, bytesMoved: commBytes * Double(ranks))
        let algbwSeconds = commSeconds / Double(max(1, iterations))
        var summary = RunSummary(figures: RunFigures(
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
        addEnergyDetail(to: &summary.figures, run, config: config)
        return summary
    }

    /// Idle and dynamic energy, the machines, fitted phase powers, resolution, methods, metadata.
    private func addEnergyDetail(to f: inout RunFigures, _ run: RunFacts, config: TrainConfig) {
        let plan = run.plan
        let split = IdleSplit(idleWatts: idleWatts, seconds: seconds, joules: energyJoules)
        f.idlePowerW = idleWatts
        f.energyIdleJ = split?.idle
        f.energyDynamicJ = split?.dynamic
        f.energyDynamicByPhaseJ = idleWatts.map { _ in
            Dictionary(uniqueKeysWithValues: Phase.allCases.map { phase in
                (phase.name, IdleSplit(idleWatts: idleWatts, seconds: phaseSeconds[phase.rawValue], joules: phaseJoules[phase.rawValue])!.dynamic)
            })
        }
        var perNode = [Double](repeating: 0, count: max(1, (plan.nodeOf.max() ?? 0) + 1))
        for (r, joules) in rankJoules.enumerated() where r < plan.nodeOf.count { perNode[plan.nodeOf[r]] += joules }
        f.energyByNodeJ = perNode
        f.machines = machines.enumerated().map { m, totals in
            let ranks = plan.ranks(onMachine: m), id = plan.machines[m]
            let split = IdleSplit(idleWatts: totals.idleWatts, seconds: seconds, joules: totals.energyJ)
            return MachineSummary(hostname: id.hostname, machineID: id.machineID, bootID: id.bootID, ranks: ranks,
                                  nodes: Array(Set(ranks.map { plan.nodeOf[$0] })).sorted(), energyJ: totals.energyJ,
                                  idlePowerW: totals.idleWatts, idleSource: totals.idleSource,
                                  energyIdleJ: split?.idle, energyDynamicJ: split?.dynamic,
                                  phasePowerW: totals.phasePower(ranks: ranks.count),
                                  fitIntervals: totals.machineFit.intervals + totals.processFit.intervals)
        }
        // The cluster's phase powers: Σ over machines that have a fit for the phase.
        let fits = (f.machines ?? []).compactMap(\.phasePowerW)
        if !fits.isEmpty {
            var cluster: [String: PhaseRegression.Estimate] = [:]
            for phase in PhaseRegression.phases {
                let each = fits.compactMap { $0[phase] }
                guard each.count == fits.count else { continue }
                cluster[phase] = .sum(each.map { (k: 1, estimate: $0) })
            }
            f.phasePowerW = cluster
        }
        f.energyAttribution = PowerPlan.attribution
        let cpu = plan.machines.indices.contains { plan.cpuEstimated(machine: $0) } ? "estimated (the model in `estimate`)" : "measured"
        f.energyMethods = [
            "energy_j": "\(cpu): counters' differences over the loop (RAPL, hwmon, NVML), or the estimate's formula",
            "energy_by_phase_j": "apportioned: the sampled cumulative curve interpolated over each phase's windows (mean power × time within a sample interval)",
            "phase_power_w": "fitted: least squares of each sample interval's energy on the time the ranks spent in each phase, ± standard error",
            "energy_idle_j": "idle_power_w × the loop's time; idle_power_w measured with every rank asleep before training (--idle-seconds), or the estimate's node idle watts",
            "energy_dynamic_j": "energy_j − energy_idle_j",
            "rank_energy_j": "process joules plus the machine's counters shared by CPU time",
        ]
        f.energyResolution = EnergyResolution(sampleHz: config.sampleHz, updateIntervals: plan.updateIntervals,
                                              iterations: iterations, seconds: seconds,
                                              phaseSeconds: Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0.name, phaseSeconds[$0.rawValue]) }))
        f.metadata = run.metadata
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
    package init(status: RunStatus,
                 nodes: Int,
                 wallSeconds: Double,
                 epochs: Int,
                 evaluations: [Evaluation],
                 peakRSSBytes: Double,
                 nodeSources: [String],
                 sourceLabel: String,
                 estimate: EstimateModel? = nil,
                 parameterChecksum: UInt64,
                 notes: [String],
                 overlap: Bool,
                 bucketAlgorithms: [String],
                 bucketBytes: [Int],
                 parameterCount: Int,
                 skippedSteps: Int,
                 sampleUnit: String,
                 plan: PowerPlan,
                 metadata: RunMetadata) {
        self.status = status
        self.nodes = nodes
        self.wallSeconds = wallSeconds
        self.epochs = epochs
        self.evaluations = evaluations
        self.peakRSSBytes = peakRSSBytes
        self.nodeSources = nodeSources
        self.sourceLabel = sourceLabel
        self.estimate = estimate
        self.parameterChecksum = parameterChecksum
        self.notes = notes
        self.overlap = overlap
        self.bucketAlgorithms = bucketAlgorithms
        self.bucketBytes = bucketBytes
        self.parameterCount = parameterCount
        self.skippedSteps = skippedSteps
        self.sampleUnit = sampleUnit
        self.plan = plan
        self.metadata = metadata
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
