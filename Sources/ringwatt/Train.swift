import ArgumentParser
import Collectives
import Datasets
import Energy
import Support
import Foundation
import Logging
import MPI
import RunFiles
import Trainer

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model (the MLP, or the GPT) data-parallel on every rank of the MPI job.")

    @OptionGroup(title: "Model and optimisation") var model: ModelOptions
    @OptionGroup(title: "Data and output") var dataOptions: DataOptions
    @OptionGroup(title: "Communication") var commOptions: GradientOptions
    @OptionGroup(title: "Energy") var energy: EnergyOptions
    @OptionGroup(title: "Reliability") var reliability: ReliabilityOptions

    func makeConfig() throws -> TrainConfig {
        var c = TrainConfig.defaults(for: model.model)
        try model.apply(to: &c)
        if let data = dataOptions.data, model.model == .gpt, data.hasPrefix("synthetic") {
            throw ValidationError("--data \(data) generates labelled images for the MLP; --model gpt reads text: --data FILE|DIR")
        }
        if let data = dataOptions.data {
            c.data = model.model == .gpt && !data.hasPrefix("text:") ? .text(data) : try DataSpec.parse(data)
        }
        c.out = dataOptions.out ?? c.out
        c.overwrite = dataOptions.overwrite
        c.flushEvery = dataOptions.flushEvery
        c.checkpointEvery = reliability.checkpointEvery
        c.resume = reliability.resume
        if let resume = reliability.resume {
            // --resume continues its directory in place: an --out naming another one would be ignored.
            if let out = dataOptions.out, URL(fileURLWithPath: out).standardized.path != URL(fileURLWithPath: resume).standardized.path {
                throw ValidationError("--out \(out) and --resume \(resume) name different directories; --resume continues \(resume) in place (drop --out)")
            }
            c.out = resume
        }
        c.verifyEvery = reliability.verifyEvery
        c.onNonfinite = reliability.onNonfinite
        c.stallSeconds = reliability.stallSeconds
        c.algorithm = commOptions.algorithm
        c.segmentBytes = commOptions.allReduce.segmentBytes
        c.smallMessageBytes = commOptions.allReduce.smallMessageBytes
        c.largeMessageBytes = commOptions.allReduce.largeMessageBytes
        c.bucketBytes = commOptions.bucketMb.map { Int(($0 * 1e6).rounded()) }
        c.overlap = commOptions.overlap.value
        c.wire = commOptions.allReduce.wireDtype
        c.powerSource = energy.powerSource
        c.sampleHz = energy.sampleHz
        c.idleSeconds = energy.idleSeconds
        c.includeDRAM = energy.roots.dram
        c.estimate = energy.estimate
        c.accounting.pue = energy.pue
        c.accounting.networkJoulesPerByte = energy.networkJoulesPerByte
        c.accounting.carbonGramsPerKWh = energy.carbonGPerKwh
        c.accounting.pricePerKWh = energy.pricePerKwh
        c.energyBudgetJoules = energy.energyBudgetJ
        c.powercapRoot = energy.roots.powercapRoot
        c.hwmonRoot = energy.roots.hwmonRoot
        return c
    }

    func validate() throws {
        do { try makeConfig().validate() } catch { throw ValidationError("\(error)") }
        guard reliability.restartReason == nil || reliability.resume != nil else {
            throw ValidationError("--restart-reason goes with --resume (it says why a run is resumed)")
        }
        guard !reliability.elastic || reliability.resume != nil else {
            throw ValidationError("--elastic goes with --resume (it lets a resume change the global batch)")
        }
        guard dataOptions.logEvery > 0 else { throw ValidationError("--log-every must be positive") }
        guard !(dataOptions.quiet && dataOptions.verbose) else { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    func run() throws {
        let config = try makeConfig()
        installStopSignalHandlers()
        // Notes and warnings go through swift-log to stderr; progress and results to stdout.
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        // The communication thread and the compute thread take turns in MPI: SERIALIZED is enough.
        try withMPI(threadLevel: config.overlap == false ? .funneled : .serialized, waiting: commOptions.allReduce) { comm in
            let trainer = Trainer(config: config, comm: comm)
            trainer.timeline = dataOptions.timeline
            trainer.restartReason = reliability.restartReason
            trainer.elastic = reliability.elastic
            trainer.progress = ProgressOptions(logEvery: dataOptions.logEvery, verbose: dataOptions.verbose)
            if dataOptions.quiet { trainer.progress.mode = .quiet }
            let result = try trainer.run()
            if comm.isRoot {
                if dataOptions.quiet {
                    let s = result.summary
                    let metrics = (s.evaluations.last?.metrics ?? []).map(\.display).joined(separator: ", ")
                    print(String(format: "%@: %.2f s, %@, %.1f J (%@) — %@", s.status.rawValue, s.seconds, metrics,
                                 s.energyJ, s.energySource, result.outDirectory))
                } else {
                    print(SummaryTable.render(result.summary, directory: result.outDirectory))
                }
            }
            // A budget stop is a normal end; an interrupted or failed run is not.
            return result.status.isSuccess ? 0 : 3
        }
    }
}

/// Runs `body` as an MPI job (MPIJob: the error policy) and exits with its status.
func withMPI(threadLevel: MPITransport.ThreadLevel = .serialized, waiting: AllReduceOptions? = nil,
             _ body: (Communicator) throws -> Int32) throws {
    let status = MPIJob.run(threadLevel: threadLevel, waitMicroseconds: waiting?.commWaitUs ?? 0,
                            spin: waiting?.commSpin ?? .microseconds(0), machineKey: MachineIdentity.current().key, body)
    if status != 0 { throw ExitCode(status) }
}
