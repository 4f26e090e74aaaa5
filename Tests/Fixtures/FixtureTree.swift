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

    public init(path: String, watts: Double, range: UInt64, initial: UInt64) {
        self.path = path; self.watts = watts; self.range = range
        start = monotonicSeconds()
        let initialValue = initial
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                let uj = UInt64(Double(initialValue) + (monotonicSeconds() - start) * watts * 1e6) % range
                try? (String(uj) + "\n").write(toFile: path + ".new", atomically: false, encoding: .utf8)
                rename(path + ".new", path)
                usleep(500)
            }
            done.store(true, ordering: .releasing)
        }
        thread.start()
    }

    public func stop() {
        running.store(false, ordering: .releasing)
        while !done.load(ordering: .acquiring) { usleep(100) }
    }
}
