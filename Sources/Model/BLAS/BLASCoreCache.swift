import Foundation

/// Measured cores per machine: one JSON file keyed by CPU signature and library build, so a
/// machine measures once and every later start (and every rank) reads the choice. Read and
/// written under an exclusive `flock`, so the ranks of a job that start together measure once
/// while the others wait (and do not disturb the timing).
public struct BLASCoreCache {
    public struct Entry: Codable, Sendable {
        public var cpu: String
        public var library: String
        public var measuredAt: String
        public var results: [BLASProbeResult]
    }

    let directory: String
    var file: String { directory + "/blas-cores.json" }

    /// RINGWATT_CACHE_DIR, else $XDG_CACHE_HOME/ringwatt, else ~/.cache/ringwatt.
    static func directory(environment: [String: String]) -> String {
        if let dir = environment["RINGWATT_CACHE_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/ringwatt" }
        return (environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()) + "/.cache/ringwatt"
    }

    /// The entry for `key`, measured by `measure` (under the lock) if absent or if `redo`.
    /// Returns whether it was measured now. Throws only if the directory can't be created or
    /// locked; a corrupt file is measured over.
    func entry(key: String, redo: Bool, measure: () throws -> Entry) throws -> (entry: Entry, measuredNow: Bool) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(directory + "/blas-cores.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: directory]) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CocoaError(.fileLocking, userInfo: [NSFilePathErrorKey: directory]) }
        }
        var all = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: URL(fileURLWithPath: file)))) ?? [:]
        if !redo, let cached = all[key] { return (cached, false) }
        let fresh = try measure()
        all[key] = fresh
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = file + ".tmp.\(getpid())"
        try encoder.encode(all).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, file) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file]) }
        return (fresh, true)
    }
}
