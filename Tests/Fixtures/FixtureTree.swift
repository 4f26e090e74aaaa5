/// Test fixtures shared by the test targets: sysfs-like trees and counters advanced at a known rate.
import Foundation
import Synchronization
import Support

/// A sysfs-like tree in a temporary directory.
public final class FixtureTree {
    public let root: String
    public init() {
        root = NSTemporaryDirectory() + "ringwatt-sysfs-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: root) }

    public func file(_ relative: String, _ content: String) {
        let path = root + "/" + relative
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        // Write then rename, as a kernel attribute changes atomically for a reader.
        try! (content + "\n").write(toFile: path + ".new", atomically: false, encoding: .utf8)
        rename(path + ".new", path)
    }

    /// A RAPL zone directory with name, range and counter.
    public func raplZone(_ relative: String, name: String, energy: UInt64, range: UInt64 = 262_143_328_850) {
        file(relative + "/name", name)
        file(relative + "/max_energy_range_uj", String(range))
        file(relative + "/energy_uj", String(energy))
    }
}

/// Advances a µJ counter file at a known power, wrapping at `range`, from a background thread,
/// and records the true energy between any two instants.
public final class CounterWriter: @unchecked Sendable {
    let path: String
    let watts: Double
    let range: UInt64
    let start: Double
    private let running = Atomic<Bool>(true)
    private let done = Atomic<Bool>(false)
    private let lock = NSLock()
    /// (time of the rename, unwrapped µJ written): the counter's real trajectory, which lags the
    /// nominal rate whenever this thread is descheduled on a loaded machine.
    private var log: [(Double, Double)] = []

    public init(path: String, watts: Double, range: UInt64, initial: UInt64) {
        self.path = path; self.watts = watts; self.range = range
        start = monotonicSeconds()
        let initialValue = initial
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                let total = Double(initialValue) + (monotonicSeconds() - start) * watts * 1e6
                let uj = UInt64(total) % range
                try? (String(uj) + "\n").write(toFile: path + ".new", atomically: false, encoding: .utf8)
                let renaming = monotonicSeconds()
                rename(path + ".new", path)
                let written = monotonicSeconds()
                // The file holds the value from the rename on: stamped at the rename's middle.
                lock.lock(); log.append(((renaming + written) / 2, total)); lock.unlock()
                usleep(500)
            }
            done.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// µJ the file held at `t` (monotonic clock): the last value renamed into place by then — a
    /// step at each write, as a reader sees it, not a line between writes.
    public func held(at t: Double) -> Double {
        lock.lock(); defer { lock.unlock() }
        guard let i = log.lastIndex(where: { $0.0 <= t }) else { return log.first?.1 ?? 0 }
        return log[i].1
    }

    /// Times the counter has wrapped in what was written so far.
    public var wrapsWritten: Int {
        lock.lock(); defer { lock.unlock() }
        guard let first = log.first, let last = log.last else { return 0 }
        return Int(last.1 / Double(range)) - Int(first.1 / Double(range))
    }

    public func stop() {
        running.store(false, ordering: .releasing)
        while !done.load(ordering: .acquiring) { usleep(100) }
    }
}
