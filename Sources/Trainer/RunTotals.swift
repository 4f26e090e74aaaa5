import Collectives
import Energy
import Foundation

/// Rank 0's (and, identically, every rank's) running account of the cluster: turns each
/// iteration's per-rank records into one line of iterations.jsonl and keeps the totals the
/// summary reports. Every rank holds the same gathered records, so all reach the same totals
/// and take the same decisions (e.g. the energy budget).
struct RunTotals {
    let ranks: Int
    var iterations = 0
    var samples = 0
    /// Σ over iterations of the ranks' mean iteration seconds. Each rank's iterations tile its
    /// training loop, so this is the loop's wall time (a max per iteration would add up jitter).
    var seconds = 0.0
    /// `seconds` without data loading, evaluation and checkpoints (mean over ranks per iteration).
    var trainSeconds = 0.0
    var phaseSeconds = [Double](repeating: 0, count: Phase.allCases.count)
    var phaseJoules = [Double](repeating: 0, count: Phase.allCases.count)
    var rankJoules: [Double]
    var commBytes = 0.0
    var commSeconds = 0.0
    var commExposedSeconds = 0.0
    /// Bytes of the gradient buffer each step reduces (n × 4).
    var reducedBytes = 0
    var lastLoss = Double.nan
    var energyJoules: Double { phaseJoules.reduce(0, +) }
    var samplesPerSecond: Double { trainSeconds > 0 ? Double(samples) / trainSeconds : 0 }

    init(ranks: Int) {
        self.ranks = ranks
        rankJoules = Array(repeating: 0, count: ranks)
    }

    /// Adds one iteration (one record per rank) and returns its JSON line.
    mutating func add(_ records: [IterationRecord], nodeOf: [Int], localSizeOf: [Int],
                      source: String, learningRate: Double) -> String {
        let p = Double(records.count)
        let seconds = records.map { $0.end - $0.start }.reduce(0, +) / p
        func meanPhase(_ phase: Phase) -> Double { records.map { $0.phaseSeconds[phase.rawValue] }.reduce(0, +) / p }
        var joules = [Double](repeating: 0, count: Phase.allCases.count)
        for record in records {
            for i in joules.indices { joules[i] += record.processJoules[i] + record.nodeJoules[i] }
        }
        // Node-wide joules (read by the node's first rank) are shared equally by the node's ranks,
        // which all spend the whole iteration on it; process joules belong to their rank.
        var nodeJoules: [Int: Double] = [:]
        for (r, record) in records.enumerated() { nodeJoules[nodeOf[r], default: 0] += record.nodeJoules.reduce(0, +) }
        let perRank = records.enumerated().map { r, record in
            record.processJoules.reduce(0, +) + (nodeJoules[nodeOf[r]] ?? 0) / Double(localSizeOf[r])
        }
        let energy = joules.reduce(0, +)
        let compute = joules[Phase.compute.rawValue], comm = joules[Phase.comm.rawValue]
        let samples = records.map(\.samples).reduce(0, +)
        let loss = records.map(\.loss).reduce(0, +) / p
        let bytes = records.map(\.commBytes).max() ?? 0
        let commSeconds = records.map(\.commSeconds).reduce(0, +) / p
        let exposed = meanPhase(.comm)
        let busbw = commSeconds > 0 && records.count > 1
            ? Double(reducedBytes) / commSeconds / 1e9 * 2 * (p - 1) / p : 0

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
        lastLoss = loss

        func r6(_ x: Double) -> JSON { .number((x * 1e6).rounded() / 1e6) }
        let line = JSON.object([
            ("iter", .int(records[0].iter)),
            ("epoch", .int(records[0].epoch)),
            ("loss", r6(loss)),
            ("lr", r6(learningRate)),
            ("seconds", .number(seconds)),
            ("compute_s", .number(meanPhase(.compute))),
            ("comm_s", .number(commSeconds)),
            ("comm_exposed_s", .number(exposed)),
            ("data_s", .number(meanPhase(.data))),
            ("optimizer_s", .number(meanPhase(.optimizer))),
            ("eval_s", .number(meanPhase(.eval))),
            ("idle_s", .number(meanPhase(.idle))),
            ("comm_bytes", .int(bytes)),
            ("busbw_GBps", r6(busbw)),
            ("samples", .int(samples)),
            ("energy_j", r6(energy)),
            ("energy_compute_j", r6(compute)),
            ("energy_comm_j", r6(comm)),
            ("energy_other_j", r6(energy - compute - comm)),
            ("power_w", r6(seconds > 0 ? energy / seconds : 0)),
            ("energy_source", .string(source)),
            ("rank_energy_j", .array(perRank.map(r6))),
        ])
        return line.serialized()
    }

    func summary(status: String, config: TrainConfig, nodes: Int, epochs: Int, wallSeconds: Double,
                 accuracies: [Double], peakRSS: Double, nodeSources: [String], sourceLabel: String, estimate: EstimateModel?,
                 parameterChecksum: UInt64, notes: [String], overlap: Bool, algorithms: [String], buckets: [Int],
                 parameterCount: Int, skippedSteps: Int) -> JSON {
        let energy = energyJoules
        let compute = phaseJoules[Phase.compute.rawValue], comm = phaseJoules[Phase.comm.rawValue]
        let totals = config.accounting.totals(measuredJoules: energy, bytesMoved: commBytes * Double(ranks))
        let byPhase = JSON.object(Phase.allCases.map { ($0.name, .number(phaseJoules[$0.rawValue])) })
        let secondsByPhase = JSON.object(Phase.allCases.map { ($0.name, .number(phaseSeconds[$0.rawValue])) })
        let algbw = commSeconds > 0 ? Double(reducedBytes) * Double(iterations) / commSeconds / 1e9 : 0
        let busbw = algbw * (ranks > 1 ? 2 * Double(ranks - 1) / Double(ranks) : 0)
        var pairs: [(String, JSON)] = [
            ("status", .string(status)),
            ("ranks", .int(ranks)),
            ("nodes", .int(nodes)),
            ("epochs", .int(epochs)),
            ("iterations", .int(iterations)),
            ("samples", .int(samples)),
            ("seconds", .number(seconds)),
            ("wall_seconds", .number(wallSeconds)),
            ("train_seconds", .number(trainSeconds)),
            ("samples_per_s", .number(samplesPerSecond)),
            ("final_loss", .number(lastLoss)),
            ("test_accuracy", accuracies.last.map { .number($0) } ?? .null),
            ("test_accuracy_per_epoch", .array(accuracies.map { .number($0) })),
            ("parameters", .int(parameterCount)),
            ("skipped_steps", .int(skippedSteps)),
            ("parameter_checksum", .string(String(parameterChecksum, radix: 16))),
            ("peak_rss_mib", .number((peakRSS / 1048576 * 10).rounded() / 10)),
            ("seconds_by_phase", secondsByPhase),
            ("comm_bytes", .number(commBytes)),
            ("comm_s", .number(commSeconds)),
            ("comm_exposed_s", .number(commExposedSeconds)),
            ("comm_algorithm", .string(Array(Set(algorithms)).sorted().joined(separator: "+"))),
            ("comm_buckets_bytes", .array(buckets.map { .int($0) })),
            ("comm_bucket_algorithms", .array(algorithms.map { .string($0) })),
            ("overlap", .bool(overlap)),
            ("wire_dtype", .string(config.wire.rawValue)),
            ("busbw_GBps", .number(busbw)),
            ("energy_j", .number(energy)),
            ("energy_kwh", .number(energy / 3.6e6)),
            ("energy_compute_j", .number(compute)),
            ("energy_comm_j", .number(comm)),
            ("energy_other_j", .number(energy - compute - comm)),
            ("energy_by_phase_j", byPhase),
            ("comm_energy_share", .number(energy > 0 ? comm / energy : 0)),
            ("joules_per_sample", .number(samples > 0 ? energy / Double(samples) : 0)),
            ("samples_per_joule", .number(energy > 0 ? Double(samples) / energy : 0)),
            ("mean_power_w", .number(seconds > 0 ? energy / seconds : 0)),
            ("rank_energy_j", .array(rankJoules.map { .number($0) })),
            ("energy_source", .string(sourceLabel)),
            ("energy_source_by_node", .array(nodeSources.map { .string($0) })),
            ("accounting", .object([
                ("model", .string("E = E_compute + E_transfer + E_storage + E_aux; E_aux = (PUE - 1) * E_IT; E_transfer = network_joules_per_byte * bytes moved by all ranks")),
                ("e_compute_j", .number(totals.computeJ)),
                ("e_transfer_j", .number(totals.transferJ)),
                ("e_storage_j", .number(totals.storageJ)),
                ("e_aux_j", .number(totals.auxJ)),
                ("e_total_j", .number(totals.totalJ)),
                ("pue", .number(config.accounting.pue)),
                ("network_joules_per_byte", .number(config.accounting.networkJoulesPerByte)),
                ("carbon_g_per_kwh", .number(config.accounting.carbonGramsPerKWh)),
            ])),
            ("co2_g", .number(totals.co2Grams)),
            ("cost", totals.cost.map { .number($0) } ?? .null),
        ]
        if let estimate {
            pairs.append(("estimate", .object([
                ("formula", .string(estimate.formula)),
                ("watts_per_busy_core", .number(estimate.wattsPerBusyCore)),
                ("node_idle_watts", .number(estimate.nodeIdleWatts)),
                ("note", .string("no energy counter on this node: joules are modelled from CPU time, not measured")),
            ])))
        }
        pairs.append(("notes", .array(notes.map { .string($0) })))
        pairs.append(("config", config.json))
        return .object(pairs)
    }

    /// The totals as JSON, for checkpoints.
    var json: JSON {
        .object([("iterations", .int(iterations)), ("samples", .int(samples)), ("seconds", .number(seconds)),
                 ("train_seconds", .number(trainSeconds)),
                 ("phase_seconds", .array(phaseSeconds.map { .number($0) })),
                 ("phase_joules", .array(phaseJoules.map { .number($0) })),
                 ("rank_joules", .array(rankJoules.map { .number($0) })),
                 ("comm_bytes", .number(commBytes)), ("comm_seconds", .number(commSeconds)),
                 ("comm_exposed_seconds", .number(commExposedSeconds)), ("last_loss", .number(lastLoss))])
    }

    mutating func restore(_ j: JSON) throws {
        func num(_ k: String) throws -> Double {
            guard let v = j[k]?.double else { throw CheckpointError(description: "checkpoint totals lack \(k)") }
            return v
        }
        func nums(_ k: String, _ count: Int) throws -> [Double] {
            guard case let .array(items)? = j[k], items.count == count else {
                throw CheckpointError(description: "checkpoint totals: \(k) should hold \(count) numbers")
            }
            return items.map { $0.double ?? 0 }
        }
        iterations = Int(try num("iterations")); samples = Int(try num("samples"))
        seconds = try num("seconds"); trainSeconds = try num("train_seconds")
        phaseSeconds = try nums("phase_seconds", phaseSeconds.count)
        phaseJoules = try nums("phase_joules", phaseJoules.count)
        rankJoules = try nums("rank_joules", rankJoules.count)
        commBytes = try num("comm_bytes"); commSeconds = try num("comm_seconds")
        commExposedSeconds = try num("comm_exposed_seconds"); lastLoss = j["last_loss"]?.double ?? .nan
    }
}
