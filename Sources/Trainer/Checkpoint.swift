import Accounting
import RunFiles
import Datasets
import Foundation
import Model
import Support

/// The checkpoint's header: where the run stands and what it had accounted so far.
public struct CheckpointHeader: Codable, Equatable {
    public var format = "ringwatt-checkpoint"
    public var ranks: Int
    /// Iterations done: the next one to run.
    public var step: Int
    /// The aligned clock at the checkpoint (a resumed run continues it).
    public var clockSeconds: Double
    public var optimizerSteps: Int
    public var skippedSteps: Int
    /// Every evaluation so far.
    public var evaluations: [Evaluation]
    var totals: RunTotals
    public var config: TrainConfig
    public var parameterCount: Int
    public var firstMomentCount: Int
    public var secondMomentCount: Int
    /// The data the run trained on (absent in checkpoints from before 0.7).
    public var data: DataFingerprint?
    /// Steps per epoch at the writing rank count (absent before 0.7).
    public var batchesPerEpoch: Int?
    /// Where the data continue: the epoch, and the samples (tokens) of it the whole job had taken
    /// (absent before 0.8: derived from `step`).
    public var epoch: Int?
    public var epochSamples: Int?
    /// The learning-rate schedule: its length and position in steps of the run's first global
    /// batch, and that batch's samples (tokens) per step (absent before 0.8: `step`, the same batch).
    public var scheduleSteps: Int?
    public var schedulePosition: Double?
    public var scheduleStepSamples: Int?

    /// The energy the run had used by the checkpoint, by phase (J).
    public var phaseJoules: [Double] { totals.phaseJoules }

    enum CodingKeys: String, CodingKey {
        case format, ranks, step, clockSeconds = "clock_s", optimizerSteps = "optimizer_steps"
        case skippedSteps = "skipped_steps", evaluations, accuracies, totals, config
        case parameterCount = "parameter_count", firstMomentCount = "first_moment_count"
        case secondMomentCount = "second_moment_count", data, batchesPerEpoch = "batches_per_epoch"
        case epoch, epochSamples = "epoch_samples", scheduleSteps = "schedule_steps", schedulePosition = "schedule_position"
        case scheduleStepSamples = "schedule_step_samples"
    }

    init(ranks: Int, step: Int, clockSeconds: Double, optimizerSteps: Int, skippedSteps: Int, evaluations: [Evaluation],
         totals: RunTotals, config: TrainConfig, parameterCount: Int, firstMomentCount: Int, secondMomentCount: Int,
         data: DataFingerprint?, batchesPerEpoch: Int? = nil) {
        self.ranks = ranks; self.step = step; self.clockSeconds = clockSeconds; self.optimizerSteps = optimizerSteps
        self.skippedSteps = skippedSteps; self.evaluations = evaluations; self.totals = totals; self.config = config
        self.parameterCount = parameterCount; self.firstMomentCount = firstMomentCount; self.secondMomentCount = secondMomentCount
        self.data = data; self.batchesPerEpoch = batchesPerEpoch
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        ranks = try c.decode(Int.self, forKey: .ranks); step = try c.decode(Int.self, forKey: .step)
        clockSeconds = try c.decode(Double.self, forKey: .clockSeconds)
        optimizerSteps = try c.decode(Int.self, forKey: .optimizerSteps); skippedSteps = try c.decode(Int.self, forKey: .skippedSteps)
        // Checkpoints written before evaluations were named held the classifier's accuracy at each
        // epoch's end; the config says how many steps an epoch had.
        if let e = try c.decodeIfPresent([Evaluation].self, forKey: .evaluations) { evaluations = e } else {
            let accuracies = try c.decode([Double].self, forKey: .accuracies)
            let perEpoch = accuracies.isEmpty ? 0 : step / accuracies.count
            evaluations = accuracies.enumerated().map { Evaluation(step: ($0.offset + 1) * perEpoch, metrics: [Metric(name: "accuracy", value: $0.element)]) }
        }
        totals = try c.decode(RunTotals.self, forKey: .totals); config = try c.decode(TrainConfig.self, forKey: .config)
        parameterCount = try c.decode(Int.self, forKey: .parameterCount)
        firstMomentCount = try c.decode(Int.self, forKey: .firstMomentCount)
        secondMomentCount = try c.decode(Int.self, forKey: .secondMomentCount)
        data = try c.decodeIfPresent(DataFingerprint.self, forKey: .data)
        batchesPerEpoch = try c.decodeIfPresent(Int.self, forKey: .batchesPerEpoch)
        epoch = try c.decodeIfPresent(Int.self, forKey: .epoch)
        epochSamples = try c.decodeIfPresent(Int.self, forKey: .epochSamples)
        scheduleSteps = try c.decodeIfPresent(Int.self, forKey: .scheduleSteps)
        schedulePosition = try c.decodeIfPresent(Double.self, forKey: .schedulePosition)
        scheduleStepSamples = try c.decodeIfPresent(Int.self, forKey: .scheduleStepSamples)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format); try c.encode(ranks, forKey: .ranks); try c.encode(step, forKey: .step)
        try c.encode(clockSeconds, forKey: .clockSeconds); try c.encode(optimizerSteps, forKey: .optimizerSteps)
        try c.encode(skippedSteps, forKey: .skippedSteps); try c.encode(evaluations, forKey: .evaluations)
        try c.encode(totals, forKey: .totals); try c.encode(config, forKey: .config)
        try c.encode(parameterCount, forKey: .parameterCount); try c.encode(firstMomentCount, forKey: .firstMomentCount)
        try c.encode(secondMomentCount, forKey: .secondMomentCount)
        try c.encodeIfPresent(data, forKey: .data)
        try c.encodeIfPresent(batchesPerEpoch, forKey: .batchesPerEpoch)
        try c.encodeIfPresent(epoch, forKey: .epoch)
        try c.encodeIfPresent(epochSamples, forKey: .epochSamples)
        try c.encodeIfPresent(scheduleSteps, forKey: .scheduleSteps)
        try c.encodeIfPresent(schedulePosition, forKey: .schedulePosition)
        try c.encodeIfPresent(scheduleStepSamples, forKey: .scheduleStepSamples)
    }
}

/// Everything needed to continue a run exactly: parameters, optimizer state, where in the data
/// the run stands (the sampler is a pure function of seed and epoch, so epoch and step suffice),
/// the aligned clock, and the energy and communication totals so far.
///
/// File layout (little-endian): "RWCK", UInt32 version, UInt64 payload length, UInt64 FNV-1a of
/// the payload, payload. Payload: UInt32 header length, a JSON header, then the float arrays the
/// header lists, back to back. Written atomically (temporary file, fsync, rename); the previous
/// checkpoint is kept as checkpoint.prev until the new one is complete.
public struct Checkpoint: Equatable {
    public static let version: UInt32 = 1
    public static let fileName = RunDirectory.checkpointFile
    public static let previousName = RunDirectory.previousCheckpointFile

    public var header: CheckpointHeader
    public var parameters: [Float]
    public var firstMoment: [Float]
    public var secondMoment: [Float]

    public init(header: CheckpointHeader, parameters: [Float], firstMoment: [Float], secondMoment: [Float]) {
        precondition(parameters.count == header.parameterCount && firstMoment.count == header.firstMomentCount
                     && secondMoment.count == header.secondMomentCount, "checkpoint arrays must match the header's counts")
        self.header = header; self.parameters = parameters; self.firstMoment = firstMoment; self.secondMoment = secondMoment
    }

    public func encode() throws -> [UInt8] {
        let text = Array(try RunFileCoding.line(header).utf8)
        var payload: [UInt8] = []
        payload.reserveCapacity(4 + text.count + 4 * (parameters.count + firstMoment.count + secondMoment.count))
        Self.append(UInt32(text.count), to: &payload)
        payload += text
        for array in [parameters, firstMoment, secondMoment] {
            array.withUnsafeBytes { payload += $0 }
        }
        var out: [UInt8] = Array("RWCK".utf8)
        Self.append(Self.version, to: &out)
        Self.append(UInt64(payload.count), to: &out)
        Self.append(FNV1a.hash(payload), to: &out)
        return out + payload
    }

    /// Never traps, whatever the bytes: every inconsistency is a `RunError.checkpoint`.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Checkpoint {
        func fail(_ why: String) -> RunError { .checkpoint("checkpoint \(path) is unusable: \(why)") }
        guard bytes.count >= 24, Array(bytes[0..<4]) == Array("RWCK".utf8) else { throw fail("not a Ringwatt checkpoint") }
        let version: UInt32 = read(bytes, 4)
        guard version == Self.version else { throw fail("format version \(version), this build reads \(Self.version)") }
        let length: UInt64 = read(bytes, 8)
        guard length == UInt64(bytes.count - 24) else { throw fail("truncated or padded (\(bytes.count - 24) payload bytes, header says \(length))") }
        let payload = Array(bytes[24...])
        guard FNV1a.hash(payload) == read(bytes, 16) as UInt64 else { throw fail("checksum mismatch (corrupt)") }
        guard payload.count >= 4 else { throw fail("no header") }
        let headerLength = Int(read(payload, 0) as UInt32)
        guard headerLength <= payload.count - 4 else { throw fail("header length out of range") }
        let header: CheckpointHeader
        do { header = try RunFileCoding.decode(CheckpointHeader.self, String(decoding: payload[4..<(4 + headerLength)], as: UTF8.self)) } catch {
            throw fail("header is not a checkpoint header (\(error))")
        }
        guard header.format == "ringwatt-checkpoint" else { throw fail("header format '\(header.format)'") }
        var offset = 4 + headerLength
        func floats(_ count: Int, _ what: String) throws -> [Float] {
            guard count >= 0, count < 1 << 34, offset + 4 * count <= payload.count else { throw fail("\(what) runs past the end") }
            let values = payload[offset..<(offset + 4 * count)].withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
            }
            offset += 4 * count
            return values
        }
        let p = try floats(header.parameterCount, "parameters"), m = try floats(header.firstMomentCount, "first moment")
        let v = try floats(header.secondMomentCount, "second moment")
        guard offset == payload.count else { throw fail("\(payload.count - offset) unexpected bytes at the end") }
        return Checkpoint(header: header, parameters: p, firstMoment: m, secondMoment: v)
    }

    public func write(directory: String) throws {
        let path = directory + "/" + Self.fileName
        let fm = FileManager.default
        let temporary = path + ".tmp"
        let file = try AppendFile(path: temporary, truncate: true)
        var bytes = try encode()
        try bytes.withUnsafeMutableBytes { try file.write(raw: UnsafeRawBufferPointer($0)) }
        try file.sync()
        file.close()
        if fm.fileExists(atPath: path) {
            let previous = directory + "/" + Self.previousName
            try? fm.removeItem(atPath: previous)
            link(path, previous)  // the old checkpoint survives under its own name until the rename below
        }
        guard rename(temporary, path) == 0 else {
            throw RunError.checkpoint("cannot rename \(temporary): \(String(cString: strerror(errno)))")
        }
        bytes.removeAll()
    }

    public static func read(directory: String) throws -> Checkpoint {
        try decode(readBytes(directory: directory), path: directory + "/" + fileName)
    }

    /// The newest checkpoint's bytes, or — when it is torn or corrupt (a crash mid-write, a bad
    /// disk) — the previous one's, which every write keeps, saying so in one line on stderr.
    public static func readNewestUsable(directory: String) throws -> [UInt8] {
        let newest = try readBytes(directory: directory)
        do {
            _ = try decode(newest, path: directory + "/" + fileName)
            return newest
        } catch {
            guard let older = try? readBytes(directory: directory, name: previousName),
                  let previous = try? decode(older, path: directory + "/" + previousName) else { throw error }
            FileHandle.standardError.write(Data("ringwatt: \(error); resuming from \(previousName) (iteration \(previous.header.step)) instead\n".utf8))
            return older
        }
    }

    public static func readBytes(directory: String, name: String = fileName) throws -> [UInt8] {
        let path = directory + "/" + name
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw RunError.checkpoint("--resume \(directory): no \(name) there (checkpoints are written at epoch ends and every --checkpoint-every iterations)")
        }
        // Ringwatt writes a regular file (temporary file, rename): anything else was put there.
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let what: String
            switch kind {
            case S_IFLNK: what = "a symbolic link (to \((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"))"
            case S_IFDIR: what = "a directory"
            case S_IFCHR, S_IFBLK: what = "a device"
            case S_IFIFO: what = "a FIFO"
            case S_IFSOCK: what = "a socket"
            default: what = "not a regular file"
            }
            throw RunError.checkpoint("--resume \(directory): \(path) is \(what), not a checkpoint Ringwatt wrote; remove it or resume another run")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError.checkpoint("--resume \(directory): cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return Array(data)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func read<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
