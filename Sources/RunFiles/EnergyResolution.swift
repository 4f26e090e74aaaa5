import Foundation

/// Whether the windows the figures are about are longer than what measures them.
public struct EnergyResolution: Codable, Equatable, Sendable {
    public var sampleIntervalS: Double
    /// Each source's update interval ("kind,domain" → seconds), where it has a sensor.
    public var sourceUpdateIntervalS: [String: Double]
    public var meanIterationS: Double
    public var meanPhaseS: [String: Double]
    /// Windows shorter than what measures them, in words; empty when none is.
    public var shorterThanMeasured: [String]
    public var note: String

    package enum CodingKeys: String, CodingKey {
        case sampleIntervalS = "sample_interval_s", sourceUpdateIntervalS = "source_update_interval_s"
        case meanIterationS = "mean_iteration_s", meanPhaseS = "mean_phase_s", shorterThanMeasured = "shorter_than_measured", note
    }

    package init(sampleHz: Double, updateIntervals: [String: Double], iterations: Int, seconds: Double, phaseSeconds: [String: Double]) {
        sampleIntervalS = 1 / sampleHz
        sourceUpdateIntervalS = updateIntervals
        let n = Double(max(1, iterations))
        meanIterationS = seconds / n
        meanPhaseS = phaseSeconds.mapValues { $0 / n }
        var short: [String] = []
        func ms(_ s: Double) -> String { String(format: "%.3g ms", s * 1e3) }
        if meanIterationS < sampleIntervalS {
            short.append("iterations (mean \(ms(meanIterationS))) are shorter than the \(ms(sampleIntervalS)) sampling interval")
        }
        for phase in ["compute", "comm"] {
            guard let t = meanPhaseS[phase], t > 0 else { continue }
            for (source, interval) in updateIntervals.sorted(by: { $0.key < $1.key }) where t < interval {
                short.append("\(phase) phases (mean \(ms(t))) are shorter than \(source)'s \(ms(interval)) update interval")
            }
        }
        shorterThanMeasured = short
        note = short.isEmpty
            ? "every iteration spans several power samples: per-iteration energies are measured differences of the sampled counters"
            : "a window shorter than the sampling or update interval is not resolved: its energy in iterations.jsonl and "
              + "energy_by_phase_j is apportioned (the sampled curve interpolated over the window, in effect mean power × time); "
              + "phase_power_w is the fit over many sample intervals that tells the phases apart"
    }
}
