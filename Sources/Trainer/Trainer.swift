// The trainer: what every rank runs for `ringwatt train`. It checks that the ranks agree, sets up
// the run directory (or continues one from its checkpoint), and hands the workload to a
// TrainingRun (the plans made once, then the loop in TrainingLoop.swift).

import Accounting
import RunFiles
import Collectives
import Datasets
import Energy
import Foundation
import Model

public final class Trainer {
    public let config: TrainConfig
    public let comm: Communicator
    /// How rank 0 reports progress; other ranks stay silent.
    public var progress = ProgressOptions()
    /// Write DIR/timeline.json (Chrome trace events).
    public var timeline = false
    /// Told of every activity this rank starts (see `ActivityListener`); must be quick.
    public var activityListener: ActivityListener?
    /// Machine-wide sources to read instead of discovering RAPL, hwmon and NVML: a meter Ringwatt
    /// has no reader for (a PDU, a wall meter), or a test's counter. Read by each machine's first
    /// rank, as discovered ones are; `--power-source` is then not consulted.
    public var machineSources: [any PowerSource]?
    /// Why this run is resumed, as a launcher that restarted the job says it (which rank died, on
    /// which node): recorded in restarts.jsonl; with it, the gap before the resume is charged (the
    /// launcher held the machines). Without it, a resume is "by hand".
    public var restartReason: String?
    /// A resume may change the global batch (per-rank batch × ranks): the data continue from the
    /// samples the epoch had used and the schedule by samples seen (`Checkpoint.checkContinues`).
    public var elastic = false

    public init(config: TrainConfig, comm: Communicator) {
        self.config = config
        self.comm = comm
    }

    public func run() throws -> RunResult {
        try config.validate()
        // Before anything is allocated: do this machine's ranks fit in its memory together?
        try comm.collectively { try MemoryEstimate(config).check(ranksOnMachine: comm.localSize) }
        switch config.model {
        case .mlp:
            let (model, source) = try comm.collectively {
                try Workloads.classifier(config, ranks: comm.size, rank: comm.rank, gradientSlack: ControlSlot.floats)
            }
            return try train(model, source)
        case .gpt:
            let (model, source) = try comm.collectively {
                try Workloads.languageModel(config, ranks: comm.size, rank: comm.rank, gradientSlack: ControlSlot.floats)
            }
            return try train(model, source)
        }
    }

    /// Any workload: agreement, checkpoint, run directory, the run; nothing on disk may claim
    /// success after a failure.
    func train<M: TrainableModel, S: BatchSource>(_ model: M, _ source: S) throws -> RunResult where M.Batch == S.Batch {
        try checkAgreement(fingerprints: source.fingerprints)
        let checkpoint = try loadCheckpoint()
        let data = source.dataFingerprint  // every byte hashed, once: checked against a resume, recorded in checkpoints
        try checkpoint?.checkData(data, config: config)
        try checkpoint?.checkEpoch(batchesPerEpoch: source.batchesPerEpoch, ranks: comm.size, elastic: elastic)
        // Decided before anything is written: a plan that cannot be made leaves no run directory.
        let commPlan = try CommPlan(config: config, comm: comm, model: model)
        let powerPlan = try PowerPlan(config: config, comm: comm, machineSources: machineSources)
        let directory = try comm.onRoot {
            try RunDirectory(path: config.out, overwrite: config.overwrite,
                             resumingAt: checkpoint.map { ($0.header.step, $0.header.clockSeconds) })
        }
        defer { directory?.close() }
        do {
            return try TrainingRun(config: config, comm: comm, model: model, source: source, commPlan: commPlan,
                                   powerPlan: powerPlan, checkpoint: checkpoint, data: data, directory: directory,
                                   progress: progress, timeline: timeline, activityListener: activityListener,
                                   restartReason: restartReason).run()
        } catch {
            if let directory {
                let saved = FileManager.default.fileExists(atPath: directory.path + "/" + Checkpoint.fileName)
                let stub = FailedRun(error: "\(error)", checkpoint: saved ? directory.path + "/" + Checkpoint.fileName : "none")
                try? directory.writeAtomically(RunDirectory.summaryFile, try RunFileCoding.document(stub))
            }
            throw error
        }
    }

    /// Ranks must run with the same options and data: otherwise names the ranks and the options.
    func checkAgreement(fingerprints: [UInt64]) throws {
        let text = try RunFileCoding.line(config)
        let all = try comm.allGatherBytes(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
        let problems = (1..<comm.size).compactMap { r -> String? in
            guard all[r] != all[0] else { return nil }
            let differing = (try? RunFileCoding.decode(TrainConfig.self, all[r]))
                .map { (try? RunFileCoding.decode(TrainConfig.self, all[0]))?.differingKeys(from: $0) ?? [] } ?? []
            return "rank \(r) differs from rank 0 in \(differing.isEmpty ? ["configuration"] : differing)"
        }
        if !problems.isEmpty { throw RunError.configuration("ranks disagree on options: " + problems.joined(separator: "; ")) }
        let bad = try comm.differencesFromRoot(fingerprints).map(\.rank)
        if !bad.isEmpty {
            throw RunError.configuration("ranks \(bad.map(String.init).joined(separator: ", ")) loaded different data from rank 0 (check --data on every node)")
        }
    }

    /// With --resume: rank 0 reads the checkpoint (refusing a run that already completed, before
    /// any file is touched), every rank decodes the same bytes and checks it continues this run.
    func loadCheckpoint() throws -> Checkpoint? {
        guard let resume = config.resume else { return nil }
        let bytes = try comm.broadcast(try comm.onRoot {
            if case let .figures(summary)? = try? SummaryFile.read(directory: resume), summary.status == .complete {
                throw RunError.checkpoint("--resume \(resume): that run already completed (\(summary.iterations) iterations); "
                                              + "nothing to resume (to train further, start a new run with another --out)")
            }
            return try Checkpoint.readNewestUsable(directory: resume)
        } ?? [])
        let checkpoint = try Checkpoint.decode(bytes, path: resume + "/" + Checkpoint.fileName)  // the one rank 0 chose
        try checkpoint.checkContinues(config, ranks: comm.size, elastic: elastic)
        return checkpoint
    }
}
