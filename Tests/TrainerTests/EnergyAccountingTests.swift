import Collectives
import Energy
import Fixtures
import Foundation
import Support
import Testing
@testable import Accounting
@testable import RunFiles
@testable import Trainer

/// How the energy figures are formed, against fixture counters whose truth is known: a counter
/// whose rate follows what the ranks do (the phase-power fit must recover its rates), and one
/// counter shared by emulated hosts on one machine (read once, not once per host: in ScaleOutTests,
/// which owns the emulated cluster — its namespaces have fixed names, so its tests run one at a time).
@Suite(.serialized) struct EnergyAccountingTests {
    /// A machine-wide energy counter advancing at 60 W while the ranks compute, 25 W while they
    /// communicate and 40 W otherwise (the mean over the ranks of each one's rate): each activity
    /// a rank starts changes its rate from the instant the rank's record gives it, and a read
    /// returns the energy up to the instant of the read. Each rank's share is integrated on its
    /// own, so a rank that reports its edge after another rank's later edge (a busy machine
    /// preempts it between the two) is still counted from its own edge; an edge that arrives
    /// after a read covering it counts from the next read on (reads never go backwards).
    final class PhaseFollowingCounter: PowerSource, @unchecked Sendable {
        static func watts(_ a: Activity) -> Double { a == .compute ? 60 : a == .comm ? 25 : 40 }
        let kind = SourceKind.rapl, scope = SourceScope.node, domain = "fixture", origin = "a test counter"
        let updateInterval: Double? = nil
        private let lock = NSLock()
        private var current: [Activity]
        private var since: [Double]
        private var done: [Double]
        private var lastReading = 0.0

        init(ranks: Int) {
            current = Array(repeating: .setUp, count: ranks)
            since = Array(repeating: monotonicSeconds(), count: ranks)
            done = Array(repeating: 0, count: ranks)
        }

        func heard(rank: Int, _ activity: Activity, at t: Double) {
            lock.lock(); defer { lock.unlock() }
            done[rank] += Self.watts(current[rank]) / Double(current.count) * max(0, t - since[rank])
            current[rank] = activity
            since[rank] = max(since[rank], t)
        }

        func read() throws -> PowerReading {
            lock.lock(); defer { lock.unlock() }
            let now = monotonicSeconds(), n = Double(current.count)
            let joules = current.indices.reduce(0.0) { $0 + done[$1] + Self.watts(current[$1]) / n * max(0, now - since[$1]) }
            lastReading = max(lastReading, joules)
            return .energy(joules: lastReading)
        }
    }

    @Test func phasePowersAreRecoveredFromACounterThatFollowsTheRanks() throws {
        let ranks = 2
        let counter = PhaseFollowingCounter(ranks: ranks)
        var config = TrainConfig()
        config.data = .synthetic(samples: 20000, features: 784, classes: 10)
        config.steps = 1200
        config.overlap = false
        config.sampleHz = 100
        config.idleSeconds = 0.3
        let dir = NSTemporaryDirectory() + "ringwatt-trainer-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        config.out = dir + "/run"
        let settings = config
        let summaries = Box<RunSummary>()
        let errors = LocalWorld.run(ranks: ranks) { comm in
            let trainer = Trainer(config: settings, comm: comm)
            trainer.progress.mode = .quiet
            trainer.machineSources = [counter]
            trainer.activityListener = { [rank = comm.rank] activity, t in counter.heard(rank: rank, activity, at: t) }
            let result = try trainer.run()
            if comm.isRoot { summaries.value = result.summary }
        }
        for case let error? in errors { throw error }
        let f = try #require(summaries.value).figures
        let fit = try #require(f.phasePowerW, "a fit")
        print("phase power fit:", fit, "idle", f.idlePowerW ?? -1, "intervals", f.machines?.first?.fitIntervals ?? 0)
        for (phase, truth) in [("compute", 60.0), ("comm", 25.0), ("other", 40.0)] {
            let e = try #require(fit[phase], "\(phase) fitted")
            #expect(abs(e.watts - truth) < 0.05 * truth, "\(phase): \(e.watts) ± \(e.standardError ?? -1) W, truth \(truth) W")
        }
        #expect(abs((f.idlePowerW ?? 0) - 40) < 2, "asleep, the ranks draw the 'other' rate")
        #expect(f.machines?.count == 1 && f.machines?.first?.idleSource == "measured")
    }
}

final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
