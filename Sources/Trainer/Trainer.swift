// The training loop: every rank runs this, on its shard of each epoch.
//
//   next batch → forward/backward (cblas_sgemm) → ring all-reduce of the flat gradient
//   → optimizer step → record phase edges; every --flush-every iterations, energy windows are
//   closed from the power sampler's curve and all records are gathered to rank 0, which writes them.

import Collectives
import Datasets
import Energy
import Foundation
import Model
import Support

/// True when no element is NaN or ±infinity: x·0 is NaN exactly for those, and NaN propagates
/// through the sum. Four accumulators so the loop vectorises.
@inline(__always)
func allFinite(_ p: UnsafePointer<Float>, _ n: Int) -> Bool {
    var a: Float = 0, b: Float = 0, c: Float = 0, d: Float = 0
    var i = 0
    while i + 4 <= n {
        a += p[i] * 0; b += p[i + 1] * 0; c += p[i + 2] * 0; d += p[i + 3] * 0
        i += 4
    }
    while i < n { a += p[i] * 0; i += 1 }
    return (a + b + c + d) == 0
}

/// What a finished (or stopped) run reports back to the command line.
public struct RunResult: Sendable {
    public var summary: JSON
    public var status: String
    public var outDirectory: String
}

/// A failure every rank detects together (divergence, non-finite values): no rank is left waiting.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
}

public final class Trainer {
    public let config: TrainConfig
    public let comm: Communicator
    /// How rank 0 reports progress; other ranks stay silent.
    public var progress = ProgressOptions()
    /// Write DIR/timeline.json (Chrome trace events).
    public var timeline = false

    public init(config: TrainConfig, comm: Communicator) {
        self.config = config
        self.comm = comm
    }

    // MARK: Set-up helpers

    /// Runs `body` on rank 0 only and tells every rank whether it failed, so a failure there
    /// (a directory that cannot be written…) stops all ranks instead of leaving them waiting.
    func onRootCollectively<T>(_ body: () throws -> T) throws -> T? {
        var value: T? = nil
        var message = ""
        if comm.isRoot {
            do { value = try body() } catch { message = "\(error)" }
        }
        let shared = String(decoding: try comm.broadcast(Array(message.utf8)), as: UTF8.self)
        if !shared.isEmpty { throw ConfigError.invalid(shared) }
        return value
    }

    /// Ranks must run with the same options and data: otherwise names the ranks and the options.
    func checkAgreement(_ data: TrainingData) throws {
        let text = config.json.serialized()
        let all = try comm.allGatherBytes(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
        var problems: [String] = []
        if let mine = try? JSON.parse(all[0]), case let .object(rootPairs) = mine {
            for r in 1..<comm.size where all[r] != all[0] {
                let theirs = (try? JSON.parse(all[r]))
                let differing = rootPairs.compactMap { key, value in theirs?[key]?.closelyEquals(value) == true ? nil : key }
                problems.append("rank \(r) differs from rank 0 in \(differing.isEmpty ? ["configuration"] : differing)")
            }
        }
        if !problems.isEmpty { throw ConfigError.invalid("ranks disagree on options: " + problems.joined(separator: "; ")) }
        let prints = try comm.allGather([data.train.fingerprint, data.test.fingerprint])
        let bad = (1..<comm.size).filter { prints[2 * $0] != prints[0] || prints[2 * $0 + 1] != prints[1] }
        if !bad.isEmpty {
            throw ConfigError.invalid("ranks \(bad.map(String.init).joined(separator: ", ")) loaded different data from rank 0 (check --data on every node)")
        }
    }

    // MARK: The run

    public func run() throws -> RunResult {
        try config.validate()
        let data = try TrainingData.load(config.data, seed: config.seed)
        guard config.layers.first == data.train.features else {
            throw ConfigError.invalid("--layers starts with \(config.layers[0]) inputs but the data has \(data.train.features) features per sample")
        }
        guard config.layers.last == data.train.classes else {
            throw ConfigError.invalid("--layers ends with \(config.layers.last!) outputs but the data has \(data.train.classes) classes")
        }
        try checkAgreement(data)

        // Resuming: rank 0 reads the checkpoint, every rank decodes the same bytes.
        var checkpoint: Checkpoint? = nil
        if let resume = config.resume {
            let bytes = try comm.broadcast(try onRootCollectively { try Checkpoint.readBytes(directory: resume) } ?? [])
            let c = try Checkpoint.decode(bytes, path: resume + "/" + Checkpoint.fileName)
            try Self.checkResumable(c, config: config, ranks: comm.size)
            checkpoint = c
        }
        let resumeAt = checkpoint.map { (iterations: Int($0.header["step"]?.double ?? 0), clock: $0.header["clock_s"]?.double ?? 0) }
        let directory = try onRootCollectively {
            try RunDirectory(path: config.out, overwrite: config.overwrite, resumingAt: resumeAt)
        }
        defer { directory?.close() }
        do {
            return try train(data: data, directory: directory, checkpoint: checkpoint)
        } catch {
            // Nothing on disk may claim success after a failure.
            if let directory {
                try? directory.writeAtomically(RunDirectory.summaryFile, JSON.object([
                    ("status", .string("failed")), ("error", .string("\(error)")),
                    ("checkpoint", .string(FileManager.default.fileExists(atPath: directory.path + "/" + Checkpoint.fileName)
                        ? directory.path + "/" + Checkpoint.fileName : "none")),
                ]).serialized(pretty: true) + "\n")
            }
            throw error
        }
    }

    /// A checkpoint continues a run only with the same rank count and the same maths.
    static func checkResumable(_ c: Checkpoint, config: TrainConfig, ranks: Int) throws {
        let saved = Int(c.header["ranks"]?.double ?? -1)
        guard saved == ranks else {
            throw CheckpointError(description: "checkpoint was written by \(saved) ranks; resume with mpirun -np \(saved) "
                                  + "(a different rank count would change the data order and the sums)")
        }
        guard case let .object(savedPairs)? = c.header["config"], case let .object(nowPairs) = config.json else {
            throw CheckpointError(description: "checkpoint lacks its configuration")
        }
        let savedConfig = Dictionary(savedPairs, uniquingKeysWith: { a, _ in a })
        let differing = nowPairs.filter { key, value in
            !TrainConfig.resumableKeys.contains(key) && !(savedConfig[key]?.closelyEquals(value) ?? true)
        }.map(\.0)
        guard differing.isEmpty else {
            throw CheckpointError(description: "cannot resume: options differ from the checkpointed run: \(differing.joined(separator: ", "))")
        }
    }

    func train(data: TrainingData, directory: RunDirectory?, checkpoint: Checkpoint?) throws -> RunResult {
        let printer = ProgressPrinter(options: progress, isRoot: comm.isRoot)
        func report(_ text: String) { printer.line(text) }

        // Model, optimizer, schedule: identical on every rank (same seed).
        // One control slot travels after the gradients through the all-reduce: a stop request
        // (signal) from any rank reaches every rank in the same step, at no extra collective.
        let model = MLP(widths: config.layers, seed: config.seed, controlSlots: 1)
        let control = model.gradients.pointer + model.parameterCount
        let optimizer = Optimizer(settings: OptimizerSettings(kind: config.optimizer, momentum: config.momentum,
                                                              weightDecay: config.weightDecay),
                                  parameterCount: model.parameterCount)
        let sampler = DistributedSampler(count: data.train.count, ranks: comm.size, rank: comm.rank, seed: config.seed)
        guard sampler.samplesPerRank > 0 else {
            throw ConfigError.invalid("\(data.train.count) training samples cannot be shared by \(comm.size) ranks")
        }
        let batchesPerEpoch = sampler.batchesPerEpoch(batchSize: config.batchSize)
        let totalSteps = config.steps ?? config.epochs * batchesPerEpoch
        let epochs = config.steps.map { ($0 + batchesPerEpoch - 1) / batchesPerEpoch } ?? config.epochs
        let schedule = LearningRateSchedule(kind: config.schedule, baseRate: config.learningRate,
                                            warmupSteps: config.warmupSteps, totalSteps: totalSteps)
        comm.allReduce.algorithm = config.algorithm
        comm.allReduce.segmentBytes = config.segmentBytes
        comm.allReduce.smallMessageBytes = config.smallMessageBytes
        comm.allReduce.largeMessageBytes = config.largeMessageBytes
        comm.allReduce.wire = config.wire
        // The gradient layout follows from the agreed options; check its length once here, so
        // the per-bucket calls of every step need no extra collective.
        try comm.allReduce.checkLengthsAgree(model.gradients.count, operation: "gradient all-reduce")
        comm.allReduce.verifyLengths = false
        // Overlap pays where the all-reduce leaves the CPU idle or has a core of its own: across
        // nodes (the network, not the CPU, is the bottleneck) with a core per rank, or on a node
        // with a spare core per rank for the communication thread. On a node whose cores are all
        // busy computing, a shared-memory all-reduce is CPU work too: overlapping it only moves
        // time from communication into compute (measured in README), so auto turns overlap off
        // and sends one bucket. Decided collectively, so every rank builds the same buckets.
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let flags = try comm.max([comm.localSize > cores ? 1 : 0, comm.localSize * 2 > cores ? 1 : 0])
        let crowded = flags[0] > 0, noSpareCore = flags[1] > 0
        let overlapPays = comm.size > 1 && !crowded && (comm.nodeCount > 1 || !noSpareCore)
        let overlap = (config.overlap ?? overlapPays) && comm.size > 1  // one rank: nothing to overlap
        // Buckets do not depend on the overlap setting itself, so --overlap on and off give the
        // same bits: 100 kB when overlap pays or was chosen either way, else one bucket.
        let bucketBytes = config.bucketBytes ?? (overlapPays || config.overlap != nil ? 100_000 : Int.max / 8)
        // Weight gradients in row blocks of about a bucket, so the first layer (most of the
        // parameters) is not one bucket that waits for the end of backward. Same bits either way.
        model.gradientBlockBytes = bucketBytes < model.gradients.count * 4 ? bucketBytes : 0
        let buckets = GradientBuckets(boundaries: model.gradientBoundaries(), buffer: model.gradients.buffer,
                                      bucketBytes: bucketBytes, overlap: overlap, allReduce: comm.allReduce)
        let commNote = comm.size > 1 && !overlapPays && config.overlap == nil && config.bucketBytes == nil
            ? ["\(comm.localSize) rank(s) on a node with \(cores) core(s)\(comm.nodeCount > 1 ? "" : ", one node"): "
               + "one gradient bucket, no overlap (auto; --overlap on to overlap)"] : []
        defer { buckets.shutdown() }

        // Power: each rank its sources; node-wide counters on the node's first rank only.
        let selection = SourceSelection.choose(
            config.powerSource,
            roots: SourceRoots(powercap: config.powercapRoot, hwmon: config.hwmonRoot),
            includeDRAM: config.includeDRAM, estimate: config.estimate,
            ranksOnNode: comm.localSize, isNodeLeader: comm.localRank == 0)
        let topology = try comm.allGather([Int64(comm.node), Int64(comm.localRank), Int64(comm.localSize)])
        let nodeOf = (0..<comm.size).map { Int(topology[3 * $0]) }
        let localSizeOf = (0..<comm.size).map { Int(topology[3 * $0 + 2]) }
        let labels = try comm.allGatherBytes(Array(selection.label.utf8)).map { String(decoding: $0, as: UTF8.self) }
        var nodeSources = [String](repeating: "none", count: comm.nodeCount)
        for r in 0..<comm.size { nodeSources[nodeOf[r]] = labels[r] }
        // "estimate", or the distinct sources of the nodes joined by "|": the label every record carries.
        let sourceLabel = Array(Set(nodeSources)).sorted().joined(separator: "|")
        let sourceNames = selection.sources.map { "\($0.kind.rawValue),\($0.domain)" }
        let selectionKinds = selection.kinds, selectionNotes = selection.notes
        let allSourceNames = try comm.allGatherBytes(Array(sourceNames.joined(separator: "\n").utf8))
            .map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) }
        if comm.isRoot {
            for note in Set(selectionNotes).sorted() { printer.log.warning("power: \(note)") }
            report("ringwatt: \(comm.size) ranks on \(comm.nodeCount) node(s); model \(config.layers.map(String.init).joined(separator: "-")) "
                   + "(\(model.parameterCount) parameters); \(batchesPerEpoch) steps/epoch of \(config.batchSize)×\(comm.size); "
                   + "energy: \(nodeSources.enumerated().map { "node \($0.offset) \($0.element)" }.joined(separator: ", "))")
        }

        try comm.barrier()
        // t = 0 on every rank, to within the barrier's skew; a resumed run continues the clock.
        let clockEpoch = monotonicSeconds() - (checkpoint?.header["clock_s"]?.double ?? 0)
        buckets.clockEpoch = clockEpoch
        let power = PowerSampler(sources: selection.sources, hz: config.sampleHz, epoch: clockEpoch)
        power.start()
        defer { power.stop() }
        func now() -> Double { monotonicSeconds() - clockEpoch }

        // Buffers reused every step.
        let converter = BatchConverter()
        let x = FloatBuffer(count: config.batchSize * data.train.features)
        var y = [UInt8](repeating: 0, count: config.batchSize)
        let evalX = FloatBuffer(count: config.evalBatch * data.test.features)
        var evalY = [UInt8](repeating: 0, count: config.evalBatch)

        var pending: [IterationRecord] = []
        var trace = TimelineRecorder(enabled: timeline)
        var totals = RunTotals(ranks: comm.size)
        totals.reducedBytes = model.parameterCount * 4
        var lastPowerSample: PowerSample? = nil
        var rootWriteError: String? = nil
        var stopReason: String? = nil
        var accuracies: [Double] = []
        var step = 0
        var skippedSteps = 0
        if let checkpoint {
            guard checkpoint.parameters.count == model.parameterCount,
                  checkpoint.firstMoment.count == optimizer.firstMoment.count,
                  checkpoint.secondMoment.count == optimizer.secondMoment.count else {
                throw CheckpointError(description: "checkpoint's parameter layout does not match --layers/--optimizer")
            }
            model.parameters.copy(from: checkpoint.parameters)
            optimizer.firstMoment.copy(from: checkpoint.firstMoment)
            optimizer.secondMoment.copy(from: checkpoint.secondMoment)
            optimizer.restore(steps: Int(checkpoint.header["optimizer_steps"]?.double ?? 0))
            step = Int(checkpoint.header["step"]?.double ?? 0)
            skippedSteps = Int(checkpoint.header["skipped_steps"]?.double ?? 0)
            if case let .array(a)? = checkpoint.header["accuracies"] { accuracies = a.compactMap(\.double) }
            if let t = checkpoint.header["totals"] { try totals.restore(t) }
            if comm.isRoot { printer.log.notice("resuming \(config.out) at iteration \(step) (epoch \(step / batchesPerEpoch + 1))") }
        }
        var previousEnd = now()
        let loopStart = previousEnd
        let firstStep = step
        var lastCheckpoint: (start: Double, seconds: Double)? = nil
        let inMPI = comm.transport is MPITransport
        let watchdog = Watchdog(stallSeconds: config.stallSeconds, rank: comm.rank) { message in
            FileHandle.standardError.write(Data("ringwatt: \(message)\n".utf8))
            if inMPI { MPITransport.abortWorld(code: 4) }
        }
        defer { watchdog.stop() }

        /// Rank 0 writes the checkpoint (parameters, optimizer state, position, clock, totals).
        func saveCheckpoint() {
            let start = now()
            if comm.isRoot, let directory, rootWriteError == nil {
                let header = JSON.object([
                    ("format", .string("ringwatt-checkpoint")), ("ranks", .int(comm.size)), ("step", .int(step)),
                    ("clock_s", .number(now())), ("optimizer_steps", .int(optimizer.steps)),
                    ("skipped_steps", .int(skippedSteps)), ("accuracies", .array(accuracies.map { .number($0) })),
                    ("totals", totals.json), ("config", config.json),
                    ("parameter_count", .int(model.parameterCount)), ("first_moment_count", .int(optimizer.firstMoment.count)),
                    ("second_moment_count", .int(optimizer.secondMoment.count)),
                ])
                do {
                    try Checkpoint(header: header, parameters: model.parameters.array, firstMoment: optimizer.firstMoment.array,
                                   secondMoment: optimizer.secondMoment.array).write(directory: directory.path)
                } catch {
                    rootWriteError = "\(error)"
                }
            }
            lastCheckpoint = (start, now() - start)
        }

        /// Closes energy windows, gathers every rank's records, and (rank 0) writes them.
        /// Returns the stop code every rank agrees on (0: carry on).
        func flush() throws -> Int {
            power.sampleNow()
            for i in pending.indices {
                for phase in Phase.allCases where pending[i].phaseSeconds[phase.rawValue] > 0 && phase != .idle {
                    let t0 = pending[i].phaseStart[phase.rawValue]
                    let split = power.joulesByScope(from: t0, to: t0 + pending[i].phaseSeconds[phase.rawValue])
                    pending[i].processJoules[phase.rawValue] = split.process
                    pending[i].nodeJoules[phase.rawValue] = split.node
                }
                // Idle is the gap before the data phase, less a checkpoint written inside it, so the
                // phases tile the iteration's window exactly.
                let gap = power.joulesByScope(from: pending[i].start, to: pending[i].phaseStart[Phase.data.rawValue])
                let c = Phase.checkpoint.rawValue, idle = Phase.idle.rawValue
                pending[i].processJoules[idle] = gap.process - pending[i].processJoules[c]
                pending[i].nodeJoules[idle] = gap.node - pending[i].nodeJoules[c]
            }
            if rootWriteError != nil, let last = pending.indices.last { pending[last].status = 1 }
            let gathered = try comm.allGather(pending.flatMap(\.flat))
            let count = pending.count
            let width = IterationRecord.width
            let byRank: [[IterationRecord]] = (0..<comm.size).map { r in
                (0..<count).map { IterationRecord(flat: gathered[((r * count + $0) * width)..<((r * count + $0 + 1) * width)]) }
            }
            // Power samples since the last flush: [t, watts per source…] rows.
            let drained = power.drain(before: pending.last?.end ?? now())
            var rows: [Double] = []
            for sample in drained {
                if let previous = lastPowerSample, sample.t > previous.t {
                    trace.add(.power, 0, start: sample.t, duration: (sample.total - previous.total) / (sample.t - previous.t))
                    rows.append(sample.t)
                    for j in sample.joules.indices { rows.append((sample.joules[j] - previous.joules[j]) / (sample.t - previous.t)) }
                }
                lastPowerSample = sample
            }
            let powerRows = try comm.allGatherVariable(rows)
            var lines: [String] = []
            for k in 0..<count {
                let records = (0..<comm.size).map { byRank[$0][k] }
                let line = totals.add(records, nodeOf: nodeOf, localSizeOf: localSizeOf,
                                      source: sourceLabel,
                                      learningRate: Double(schedule.rate(at: records[0].iter)))
                lines.append(line)
            }
            if comm.isRoot, let directory, rootWriteError == nil {
                do {
                    try directory.appendIterations(lines)
                    var csv = ""
                    for r in 0..<comm.size {
                        let names = allSourceNames[r]
                        guard !names.isEmpty else { continue }
                        let stride = 1 + names.count
                        var i = 0
                        while i + stride <= powerRows[r].count {
                            let t = powerRows[r][i]
                            for (j, name) in names.enumerated() {
                                csv += "\(r),\(nodeOf[r]),\(String(format: "%.4f", t)),\(String(format: "%.3f", powerRows[r][i + 1 + j])),\(name)\n"
                            }
                            i += stride
                        }
                    }
                    try directory.appendPower(csv)
                } catch {
                    rootWriteError = "\(error)"
                }
            }
            pending.removeAll(keepingCapacity: true)
            var code = Int(byRank.flatMap { $0.map(\.status) }.max() ?? 0)
            if code == 0, let budget = config.energyBudgetJoules, totals.energyJoules >= budget { code = 3 }
            return code
        }

        func evaluate() throws -> Double {
            var correct = 0, seen = 0
            var start = comm.rank
            var indices: [Int32] = []
            indices.reserveCapacity(config.evalBatch)
            while start < data.test.count {
                indices.removeAll(keepingCapacity: true)
                var i = start
                while i < data.test.count && indices.count < config.evalBatch { indices.append(Int32(i)); i += comm.size }
                evalY.withUnsafeMutableBufferPointer { yb in
                    converter.fill(evalX.pointer, yb.baseAddress!, from: data.test, indices: indices[...])
                }
                correct += evalY.withUnsafeBufferPointer { model.countCorrect(evalX.pointer, labels: $0.baseAddress!, batch: indices.count) }
                seen += indices.count
                start = i
            }
            let sums = try comm.sum([Double(correct), Double(seen)])
            return sums[0] / sums[1]
        }

        // Fault injection for the divergence test only: RINGWATT_FAULT_PERTURB=RANK:ITERATION makes
        // that rank nudge one weight of layer 1 after that iteration's update.
        let perturb = ProcessInfo.processInfo.environment["RINGWATT_FAULT_PERTURB"]?.split(separator: ":").compactMap { Int($0) }
        let startEpoch = step / batchesPerEpoch
        training: for epoch in startEpoch..<max(startEpoch, epochs) {
            let order = sampler.indices(epoch: epoch)
            for batch in (epoch == startEpoch ? step % batchesPerEpoch : 0)..<batchesPerEpoch {
                guard step < totalSteps else { break training }
                var record = IterationRecord()
                record.iter = step
                record.epoch = epoch
                record.start = previousEnd
                var phaseStart = now()
                record.phaseStart[Phase.idle.rawValue] = previousEnd
                record.phaseSeconds[Phase.idle.rawValue] = phaseStart - previousEnd
                if let c = lastCheckpoint {  // written in this gap, after the previous iteration's flush
                    record.phaseStart[Phase.checkpoint.rawValue] = c.start
                    record.phaseSeconds[Phase.checkpoint.rawValue] = c.seconds
                    record.phaseSeconds[Phase.idle.rawValue] -= c.seconds
                    lastCheckpoint = nil
                }
                func close(_ phase: Phase, at t: Double = now()) {
                    record.phaseStart[phase.rawValue] = phaseStart
                    record.phaseSeconds[phase.rawValue] = t - phaseStart
                    phaseStart = t
                    watchdog.beat(phase.next, iteration: step)
                }

                let lo = batch * config.batchSize
                let hi = min(lo + config.batchSize, order.count)
                let B = hi - lo
                y.withUnsafeMutableBufferPointer { converter.fill(x.pointer, $0.baseAddress!, from: data.train, indices: order[lo..<hi]) }
                close(.data)

                let before = comm.allReduce.stats
                control[0] = stopRequested.load(ordering: .relaxed) != 0 ? 1 : 0
                var lastMark = phaseStart
                // Backward ends with the hand-over of its last piece (offset 0), stamped before the
                // hand-over: the woken communication thread may take this core at once, and its
                // all-reduce must count as communication, not as compute.
                var backwardEnd = phaseStart
                let loss = y.withUnsafeBufferPointer {
                    model.forwardBackward(x.pointer, labels: $0.baseAddress!, batch: B, forwardDone: {
                        guard trace.enabled else { return }
                        let t = now(); trace.add(.forward, 0, start: lastMark, duration: t - lastMark); lastMark = t
                    }, gradientsFinal: { offset in
                        if offset == 0 { backwardEnd = now() }
                        buckets.gradientsFinal(from: offset)
                    }, layerDone: { layer in
                        guard trace.enabled else { return }
                        let t = layer == 0 ? backwardEnd : now()
                        trace.add(.backward, layer, start: lastMark, duration: t - lastMark); lastMark = t
                    })
                }
                close(.compute, at: backwardEnd)

                try buckets.finishStep()  // with overlap: only the part not hidden behind backward
                close(.comm)
                // Every rank holds the same averaged bits, so these decisions need no communication.
                let stopAsked = control[0] > 0
                let finite = allFinite(model.gradients.pointer, model.parameterCount)
                if finite {
                    optimizer.step(parameters: model.parameters, gradients: model.gradients,
                                   learningRate: schedule.rate(at: step))
                } else if config.onNonfinite == .skip {
                    skippedSteps += 1
                } else {
                    let lossFinite = try comm.allGather([loss.isFinite ? Int64(1) : 0])
                    let ranks = lossFinite.indices.filter { lossFinite[$0] == 0 }
                    let layers = model.layers.indices.filter { !allFinite(model.gradients.pointer + model.layers[$0].weightOffset,
                                                                           model.layers[$0].end - model.layers[$0].weightOffset) }
                    throw TrainingError(description: "non-finite values at iteration \(step): loss on rank(s) "
                        + "\(ranks.isEmpty ? "none" : ranks.map(String.init).joined(separator: ", ")), averaged gradient of layer(s) "
                        + "\(layers.map(String.init).joined(separator: ", ")) (--on-nonfinite stop; the last checkpoint is kept; "
                        + "try a lower --lr or --on-nonfinite skip)")
                }
                if let perturb, perturb.count == 2, perturb[0] == comm.rank, perturb[1] == step, model.layers.count > 1 {
                    model.parameters.pointer[model.layers[1].weightOffset] += 1e-3
                }
                close(.optimizer)

                record.loss = Double(loss)
                record.samples = B
                record.commBytes = comm.allReduce.stats.bytesSent - before.bytesSent
                record.commSeconds = buckets.timings.map { $0.end - $0.start }.reduce(0, +)
                step += 1
                let epochEnds = batch == batchesPerEpoch - 1 || step == totalSteps
                if epochEnds {
                    accuracies.append(try evaluate())
                    close(.eval)
                }
                record.end = phaseStart
                previousEnd = phaseStart
                pending.append(record)
                if trace.enabled {
                    for (i, timing) in buckets.timings.enumerated() {
                        trace.add(.bucket, i, start: timing.start, duration: timing.end - timing.start)
                    }
                    let c = Phase.checkpoint.rawValue
                    for phase in Phase.allCases where record.phaseSeconds[phase.rawValue] > 0 {
                        if phase == .idle && record.phaseSeconds[c] > 0 {  // the checkpoint sits inside the idle gap
                            let cs = record.phaseStart[c], ce = cs + record.phaseSeconds[c]
                            trace.add(.phase, phase.rawValue, start: record.start, duration: cs - record.start)
                            trace.add(.phase, phase.rawValue, start: ce, duration: record.phaseStart[Phase.data.rawValue] - ce)
                        } else {
                            trace.add(.phase, phase.rawValue, start: record.phaseStart[phase.rawValue], duration: record.phaseSeconds[phase.rawValue])
                        }
                    }
                    trace.add(.bytes, 0, start: record.end, duration: Double(comm.allReduce.stats.bytesSent))
                }
                func figures() -> ProgressFigures {
                    ProgressFigures(epoch: epoch + 1, epochs: epochs, step: step, totalSteps: totalSteps,
                                    loss: totals.lastLoss.isNaN ? Double(loss) : totals.lastLoss,
                                    samplesPerSecond: totals.samplesPerSecond,
                                    watts: totals.seconds > 0 ? totals.energyJoules / totals.seconds : 0,
                                    joules: totals.energyJoules, elapsed: now() - loopStart, startStep: firstStep,
                                    source: sourceLabel)
                }
                printer.iteration(figures(), now: previousEnd)

                if config.verifyEvery > 0 && step % config.verifyEvery == 0 { try verifyReplicas(model, iteration: step) }
                let checkpointNow = epochEnds || (config.checkpointEvery.map { step % $0 == 0 } ?? false)
                let logLineDue = step % progress.logEvery == 0  // the same on every rank
                if pending.count >= config.flushEvery || epochEnds || checkpointNow || stopAsked || logLineDue {
                    let stepBeforeFlush = totals.iterations
                    var code = try flush()
                    printer.flushed(figures(), previousStep: stepBeforeFlush)
                    if stopAsked && code == 0 { code = 2 }
                    if checkpointNow || code == 2 || code == 3 { saveCheckpoint() }
                    if comm.isRoot && epochEnds {
                        report(String(format: "epoch %d/%d  step %d/%d  loss %.4f  test accuracy %.2f %%  %.1f s  %.0f samples/s  %.1f J (%@)",
                                      epoch + 1, epochs, step, totalSteps, totals.lastLoss, 100 * accuracies.last!,
                                      totals.seconds, totals.samplesPerSecond, totals.energyJoules,
                                      sourceLabel))
                    }
                    if code != 0 {
                        stopReason = code == 3 ? "energy_budget" : code == 2 ? "interrupted" : "failed"
                        break training
                    }
                }
            }
        }
        if !pending.isEmpty { _ = try flush() }
        let loopSeconds = now() - loopStart
        power.stop()

        if timeline {
            let all = try comm.allGatherVariable(trace.flat)
            if comm.isRoot, let directory {
                do {
                    try directory.writeAtomically("timeline.json", TimelineRecorder.render(ranks: all, nodeOf: nodeOf,
                                                                                           phaseNames: Phase.allCases.map(\.name)))
                } catch { rootWriteError = "\(error)" }
            }
        }
        printer.clearLive()

        // Replicas must be bit-identical: every rank applied the same update to the same gradient.
        let checksum = model.parameterChecksum()
        try comm.agree(on: checksum, what: "final parameters (replicas diverged)")
        let rss = try comm.max([Double(peakRSSBytes())])[0]
        let failures = power.failures.enumerated().filter { $0.element.count > 0 }
            .map { "\(sourceNames[$0.offset]): \($0.element.count) failed reads (\($0.element.message ?? ""))" }
        let allFailures = try comm.allGatherBytes(Array(failures.joined(separator: "\n").utf8))
            .map { String(decoding: $0, as: UTF8.self) }.filter { !$0.isEmpty }

        let status = rootWriteError != nil ? "failed" : (stopReason ?? "complete")
        if stopReason != nil, comm.isRoot {
            printer.clearLive()
            printer.log.notice("stopped (\(stopReason!)) at iteration \(step); resume with --resume \(config.out)")
        }
        let summary = totals.summary(
            status: status, config: config, nodes: comm.nodeCount, epochs: accuracies.count,
            wallSeconds: loopSeconds, accuracies: accuracies, peakRSS: rss,
            nodeSources: nodeSources, sourceLabel: sourceLabel, estimate: selectionKinds.contains(.estimate) || nodeSources.contains { $0.contains("estimate") } ? config.estimate : nil,
            parameterChecksum: checksum, notes: Array(Set(selectionNotes)).sorted() + allFailures + commNote, overlap: overlap,
            algorithms: buckets.ranges.map { comm.allReduce.resolvedAlgorithm(count: $0.count).rawValue },
            buckets: buckets.ranges.map { $0.count * 4 },
            parameterCount: model.parameterCount, skippedSteps: skippedSteps)
        if comm.isRoot, let directory {
            do {
                if let rootWriteError { throw RunDirectoryError(description: rootWriteError) }
                try directory.writeAtomically(RunDirectory.summaryFile, summary.serialized(pretty: true) + "\n")
                try writeWeights(model, to: directory.path + "/weights.bin")
            } catch {
                rootWriteError = "\(error)"
                try? directory.writeAtomically(RunDirectory.summaryFile,
                                               JSON.object([("status", .string("failed")), ("error", .string("\(error)"))]).serialized(pretty: true) + "\n")
            }
        }
        // Every rank learns whether rank 0 could write the results, and fails with it if not.
        let finalError = String(decoding: try comm.broadcast(Array((rootWriteError ?? "").utf8)), as: UTF8.self)
        if !finalError.isEmpty { throw RunDirectoryError(description: "rank 0 could not write the run directory: \(finalError)") }
        return RunResult(summary: summary, status: status, outDirectory: config.out)
    }

    /// Every rank's per-layer parameter checksums must match rank 0's; a divergence names the
    /// ranks and layers and stops every rank (all see the same gathered checksums).
    func verifyReplicas(_ model: MLP, iteration: Int) throws {
        let mine = model.layers.map { model.parameterChecksum($0.range) }
        let all = try comm.allGather(mine)
        let L = mine.count
        var problems: [String] = []
        for r in 1..<comm.size {
            let layers = (0..<L).filter { all[r * L + $0] != all[$0] }
            if !layers.isEmpty { problems.append("rank \(r) layer(s) \(layers.map(String.init).joined(separator: ", "))") }
        }
        if !problems.isEmpty {
            throw TrainingError(description: "replicas diverged at iteration \(iteration): \(problems.joined(separator: "; ")) differ from rank 0")
        }
    }

    /// The final parameters as raw little-endian Float32, in the flat layout (written atomically).
    func writeWeights(_ model: MLP, to path: String) throws {
        let file = try AppendFile(path: path + ".tmp", truncate: true)
        try file.write(raw: UnsafeRawBufferPointer(start: model.parameters.pointer, count: model.parameterCount * 4))
        try file.sync()
        file.close()
        guard rename(path + ".tmp", path) == 0 else {
            throw RunDirectoryError(description: "cannot rename \(path).tmp: \(String(cString: strerror(errno)))")
        }
    }
}
