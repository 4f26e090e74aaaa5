import Foundation
import Testing
@testable import Collectives

/// The wait between tests of a message: short while the wait is young, an eighth of the time
/// waited after, never past the cap; the number of tests a long wait takes.
@Suite struct PollingBackoffTests {
    @Test func startsAtTheFirstWaitGrowsByAnEighthAndStopsAtTheCap() {
        let b = PollingBackoff(firstMicroseconds: 50)
        #expect(b.next(afterWaiting: 0) == 50)
        #expect(b.next(afterWaiting: 400) == 50)     // an eighth is 50: still the first wait
        #expect(b.next(afterWaiting: 800) == 100)
        #expect(b.next(afterWaiting: 4_000) == 500)
        #expect(b.next(afterWaiting: 8_000) == 1000)
        #expect(b.next(afterWaiting: 10_000_000) == 1000)
        // A first wait past 1 ms is its own cap: every test after it waits the same.
        let long = PollingBackoff(firstMicroseconds: 5000)
        #expect(long.next(afterWaiting: 0) == 5000 && long.next(afterWaiting: 1_000_000) == 5000)
    }

    /// A wait tests without sleeping until it is `spin` µs old, then sleeps as before; no spin by default.
    @Test func spinsOnlyWhileTheWaitIsYoungerThanTheSpin() {
        let b = PollingBackoff(firstMicroseconds: 50, spinMicroseconds: 200)
        #expect(b.spins(elapsed: 0) && b.spins(elapsed: 199.9))
        #expect(!b.spins(elapsed: 200) && !b.spins(elapsed: 5_000))
        #expect(b.next(afterWaiting: 0) == 50, "after the spin the sleeps start at the first wait")
        #expect(!PollingBackoff(firstMicroseconds: 50).spins(elapsed: 0))
    }

    /// --comm-spin-us: a number of µs as given, or auto — 200 µs, and up to 1 ms while waits are
    /// short and fast, while the machine's ranks have a core each; none past that; anything else is not a setting.
    @Test func spinIsAFixedNumberOrAutoByRanksPerCore() {
        #expect(CommSpin("0") == .microseconds(0) && CommSpin("1000000") == .microseconds(1_000_000))
        #expect(CommSpin("auto") == .auto)
        for bad in ["", "-1", "1000001", "2e2", "Auto", " 200"] { #expect(CommSpin(bad) == nil, "accepted '\(bad)'") }
        #expect(CommSpin.auto.resolved(ranksOnMachine: 1, cores: 2) == SpinPolicy(base: 200, limit: 1000))
        #expect(CommSpin.auto.resolved(ranksOnMachine: 2, cores: 2) == SpinPolicy(base: 200, limit: 1000))
        #expect(CommSpin.auto.resolved(ranksOnMachine: 3, cores: 2) == SpinPolicy(base: 0))
        #expect(CommSpin.microseconds(50).resolved(ranksOnMachine: 8, cores: 2) == SpinPolicy(base: 50), "a number is kept whatever the ranks")
        #expect(CommSpin.microseconds(50).resolved(ranksOnMachine: 1, cores: 2).limit == 50, "a number does not adapt")
    }

    /// auto's spin follows the waits: up to the limit while their moving averages (a quarter's
    /// weight to the newest) are short — within the limit — and fast — 250 bytes a µs or more —
    /// the base once they are not, the limit again once short fast waits have brought them back;
    /// a policy without a limit never changes.
    @Test func spinFollowsTheMovingAveragesOfTheWaits() {
        let p = SpinPolicy(base: 200, limit: 1000)
        #expect(p.spin(recent: (µs: 0, bytes: 0)) == 200, "no wait yet: the base")
        #expect(p.spin(recent: (µs: 1000, bytes: 250_000)) == 1000 && p.spin(recent: (µs: 1001, bytes: 1_000_000)) == 200)
        #expect(p.spin(recent: (µs: 400, bytes: 99_999)) == 200, "short but slower than 250 B/µs: the base")
        #expect(p.spin(recent: (µs: 0, bytes: 4)) == 200 && p.spin(recent: (µs: 0, bytes: 250)) == 1000, "a wait under a µs counts as one")
        // Loopback inside a host: 470 kB ring steps in 250 µs.
        var recent: (µs: UInt64, bytes: UInt64) = (0, 0)
        func wait(_ µs: UInt64, _ bytes: UInt64) {
            recent = (SpinPolicy.average(recent.µs, after: µs), SpinPolicy.average(recent.bytes, after: bytes))
        }
        for _ in 0..<3 { wait(250, 470_000) }
        #expect(recent == (144, 271_718) && p.spin(recent: recent) == 1000, "0 → 62 → 109 → 144 µs: spin long")
        // A 1 Gbit/s link: 50 kB pieces of 100 kB buckets in 400 µs each, short but slow.
        for _ in 0..<8 { wait(400, 50_000) }
        #expect(recent.µs <= 1000 && p.spin(recent: recent) == 200, "125 B/µs: \(recent), the base only")
        // Its whole gradient: 6 ms waits.
        for _ in 0..<4 { wait(6000, 750_000) }
        #expect(recent.µs > 1000 && p.spin(recent: recent) == 200, "long waits: \(recent), the base only")
        var back = 0
        while p.spin(recent: recent) == 200 { wait(250, 470_000); back += 1 }
        #expect(back >= 1 && back <= 12, "short fast waits again bring the long spin back within a dozen waits (\(back))")
        #expect(SpinPolicy(base: 50).spin(recent: (0, 1 << 40)) == 50 && SpinPolicy(base: 50).spin(recent: (1_000_000, 0)) == 50)
        #expect(SpinPolicy(base: 300, limit: 100).limit == 300, "a limit below the base is the base")
        #expect(p.description == "200 µs (up to 1000 while waits are short and fast)" && SpinPolicy(base: 0).description == "0 µs")
    }

    /// The ranks that give the same key (the machine's identity): 5 ranks on machines a, b, a, a, b.
    @Test func ranksSharingAKeyAreCountedOnEveryRank() {
        let machines = ["a", "b", "a", "a", "b"]
        let counts = Counts()
        let errors = LocalWorld.run(ranks: machines.count) { comm in
            counts.set(comm.rank, try comm.ranksSharing(key: machines[comm.rank]))
        }
        for (rank, error) in errors.enumerated() { #expect(error == nil, "rank \(rank): \(String(describing: error))") }
        #expect(counts.all == [0: 3, 1: 2, 2: 3, 3: 3, 4: 2])
    }

    final class Counts: @unchecked Sendable {
        let lock = NSLock()
        var all: [Int: Int] = [:]
        func set(_ rank: Int, _ n: Int) { lock.lock(); all[rank] = n; lock.unlock() }
    }

    /// Sleeping as told through a 100 ms wait: how many tests it takes, and how far the last
    /// sleep can run past the message (at most an eighth of the wait, at most the cap).
    @Test func aLongWaitTestsAboutAHundredTimesNotTwoThousand() {
        let b = PollingBackoff(firstMicroseconds: 50)
        var waited: UInt64 = 0, tests = 0, longestSleep: UInt32 = 0
        while waited < 100_000 {
            let sleep = b.next(afterWaiting: waited)
            #expect(UInt64(sleep) <= max(50, waited / 8))
            longestSleep = max(longestSleep, sleep)
            waited += UInt64(sleep); tests += 1
        }
        #expect(longestSleep == 1000)
        // 8 tests of 50 µs to 400 µs, then growing by 9/8 to 8 ms (~25), then 92 of 1 ms: 125.
        #expect(tests > 100 && tests < 140, "\(tests) tests (2000 at a fixed 50 µs)")
    }
}
