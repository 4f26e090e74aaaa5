import Energy
import Foundation

/// emissions.csv: one row per run in CodeCarbon's format (the columns of its EmissionsData, in its
/// order and units), so CodeCarbon's dashboard and anything reading its files read Ringwatt's.
///   duration s; emissions kg CO₂eq (the facility total: IT energy × PUE plus transfer, at
///   --carbon-g-per-kwh); emissions_rate kg/s; *_power W (means over the run); *_energy and
///   energy_consumed kWh (IT energy, before PUE); ram_total_size GB.
/// cpu/gpu/ram energy split the run's joules by what each source measured (RAPL package or the
/// estimate: cpu; NVML: gpu; RAPL dram: ram), in the proportions the power samples show.
package enum EmissionsCSV {
    package static let fileName = RunDirectory.emissionsFile
    package static let columns = ["timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
                          "cpu_utilization_percent", "ram_utilization_percent", "ram_used_gb", "cpu_power", "gpu_power",
                          "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
                          "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
                          "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model",
                          "longitude", "latitude", "ram_total_size", "tracking_mode", "on_cloud", "pue", "wue"]

    package static func render(_ f: RunFigures, runID: String, shares: (cpu: Double, gpu: Double, ram: Double), cpuSeconds: Double,
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
    package static func shares(_ joulesBySource: [String: Double]) -> (cpu: Double, gpu: Double, ram: Double) {
        let total = joulesBySource.values.reduce(0, +)
        guard total > 0 else { return (1, 0, 0) }
        var gpu = 0.0, ram = 0.0
        for (name, joules) in joulesBySource {
            if name.hasPrefix("nvml,") { gpu += joules } else if name.hasPrefix("rapl,") && name.contains("dram") { ram += joules }
        }
        return ((total - gpu - ram) / total, gpu / total, ram / total)
    }
}
