import Collectives
import Energy
import Fixtures
import Foundation
import Support
import Testing
@testable import Trainer

/// How the energy figures are formed, against fixture counters whose truth is known: a counter
/// whose rate follows what the ranks do (the phase-power fit must recover its rates), and one
/// counter shared by emulated hosts on one machine (read once, not once per host).
@Suite(.serialized) struct EnergyAccountingTests {
    /// A machine-wide energy counter advancing at 60 W while the ranks compute, 25 W while they
    /// communicate and 40 W otherwise (the mean over the ranks of each one's rate): each activity
    /// a rank starts changes its rate, and a read returns the energy up to the instant of the read.
    final class PhaseFollowingCounter: PowerSource, @unchecked Sendable {
        static func watts(_ a: Activity) -> Double { a == .compute ? 60 : a == .comm ? 25 : 40 }
        let kind = SourceKind.rapl, scope = SourceScope.node, domain = "fixture", origin = "a test counter"
        let updateInterval: Double? = nil
        private let lock = NSLock()
        private var current: [Activity]
        private var last = monotonicSeconds()
        private var joules = 0.0

        init(ranks: Int) { current = Array(repeating: .setUp, count: ranks) }

        func heard(rank: Int, _ activity: Activity, at t: Double) {
            lock.lock(); defer { lock.unlock() }
            advance(to: t)
            current[rank] = activity
        }

        func read() throws -> PowerReading {
            lock.lock(); defer { lock.unlock() }
            advance(to: monotonicSeconds())
            return .energy(joules: joules)
        }

        private func advance(to t: Double) {
            joules += current.map(Self.watts).reduce(0, +) / Double(current.count) * max(0, t - last)
            last = max(last, t)
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
        config.out = Harness.temporaryDirectory() + "/run"
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

    /// Root only: two emulated hosts (network namespaces) on this one machine, a fixture RAPL
    /// counter advancing at 60 W. Each host's first rank would read it; the cluster must report
    /// 60 W (one machine), not 120, and split it between the hosts.
    @Test func emulatedHostsOnOneMachineCountItsCounterOnce() throws {
        let probe = try Harness.run("/usr/sbin/ip", ["netns", "add", "rw-probe-\(getpid())"])
        try #require(probe.status == 0, "this machine forbids network namespaces (\(probe.stderr)); skipping")
        _ = try Harness.run("/usr/sbin/ip", ["netns", "delete", "rw-probe-\(getpid())"])
        let tree = FixtureTree()
        tree.raplZone("intel-rapl:0", name: "package-0", energy: 0)
        let writer = CounterWriter(path: tree.root + "/intel-rapl:0/energy_uj", watts: 60, range: 262_143_328_850, initial: 0)
        defer { writer.stop() }
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.run("/bin/bash", [Harness.repository + "/launch/emucluster.sh", "run", "2", "1", "--"]
                                  + ScaleOutTests.small + ["--epochs", "6", "--power-source", "rapl", "--powercap-root", tree.root,
                                                           "--idle-seconds", "0.5", "--out", dir + "/run"])
        #expect(run.status == 0, "\(run.all)")
        let s = try Harness.json(dir + "/run/summary.json")
        #expect(s["nodes"]?.double == 2, "two emulated hosts")
        guard case let .array(machines)? = s["machines"] else { Issue.record("no machines in \(s)"); return }
        #expect(machines.count == 1, "one physical machine")
        // The writer thread can lag its nominal 60 W on a loaded machine, never exceed it; a counter
        // read once per emulated host would give 120 W.
        let power = try #require(s["mean_power_w"]?.double), idle = s["idle_power_w"]?.double ?? 0
        #expect(power > 0.6 * 60 && power < 1.1 * 60, "the cluster draws \(power) W: one 60 W counter, not one per host")
        #expect(idle > 0.6 * 60 && idle < 1.1 * 60, "asleep, the counter still runs at 60 W, once: \(idle) W")
        guard case let .array(byNode)? = s["energy_by_node_j"] else { Issue.record("energy_by_node_j"); return }
        let perNode = byNode.compactMap(\.double), total = try #require(s["energy_j"]?.double)
        #expect(perNode.count == 2 && abs(perNode.reduce(0, +) - total) < 1e-6 * total, "the hosts' shares add up: \(perNode)")
        #expect(perNode.allSatisfy { $0 > 0.2 * total }, "each host's ranks get their CPU-time share: \(perNode)")
        #expect(s["energy_attribution"]?.string?.contains("CPU time") == true)
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
