import ArgumentParser
import Energy
import Foundation
import Support

struct Power: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List this node's power sources, say which are unreadable and why, and read each for a moment.")

    @Option(help: "Seconds to read each source.")
    var seconds = 1.0
    @OptionGroup var roots: SourceRootOptions

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        let rapl = RAPLSource.discover(root: roots.powercapRoot, includeDRAM: roots.dram)
        let hwmon = HwmonSource.discover(root: roots.hwmonRoot)
        let nvml = NVMLSource.discover()
        var sources: [PowerSource] = rapl.sources + hwmon.sources
        sources += nvml.sources as [PowerSource]
        sources.append(EstimateSource(model: EstimateModel(), ranksOnMachine: 1))
        print("power sources on this node:")
        for problem in rapl.problems + hwmon.problems + nvml.problems { print("  unavailable: \(problem)") }
        if rapl.sources.isEmpty && rapl.problems.isEmpty { print("  unavailable: RAPL: no package zone under \(roots.powercapRoot)") }
        if hwmon.sources.isEmpty && hwmon.problems.isEmpty { print("  unavailable: hwmon: no energy/power sensor under \(roots.hwmonRoot)") }
        for source in sources {
            let sampler = PowerSampler(sources: [source], hz: 50, epoch: monotonicSeconds())
            let description = "\(source.kind.rawValue) \(source.domain) [\(source.scope.rawValue)] \(source.origin)"
            sampler.start()
            // Keep this process busy for the estimate to show a loaded figure, as likwid-powermeter does with a workload.
            let end = monotonicSeconds() + seconds
            var spin = 0.0
            while monotonicSeconds() < end { spin += 1 }
            sampler.stop()
            let j = sampler.joules(from: 0, to: seconds + 1)
            let failures = sampler.failures.first.map { $0.count } ?? 0
            print(String(format: "  %-60@ %8.2f W%@", description as NSString, j / seconds,
                         failures > 0 ? " (\(failures) failed reads)" : "") + (spin < 0 ? "" : ""))
        }
    }
}
