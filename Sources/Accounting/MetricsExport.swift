import Energy
import Foundation
import Prometheus
import RunFiles

/// metrics.prom: the run's counters in the Prometheus text format, for node_exporter's textfile
/// collector (or any scraper of a file), rewritten atomically at every flush so a live run can be
/// watched. Built with swift-prometheus's registry, which formats and escapes.
package final class MetricsExport {
    package static let fileName = RunDirectory.metricsFile
    private let registry = PrometheusCollectorRegistry()
    private var lastMachineJoules: [Double] = []
    private var lastSeconds = 0.0

    package init() {}

    /// The metrics text for the totals so far.
    package func render(_ totals: RunTotals, plan: PowerPlan, unit: String) -> String {
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
        if let faults = totals.faults {  // a resumed run: what its faults cost so far
            set(counter: "ringwatt_restarts_total", help: "Times the run was resumed from a checkpoint", Double(faults.restarts))
            set(counter: "ringwatt_redone_iterations_total", help: "Iterations run again after resumes", Double(faults.iterationsRedone))
            set(counter: "ringwatt_wasted_joules_total", help: "Joules of redone iterations and of restart gaps the machines were held through",
                faults.wastedJ)
        }
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
