import Energy
import Foundation
import Prometheus

/// CSV text (RFC 4180): a cell holding a comma, a quote or a line break is quoted, its quotes doubled.
public enum CSVText {
    public static func render(header: [String], rows: [[CustomStringConvertible]]) -> String {
        func cell(_ value: CustomStringConvertible) -> String {
            let s = value.description
            guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([header.joined(separator: ",")] + rows.map { $0.map(cell).joined(separator: ",") }).joined(separator: "\n") + "\n"
    }
}

/// emissions.csv: one row per run in CodeCarbon's format (the columns of its EmissionsData, in its
/// order and units), so CodeCarbon's dashboard and anything reading its files read Ringwatt's.
///   duration s; emissions kg CO₂eq (the facility total: IT energy × PUE plus transfer, at
///   --carbon-g-per-kwh); emissions_rate kg/s; *_power W (means over the run); *_energy and
///   energy_consumed kWh (IT energy, before PUE); ram_total_size GB.
/// cpu/gpu/ram energy split the run's joules by what each source measured (RAPL package or the
/// estimate: cpu; NVML: gpu; RAPL dram: ram), in the proportions the power samples show.
enum EmissionsCSV {
    static let fileName = "emissions.csv"
    static let columns = ["timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
                          "cpu_utilization_percent", "ram_utilization_percent", "ram_used_gb", "cpu_power", "gpu_power",
                          "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
                          "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
                          "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model",
                          "longitude", "latitude", "ram_total_size", "tracking_mode", "on_cloud", "pue", "wue"]

    static func render(_ f: RunFigures, runID: String, shares: (cpu: Double, gpu: Double, ram: Double), cpuSeconds: Double,
                       date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let m = f.metadata
        let duration = f.seconds, kWh = f.energyJ / 3.6e6, kg = f.co2G / 1000
        let machines = Double(max(1, f.machines?.count ?? 1)), cpus = Double(m?.cpuCount ?? 1)
        let ramGB = (m?.memoryGB ?? 0) * machines, usedGB = f.peakRssMib * Double(f.ranks) * 1.048576e-3
        func watts(_ share: Double) -> Double { duration > 0 ? f.energyJ * share / duration : 0 }
        let estimated = f.energySource.contains("estimate")
        let row: [CustomStringConvertible] = [
            formatter.string(from: date), "ringwatt", runID, "", duration, kg, duration > 0 ? kg / duration : 0,
            duration > 0 ? 100 * cpuSeconds / (duration * cpus * machines) : 0, ramGB > 0 ? 100 * usedGB / ramGB : 0, usedGB,
            watts(shares.cpu), watts(shares.gpu), watts(shares.ram), kWh * shares.cpu, kWh * shares.gpu, kWh * shares.ram, kWh, 0,
            "", "", "", "", "", "Linux-" + (m?.kernel ?? ""), "", "", Int(cpus * machines), m?.cpuModel ?? "",
            shares.gpu > 0 ? 1 : 0, shares.gpu > 0 ? "NVIDIA (NVML)" : "", "", "", ramGB,
            estimated ? "process" : "machine", "N", f.accounting.pue, 0,
        ]
        return CSVText.render(header: columns, rows: [row])
    }

    /// Each kind's share of the joules the power samples show ("kind,domain" → joules).
    static func shares(_ joulesBySource: [String: Double]) -> (cpu: Double, gpu: Double, ram: Double) {
        let total = joulesBySource.values.reduce(0, +)
        guard total > 0 else { return (1, 0, 0) }
        var gpu = 0.0, ram = 0.0
        for (name, joules) in joulesBySource {
            if name.hasPrefix("nvml,") { gpu += joules } else if name.hasPrefix("rapl,") && name.contains("dram") { ram += joules }
        }
        return ((total - gpu - ram) / total, gpu / total, ram / total)
    }
}

/// metrics.prom: the run's counters in the Prometheus text format, for node_exporter's textfile
/// collector (or any scraper of a file), rewritten atomically at every flush so a live run can be
/// watched. Built with swift-prometheus's registry, which formats and escapes.
final class MetricsExport {
    static let fileName = "metrics.prom"
    private let registry = PrometheusCollectorRegistry()
    private var lastMachineJoules: [Double] = []
    private var lastSeconds = 0.0

    /// The metrics text for the totals so far.
    func render(_ totals: RunTotals, plan: PowerPlan, unit: String) -> String {
        let names = machineNames(plan)
        for (m, machine) in totals.machines.enumerated() {
            let source = plan.machineSourceLabels[m]
            for phase in Phase.allCases {
                let counter = registry.makeCounter(name: "ringwatt_energy_joules_total",
                                                   labels: [("machine", names[m]), ("phase", phase.name), ("source", source)],
                                                   help: "Joules of the machine by training phase (phases apportioned from sampled counters)")
                counter.reset()
                counter.increment(by: machine.phaseJoules[phase.rawValue])
            }
            // Mean power over the span since the previous export.
            let dt = totals.seconds - lastSeconds
            let previous = m < lastMachineJoules.count ? lastMachineJoules[m] : 0
            if dt > 0 {
                registry.makeGauge(name: "ringwatt_power_watts", labels: [("machine", names[m])],
                                   help: "Mean power of the machine since the previous flush")
                    .set(to: (machine.energyJ - previous) / dt)
            }
            if let idle = machine.idleWatts {
                registry.makeGauge(name: "ringwatt_idle_power_watts", labels: [("machine", names[m])],
                                   help: "Power of the machine with every rank asleep, before training").set(to: idle)
            }
        }
        lastMachineJoules = totals.machines.map(\.energyJ)
        lastSeconds = totals.seconds
        set(counter: "ringwatt_comm_bytes_total", help: "Bytes each rank sent in gradient all-reduces", totals.commBytes)
        set(counter: "ringwatt_iterations_total", help: "Training iterations done", Double(totals.iterations))
        set(counter: unit == "token" ? "ringwatt_tokens_total" : "ringwatt_samples_total",
            help: "Training \(unit)s processed by all ranks", Double(totals.samples))
        set(counter: "ringwatt_seconds_total", help: "Seconds of the training loop", totals.seconds)
        return registry.emitToString()
    }

    private func set(counter name: String, help: String, _ value: Double) {
        let c = registry.makeCounter(name: name, labels: [], help: help)
        c.reset()
        c.increment(by: value)
    }

    /// "host" per machine, or "host#m" where host names repeat.
    private func machineNames(_ plan: PowerPlan) -> [String] {
        let hosts = plan.machines.map(\.hostname)
        return hosts.enumerated().map { m, h in hosts.filter { $0 == h }.count > 1 ? "\(h)#\(m)" : h }
    }
}
