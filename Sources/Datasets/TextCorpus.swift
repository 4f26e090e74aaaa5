import Foundation
import Support

/// A text corpus read as bytes (a byte-level model's tokens), split into training and validation
/// by 4096-byte blocks: block k is validation when k mod 10 = 9, training otherwise.
public struct TextCorpus: Sendable {
    public let train: [UInt8]
    public let validation: [UInt8]
    /// What was read: "N files, B bytes".
    public let origin: String

    public static let blockBytes = 4096
    public static let fortunes = "/usr/share/games/fortunes"

    public init(bytes: [UInt8], origin: String) {
        var train: [UInt8] = [], validation: [UInt8] = []
        train.reserveCapacity(bytes.count)
        var k = 0, start = 0
        while start < bytes.count {
            let end = min(start + Self.blockBytes, bytes.count)
            if k % 10 == 9 { validation += bytes[start..<end] } else { train += bytes[start..<end] }
            k += 1
            start = end
        }
        self.train = train
        self.validation = validation
        self.origin = origin
    }

    /// A file, or a directory's regular files in sorted name order (not `*.dat` index files, not
    /// symbolic links, not subdirectories), concatenated. Names are handled as the bytes they
    /// are (a file name need not be UTF-8); anything but a regular file or a directory — a device,
    /// a FIFO, a socket — is refused, naming what it is.
    public static func load(_ path: String) throws -> TextCorpus {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            throw DatasetError.cannotOpen(path: path, reason: describeOpenFailure(code)
                                          + (path == fortunes && code == ENOENT ? " (install Debian's fortunes package, or pass --data FILE|DIR)" : ""))
        }
        var files: [[CChar]] = []
        switch st.st_mode & S_IFMT {
        case S_IFREG: files = [Array(path.utf8CString)]
        case S_IFDIR: files = try regularFiles(in: path)
        default:
            throw DatasetError.invalid("--data \(path) is \(kind(of: st.st_mode)), not a text file or a directory of them")
        }
        var bytes: [UInt8] = []
        for file in files { bytes += try readWholeFile(file, display: displayPath(file)) }
        guard !bytes.isEmpty else { throw DatasetError.invalid("\(path) holds no text (no regular files, or all empty)") }
        return TextCorpus(bytes: bytes, origin: "\(files.count) file(s), \(bytes.count) bytes from \(path)")
    }

    /// The regular files directly in `directory`, as raw paths sorted by their bytes.
    static func regularFiles(in directory: String) throws -> [[CChar]] {
        guard let dir = opendir(directory) else {
            throw DatasetError.cannotOpen(path: directory, reason: describeOpenFailure(errno))
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == Array(".".utf8) || name == Array("..".utf8) || name.suffix(4) == Array(".dat".utf8) { continue }
            names.append(name)
        }
        let base = Array(directory.utf8) + [UInt8(ascii: "/")]
        return names.sorted { $0.lexicographicallyPrecedes($1) }.compactMap { name in
            let path = (base + name).map { CChar(bitPattern: $0) } + [0]
            var st = stat()
            return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG ? path : nil
        }
    }

    /// A raw path for messages: UTF-8 where it is, the other bytes as \xNN.
    static func displayPath(_ path: [CChar]) -> String {
        let bytes = path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return bytes.map { $0 < 0x80 ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
    }

    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }

    /// FNV-1a of both splits (sampled): ranks compare it to be sure they read the same text.
    public var fingerprints: [UInt64] {
        [train, validation].map { bytes in
            var h = FNV1a()
            h.mix(UInt64(bytes.count))
            var i = 0
            while i < bytes.count { h.mix(UInt64(bytes[i])); i += 31 }
            return h.value
        }
    }
}

/// The language model's batches: each step every rank takes `batchSize` windows of T+1 bytes of
/// the training text at offsets drawn by a generator seeded from (seed, rank, step), so runs and
/// resumes are exact; validation is a fixed set of windows spread evenly over the validation text
/// (at most `windows`, at least T bytes apart), split over the ranks by stride. An "epoch" is as many steps as the training text has windows for all ranks.
public final class ByteWindowSource: BatchSource {
    public let corpus: TextCorpus
    public let context: Int
    public let batchSize: Int
    public let ranks: Int
    public let rank: Int
    public let seed: UInt64
    /// Validation windows of the whole job (rank r evaluates k = r, r + ranks, …) and their spacing.
    public let validationWindows: Int
    private let validationStride: Int

    public init(corpus: TextCorpus, context T: Int, batchSize: Int, ranks: Int, rank: Int, seed: UInt64,
                validationWindows limit: Int = 256) throws {
        guard corpus.train.count > T + 1 else {
            throw DatasetError.invalid("the training text has \(corpus.train.count) bytes, fewer than one window of \(T + 1)")
        }
        guard corpus.validation.count > T + 1 else {
            throw DatasetError.invalid("the validation text (every 10th 4096-byte block) has \(corpus.validation.count) bytes, "
                                       + "fewer than one window of \(T + 1): the corpus is too small")
        }
        self.corpus = corpus; context = T; self.batchSize = batchSize; self.ranks = ranks; self.rank = rank; self.seed = seed
        validationWindows = min(max(1, limit), (corpus.validation.count - 1) / T)
        validationStride = (corpus.validation.count - T - 1) / validationWindows
    }

    /// An epoch: as many steps as the training text has windows for all ranks (at least one).
    private var stepsPerEpoch: Int { max(1, corpus.train.count / (batchSize * context * ranks)) }
    public var samplesPerStep: Int { batchSize * context * ranks }
    /// The epoch's steps `skipping` tokens took, in whole steps of this job's size (a part rounds up).
    private func stepsTaken(skipping: Int) -> Int { (max(0, skipping) + samplesPerStep - 1) / samplesPerStep }
    public func batches(inEpochSkipping skipping: Int) -> Int { max(0, stepsPerEpoch - stepsTaken(skipping: skipping)) }
    public var fingerprints: [UInt64] { corpus.fingerprints }
    public var dataFingerprint: DataFingerprint { DataFingerprint([corpus.train, corpus.validation]) }

    public func makeTrainingBatch() -> TokenBatch { TokenBatch(capacity: batchSize, context: context) }
    public func makeEvaluationBatch() -> TokenBatch { TokenBatch(capacity: batchSize, context: context) }

    /// The windows' offsets are drawn by the step's global index: the epoch's steps before it
    /// (`skipping` in whole steps of this job's size) and `step`.
    public func fillTraining(_ batch: TokenBatch, epoch: Int, step: Int, skipping: Int) {
        let global = UInt64(epoch * stepsPerEpoch + stepsTaken(skipping: skipping) + step)
        var rng = SplitMix64(seed: seed ^ (UInt64(rank) &* 0x9E37_79B9_7F4A_7C15) ^ (global &* 0xC2B2_AE3D_27D4_EB4F))
        let last = corpus.train.count - context - 1
        corpus.train.withUnsafeBufferPointer { text in
            for b in 0..<batchSize { batch.set(row: b, window: text.baseAddress! + rng.nextInt(below: last + 1)) }
        }
        batch.count = batchSize
    }

    public func samples(in batch: TokenBatch) -> Int { batch.count * context }
    public var sampleUnit: String { "token" }

    private var share: Int { max(0, (validationWindows - rank + ranks - 1) / ranks) }
    public var evaluationBatches: Int { (share + batchSize - 1) / batchSize }

    public func fillEvaluation(_ batch: TokenBatch, index: Int) {
        let first = index * batchSize, last = min(first + batchSize, share)
        corpus.validation.withUnsafeBufferPointer { text in
            for (row, k) in (first..<last).enumerated() {
                batch.set(row: row, window: text.baseAddress! + (rank + k * ranks) * validationStride)
            }
        }
        batch.count = last - first
    }
}
