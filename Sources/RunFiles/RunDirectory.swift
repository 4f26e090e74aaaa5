import Foundation
import Synchronization

/// The run directory rank 0 writes: iterations.jsonl and power.csv appended as the run goes,
/// summary.json written atomically (temporary file, fsync, rename) once, at the end.
/// An interrupted or failed run leaves a summary whose `status` says so.
public final class RunDirectory: @unchecked Sendable {  // the append files are touched on `writer` only (close waits for it)
    public let path: String
    private var iterations: AppendFile
    private var power: AppendFile
    /// Held from before the first write to `close()`: no second job writes here meanwhile.
    private let lock: RunDirectoryLock
    /// Iteration lines are encoded and appended here, off the training thread, in order; every
    /// other write to the directory (summary, checkpoint, timeline) waits for them first.
    private let writer = DispatchQueue(label: "ringwatt.run-directory")
    private let failure = Mutex<String?>(nil)

    public static let iterationsFile = "iterations.jsonl"
    public static let powerFile = "power.csv"
    public static let summaryFile = "summary.json"
    public static let timelineFile = "timeline.json"
    public static let checkpointFile = "checkpoint.bin"
    public static let previousCheckpointFile = "checkpoint.prev.bin"
    public static let metricsFile = "metrics.prom"
    public static let emissionsFile = "emissions.csv"
    public static let powerHeader = "rank,node,t_s,watts,source,domain\n"

    /// Every file a run writes here: what makes a directory a run directory.
    public static let runFiles = [iterationsFile, powerFile, summaryFile, timelineFile, checkpointFile, previousCheckpointFile,
                                  metricsFile, emissionsFile, RestartRecord.fileName, RestartRecord.redoneFile, RunDirectoryLock.fileName]

    /// What a resume found of the attempt that ended: the iterations it ran past the checkpoint
    /// (now redone), when it last wrote here (Unix seconds), and how it ended.
    public struct EndedAttempt: Sendable {
        public var redone: [IterationLine]
        public var lastWrite: Double
        public var status: String
    }
    /// Set when this directory continues a run (`resumingAt`).
    public private(set) var endedAttempt: EndedAttempt?

    /// Creates (or, with `overwrite`, empties of a previous run's files) the directory, and owns it
    /// until `close()`. Refused before anything is touched: a directory a live run is writing; one
    /// that already holds a run (results are never silently replaced); an existing directory
    /// that holds other files and no run (`--out /`, a home directory).
    public init(path: String, overwrite: Bool, resumingAt resume: (iterations: Int, clock: Double)? = nil) throws {
        self.path = path
        if let resume {
            lock = try RunDirectoryLock(directory: path)
            endedAttempt = try Self.cut(path, at: resume)
            iterations = try AppendFile(path: path + "/" + Self.iterationsFile, truncate: false)
            power = try AppendFile(path: path + "/" + Self.powerFile, truncate: false)
            return
        }
        lock = try Self.claim(path, overwrite: overwrite)
        iterations = try AppendFile(path: path + "/" + Self.iterationsFile)
        power = try AppendFile(path: path + "/" + Self.powerFile)
        try power.write(Self.powerHeader)
    }

    /// Continues a run's files at its checkpoint: keeps the first `iterations` lines and the power
    /// samples up to the checkpoint's clock; what came after was not checkpointed and is redone
    /// (its lines appended to the redone file before iterations.jsonl is cut).
    private static func cut(_ path: String, at resume: (iterations: Int, clock: Double)) throws -> EndedAttempt {
        let iterationsPath = path + "/" + iterationsFile, powerPath = path + "/" + powerFile
        let lines = ((try? String(contentsOfFile: iterationsPath, encoding: .utf8)) ?? "").split(separator: "\n")
        guard lines.count >= resume.iterations else {
            throw RunError.runDirectory("\(iterationsPath) has \(lines.count) lines but the checkpoint is at iteration \(resume.iterations)")
        }
        let kept = lines.prefix(resume.iterations).map { $0 + "\n" }.joined()
        let cut = lines.dropFirst(resume.iterations)
        if !cut.isEmpty {
            let redone = try AppendFile(path: path + "/" + RestartRecord.redoneFile, truncate: false)
            defer { redone.close() }
            try redone.write(cut.map { $0 + "\n" }.joined())
            try redone.sync()
        }
        let ended = EndedAttempt(
            redone: cut.compactMap { try? RunFileCoding.decode(IterationLine.self, String($0)) },  // a torn last line is not an iteration
            lastWrite: [iterationsFile, powerFile, summaryFile].compactMap { modified(path + "/" + $0) }.max() ?? Date().timeIntervalSince1970,
            status: endedStatus(directory: path))
        let powerLines = ((try? String(contentsOfFile: powerPath, encoding: .utf8)) ?? powerHeader).split(separator: "\n")
        let keptPower = powerLines.enumerated().filter { index, line in
            index == 0 || (line.split(separator: ",").dropFirst(2).first.flatMap { Double($0) }.map { $0 <= resume.clock } ?? false)
        }.map { $0.element + "\n" }.joined()
        try writeAtomically(path: iterationsPath, kept)
        try writeAtomically(path: powerPath, keptPower.isEmpty ? powerHeader : keptPower)
        try? FileManager.default.removeItem(atPath: path + "/" + summaryFile)
        return ended
    }

    /// Takes a directory for a new run: makes it, or locks an existing one that is empty or holds
    /// a run (whose files `overwrite` removes); refuses anything else before touching it.
    private static func claim(_ path: String, overwrite: Bool) throws -> RunDirectoryLock {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            try makeDirectories(path)
            return try RunDirectoryLock(directory: path)
        }
        guard isDirectory.boolValue else {
            throw RunError.runDirectory("--out \(path) exists and is not a directory; choose a new or empty directory")
        }
        let entries = (try? fm.contentsOfDirectory(atPath: path)) ?? []
        let present = runFiles.filter { fm.fileExists(atPath: path + "/" + $0) }
        if present.isEmpty && !entries.isEmpty {
            throw RunError.runDirectory("--out \(path) holds \(entries.count) other file(s) and no run; "
                                        + "choose a new or empty directory (run files are never mixed into other files)")
        }
        let lock = try RunDirectoryLock(directory: path)
        let results = present.filter { $0 != RunDirectoryLock.fileName }
        if !results.isEmpty {
            guard overwrite else {
                throw RunError.runDirectory("--out \(path) already holds a run (\(results.joined(separator: ", "))); choose another directory or pass --overwrite")
            }
            for name in results { try? fm.removeItem(atPath: path + "/" + name) }
        }
        return lock
    }

    /// A file's modification time (Unix seconds), nil if it does not exist.
    static func modified(_ path: String) -> Double? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    }

    /// How the attempt that wrote this directory ended: its summary's status, or that it left none.
    static func endedStatus(directory: String) -> String {
        switch try? SummaryFile.read(directory: directory) {
        case let .figures(s)?: s.status.rawValue
        case .failed?: RunStatus.failed.rawValue
        case nil: "no summary (a rank died or hung)"
        }
    }

    /// Appends one resume's record to restarts.jsonl (after the queued writes), durably; a line
    /// torn by a crash mid-append is cut off first, so it never runs into the next record.
    package func appendRestart(_ record: RestartRecord) throws {
        try waitForWrites()
        let restarts = path + "/" + RestartRecord.fileName
        if let text = try? String(contentsOfFile: restarts, encoding: .utf8), !text.isEmpty, !text.hasSuffix("\n") {
            try Self.writeAtomically(path: restarts, RestartRecord.wholeLines(text).map { $0 + "\n" }.joined())
        }
        let file = try AppendFile(path: restarts, truncate: false)
        defer { file.close() }
        try file.write(try RunFileCoding.line(record) + "\n")
        try file.sync()
    }

    /// Queues a flush's iteration lines and power rows: encoded and appended by the writer, so
    /// JSON encoding (about 10 µs a line) costs the training loop nothing. A failure is reported by
    /// `writeFailure` (at the next flush) and by `waitForWrites`.
    package func append(iterations lines: [IterationLine], power rows: String) {
        guard !lines.isEmpty || !rows.isEmpty else { return }
        writer.async { [self] in
            guard failure.withLock({ $0 == nil }) else { return }
            do {
                if !lines.isEmpty { try iterations.write(try RunFileCoding.lines(lines).joined(separator: "\n") + "\n") }
                if !rows.isEmpty { try power.write(rows) }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
        }
    }

    /// Queues an atomic rewrite of `name` (after the lines queued before it): for files a live run
    /// keeps current, such as metrics.prom. Readers see the old file or the new one (rename), but it
    /// is not forced to disk: the next flush rewrites it and the finish writes it durably, and an
    /// fsync at every flush cost the rank's core 0.7 ms where mpirun binds the writer thread to it.
    package func replace(_ name: String, _ text: String) {
        writer.async { [self] in
            guard failure.withLock({ $0 == nil }) else { return }
            do { try Self.writeAtomically(path: path + "/" + name, text, durable: false) } catch { failure.withLock { $0 = "\(error)" } }
        }
    }

    /// The first queued write that failed, if any (does not wait).
    package var writeFailure: String? { failure.withLock { $0 } }

    /// Waits until every queued line is on disk; throws the first failure.
    package func waitForWrites() throws {
        writer.sync {}
        if let message = writeFailure { throw RunError.runDirectory(message) }
    }

    /// Writes `name` atomically, after the queued lines: a reader sees the old file or the complete
    /// new one, never a part.
    public func writeAtomically(_ name: String, _ text: String) throws {
        writer.sync {}
        try Self.writeAtomically(path: path + "/" + name, text)
    }

    /// Temporary file, fsync (when `durable`), rename.
    public static func writeAtomically(path: String, _ text: String, durable: Bool = true) throws {
        let temporary = path + ".tmp"
        let file = try AppendFile(path: temporary, truncate: true)
        try file.write(text)
        if durable { try file.sync() }
        file.close()
        guard rename(temporary, path) == 0 else {
            throw RunError.runDirectory("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    public func close() {
        writer.sync {}
        iterations.close()
        power.close()
        lock.release()
    }

    /// `mkdir -p`, one component at a time, so a failure names the component and the reason (a
    /// parent that is a file, a read-only file system) instead of a Foundation error code.
    package static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var st = stat()
            if stat(prefix, &st) == 0 {
                guard st.st_mode & S_IFMT == S_IFDIR else {
                    throw RunError.runDirectory("cannot create --out \(path): \(prefix) is a file, not a directory")
                }
                continue
            }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw RunError.runDirectory("cannot create --out \(path): \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    package static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

/// A file opened for appending with POSIX calls, so a full disk (ENOSPC) or any write error is
/// reported at once, naming the file.
package final class AppendFile {
    package let path: String
    private var fd: Int32

    package init(path: String, truncate: Bool = true) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND) | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RunError.runDirectory("cannot open \(path) for writing: \(String(cString: strerror(errno)))")
        }
    }

    package func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(raw: UnsafeRawBufferPointer($0)) }
    }

    package func write(raw bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw RunError.runDirectory("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    package func sync() throws {
        guard fsync(fd) == 0 else {
            throw RunError.runDirectory("cannot fsync \(path): \(String(cString: strerror(errno)))")
        }
    }

    package func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
