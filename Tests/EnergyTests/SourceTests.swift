import Foundation
import Testing
import Support
@testable import Energy
import Fixtures

@Suite struct RAPLTests {
    @Test func discoversPackagesNeverSubzonesOrPsys() {
        let t = FixtureTree()
        t.raplZone("intel-rapl:0", name: "package-0", energy: 1000)
        t.raplZone("intel-rapl:0/intel-rapl:0:0", name: "core", energy: 10)
        t.raplZone("intel-rapl:0/intel-rapl:0:1", name: "uncore", energy: 10)
        t.raplZone("intel-rapl:0/intel-rapl:0:2", name: "dram", energy: 10)
        t.raplZone("intel-rapl:1", name: "package-1", energy: 2000)
        t.raplZone("intel-rapl:1/intel-rapl:1:0", name: "dram", energy: 10)
        t.raplZone("intel-rapl:2", name: "psys", energy: 5000)
        let packages = RAPLSource.discover(root: t.root)
        #expect(packages.sources.map(\.domain) == ["package-0", "package-1"])
        #expect(packages.problems.isEmpty)
        let withDRAM = RAPLSource.discover(root: t.root, includeDRAM: true)
        #expect(withDRAM.sources.map(\.domain) == ["package-0", "dram", "package-1", "dram"])
    }

    @Test func wrapAroundAddsTheRange() throws {
        let t = FixtureTree()
        t.raplZone("intel-rapl:0", name: "package-0", energy: 900, range: 1000)
        let zone = try RAPLSource(zonePath: t.root + "/intel-rapl:0")
        func microjoules() throws -> Double {
            guard case let .energy(j) = try zone.read() else { return .nan }
            return (j * 1e6).rounded()
        }
        #expect(try microjoules() == 900)
        t.file("intel-rapl:0/energy_uj", "100")   // wrapped: 900 → 1000 ≡ 0 → 100
        #expect(try microjoules() == 1100)
        t.file("intel-rapl:0/energy_uj", "50")    // wrapped again
        #expect(try microjoules() == 2050)
        t.file("intel-rapl:0/energy_uj", "60")    // no wrap
        #expect(try microjoules() == 2060)
        #expect(zone.wraps == 2)
    }

    @Test func malformedCounterIsAClearError() {
        let t = FixtureTree()
        t.raplZone("intel-rapl:0", name: "package-0", energy: 5)
        t.file("intel-rapl:0/energy_uj", "garbage")
        let found = RAPLSource.discover(root: t.root)
        #expect(found.sources.isEmpty)
        #expect(found.problems.map { "\($0)" }.first?.contains("expected a number, read 'garbage'") == true)
    }

    /// A writer advances two packages' counters at 40 W and 25 W, wrapping every 0.5 and 0.8 s;
    /// the sampler at 100 Hz must measure the energy from 0.05 s to when it stops within 1 % of
    /// what the files held, across at least three wraps of each. The test runs until
    /// the writers have written four wraps each, however long a loaded machine takes (a fixed
    /// 0.6 s once saw both writers descheduled for most of it: nothing wrapped, nothing was tested).
    @Test func sampledEnergyMatchesAKnownRateAcrossWraps() throws {
        let t = FixtureTree()
        let range: UInt64 = 20_000_000  // 20 J: a wrap the sampler could miss takes a 0.5 s stall
        t.raplZone("intel-rapl:0", name: "package-0", energy: 19_900_000, range: range)
        t.raplZone("intel-rapl:1", name: "package-1", energy: 0, range: range)
        let w0 = CounterWriter(path: t.root + "/intel-rapl:0/energy_uj", watts: 40, range: range, initial: 19_900_000)
        let w1 = CounterWriter(path: t.root + "/intel-rapl:1/energy_uj", watts: 25, range: range, initial: 0)
        usleep(5000)
        let found = RAPLSource.discover(root: t.root)
        #expect(found.sources.count == 2)
        let epoch = monotonicSeconds()
        let sampler = PowerSampler(sources: found.sources, hz: 100, epoch: epoch)
        sampler.start()
        while min(w0.wrapsWritten, w1.wrapsWritten) < 4 && monotonicSeconds() - epoch < 60 { usleep(20_000) }
        usleep(50_000)
        let a = 0.05, b = monotonicSeconds() - epoch
        sampler.stop()  // its last sample is after b
        w0.stop(); w1.stop()
        let joules = sampler.joules(from: a, to: b)
        sampler.sampleNow()  // so that drain, which keeps the last sample, returns stop's
        // The truth is what the counters held at the instants the sampler read them (each writer
        // logs every value it renamed into place), interpolated between the two samples around
        // each end as the sampler interpolates: a writer descheduled for a while leaves its file
        // behind the nominal rate, and no sampler can see more than the file holds.
        let times = sampler.drain(before: .infinity).map(\.t)
        func heldAsSampled(at t: Double) -> Double {
            guard let i = times.lastIndex(where: { $0 <= t }), i + 1 < times.count else { return .nan }
            let (t0, t1) = (times[i], times[i + 1])
            let (v0, v1) = [w0, w1].reduce((0.0, 0.0)) { ($0.0 + $1.held(at: epoch + t0), $0.1 + $1.held(at: epoch + t1)) }
            return (v0 + (v1 - v0) * (t - t0) / (t1 - t0)) * 1e-6
        }
        let truth = heldAsSampled(at: b) - heldAsSampled(at: a)
        #expect(abs(joules - truth) / truth < 0.01, "measured \(joules) J, truth \(truth) J")
        let wraps = found.sources.map(\.wraps)
        #expect(wraps.allSatisfy { $0 >= 3 }, "the counters wrapped while sampled: \(wraps)")
        #expect(truth >= 2 * 20.0, "the window held at least two wraps of each counter's energy: \(truth) J")
    }
}

@Suite struct HwmonAndEstimateTests {
    @Test func hwmonPrefersEnergyAndIntegratesPower() throws {
        let t = FixtureTree()
        t.file("hwmon0/name", "acpitz")
        t.file("hwmon0/temp1_input", "40000")
        t.file("hwmon1/name", "amd_energy")
        t.file("hwmon1/energy1_input", "5000000")
        t.file("hwmon1/energy1_label", "Esocket0")
        t.file("hwmon1/power1_input", "1")
        t.file("hwmon2/name", "power_meter")
        t.file("hwmon2/power1_average", "20000000")  // 20 W
        let found = HwmonSource.discover(root: t.root)
        #expect(found.sources.map(\.domain) == ["amd_energy/Esocket0", "power_meter/power1"])
        #expect(try found.sources[0].read() == .energy(joules: 5))
        #expect(try found.sources[1].read() == .power(watts: 20))
        let sampler = PowerSampler(sources: [found.sources[1]], hz: 200, epoch: monotonicSeconds())
        sampler.start()
        usleep(300_000)
        sampler.stop()
        let j = sampler.joules(from: 0.02, to: 0.22)
        #expect(abs(j - 4) < 0.04, "20 W for 0.2 s is 4 J, got \(j)")
    }

    @Test func estimateFollowsItsFormula() throws {
        final class FakeClock { var value: Double; init(_ v: Double) { value = v } }
        let cpu = FakeClock(0), wall = FakeClock(100)
        let model = EstimateModel(wattsPerBusyCore: 12, nodeIdleWatts: 40)
        let source = EstimateSource(model: model, ranksOnMachine: 4,
                                    cpuClock: { cpu.value }, wallClock: { wall.value })
        cpu.value = 1.5
        wall.value = 102
        // 12 W × 1.5 s of CPU + 40 W / 4 ranks × 2 s
        let expected: Double = 12 * 1.5 + 10 * 2
        let reading = try source.read()
        #expect(reading == PowerReading.energy(joules: expected))
        #expect(source.kind == .estimate && source.scope == .process)
        #expect(model.formula.contains("watts_per_busy_core × cpu_seconds"))
    }

    @Test func selectionFallsBackAndReadsNodeCountersOncePerNode() throws {
        let t = FixtureTree()
        t.raplZone("powercap/intel-rapl:0", name: "package-0", energy: 10)
        let roots = SourceRoots(powercap: t.root + "/powercap", hwmon: t.root + "/none", nvmlLibrary: "libnvidia-ml-absent.so")
        let leader = try SourceSelection.choose(.auto, roots: roots, estimate: EstimateModel(), ranksOnMachine: 2, readsMachineCounters: true)
        let other = try SourceSelection.choose(.auto, roots: roots, estimate: EstimateModel(), ranksOnMachine: 2, readsMachineCounters: false)
        #expect(leader.label == "rapl" && other.label == "rapl")
        #expect(leader.sources.count == 1 && other.sources.isEmpty)

        let empty = SourceRoots(powercap: t.root + "/nothing", hwmon: t.root + "/nothing", nvmlLibrary: "libnvidia-ml-absent.so")
        // auto falls back to the labelled estimate; a source asked for by name and missing is an error saying why.
        let fallback = try SourceSelection.choose(.auto, roots: empty, estimate: EstimateModel(), ranksOnMachine: 1, readsMachineCounters: true)
        #expect(fallback.label == "estimate")
        for (kind, why) in [(SourcePreference.rapl, "no RAPL package zone under \(t.root)/nothing (a virtual machine, or not an Intel/AMD CPU)"),
                            (.hwmon, "no hwmon energy or power sensor under \(t.root)/nothing"),
                            (.nvml, "NVML: libnvidia-ml-absent.so not found (no NVIDIA driver): no GPU source")] {
            #expect(throws: EnergyError.unavailable("--power-source \(kind.rawValue): \(why) "
                                                    + "(--power-source auto falls back to the labelled estimate)")) {
                try SourceSelection.choose(kind, roots: empty, estimate: EstimateModel(), ranksOnMachine: 1, readsMachineCounters: true)
            }
        }
        #expect(try SourceSelection.choose(.none, roots: empty, estimate: EstimateModel(), ranksOnMachine: 1, readsMachineCounters: true).sources.isEmpty)
    }

    @Test func accountingAddsTransferAndAuxiliaryEnergy() {
        let a = EnergyAccounting(pue: 1.5, networkJoulesPerByte: 1e-9, carbonGramsPerKWh: 400, pricePerKWh: 0.2)
        let t = a.totals(measuredJoules: 3.6e6, bytesMoved: 1e9)
        #expect(t.transferJ == 1)
        #expect(t.auxJ == 0.5 * (3.6e6 + 1))
        #expect(abs(t.kWh - 1.5 * (3.6e6 + 1) / 3.6e6) < 1e-12)
        #expect(abs(t.co2Grams - 400 * t.kWh) < 1e-9)
        #expect(t.cost == 0.2 * t.kWh)
    }
}
