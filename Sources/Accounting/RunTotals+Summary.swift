import RunFiles
import Collectives
import CostModel
import Energy
import Foundation
import Model

extension RunTotals {
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
        summary.figures.faults = faults.map { FaultSummary($0, iterations: iterations, energyJ: energy) }
        return summary
    }

    /// Idle and dynamic energy, the machines, fitted phase powers, resolution, methods, metadata.
    func addEnergyDetail(to f: inout RunFigures, _ run: RunFacts, config: TrainConfig) {
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
