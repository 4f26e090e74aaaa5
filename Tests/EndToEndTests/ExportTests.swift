import Foundation
import Testing

/// The run files other tools read, read by those tools' own parsers: emissions.csv by pandas with
/// CodeCarbon's columns, metrics.prom by prometheus_client's text parser, and the metadata a
/// scheduler join needs in summary.json.
@Suite(.serialized) struct ExportTests {
    static let small = ["--data", "synthetic:2400:32:4", "--layers", "32-16-4", "--epochs", "2", "--flush-every", "10"]

    /// Runs Python (the python3 on PATH, where install-deps.sh put pandas and prometheus-client).
    static func python(_ code: String, _ arguments: [String]) throws -> Harness.Output {
        try Harness.run("/usr/bin/env", ["python3", "-c", code] + arguments)
    }

    @Test func emissionsCSVReadsAsCodeCarbons() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.mpirun(2, ["train", "--quiet", "--out", dir] + Self.small + ["--carbon-g-per-kwh", "400", "--pue", "1.5"])
        #expect(run.status == 0, "\(run.all)")
        // CodeCarbon's EmissionsData fields, in order (codecarbon/output_methods/emissions_data.py).
        let check = """
        import json, sys, pandas as pd
        columns = ["timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
                   "cpu_utilization_percent", "ram_utilization_percent", "ram_used_gb", "cpu_power", "gpu_power", "ram_power",
                   "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed", "country_name",
                   "country_iso_code", "region", "cloud_provider", "cloud_region", "os", "python_version", "codecarbon_version",
                   "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude", "ram_total_size",
                   "tracking_mode", "on_cloud", "pue", "wue"]
        df = pd.read_csv(sys.argv[1] + "/emissions.csv")
        s = json.load(open(sys.argv[1] + "/summary.json"))
        assert list(df.columns) == columns, list(df.columns)
        assert len(df) == 1
        row = df.iloc[0]
        kwh = s["energy_j"] / 3.6e6
        assert abs(row["energy_consumed"] - kwh) < 1e-9 * max(1, kwh) + 1e-15, (row["energy_consumed"], kwh)
        assert abs(row["cpu_energy"] + row["gpu_energy"] + row["ram_energy"] - row["energy_consumed"]) < 1e-15
        assert abs(row["emissions"] - s["co2_g"] / 1000) < 1e-12, (row["emissions"], s["co2_g"])
        assert abs(s["co2_g"] - s["accounting"]["e_total_j"] / 3.6e6 * 400) < 1e-9, "at --carbon-g-per-kwh, PUE included"
        assert abs(row["duration"] - s["seconds"]) < 1e-9 and row["pue"] == 1.5
        assert abs(row["cpu_power"] - s["energy_j"] / s["seconds"]) < 1e-6
        assert row["run_id"] == s["metadata"]["run_id"] and row["tracking_mode"] == "process"
        pd.to_datetime(row["timestamp"], format="%Y-%m-%dT%H:%M:%S")
        print("ok")
        """
        let out = try Self.python(check, [dir])
        #expect(out.status == 0 && out.stdout.contains("ok"), "\(out.all)")
    }

    @Test func metricsParseWithPrometheusClientAndMatchTheSummary() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.mpirun(3, ["train", "--quiet", "--out", dir] + Self.small)
        #expect(run.status == 0, "\(run.all)")
        let check = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1] + "/metrics.prom").read())}
        s = json.load(open(sys.argv[1] + "/summary.json"))
        def value(name, **labels):
            return [x.value for x in families[name].samples if all(x.labels.get(k) == v for k, v in labels.items())]
        assert families["ringwatt_energy_joules"].type == "counter"
        energy = value("ringwatt_energy_joules")
        assert len(energy) == 7, energy  # one machine × seven phases
        assert abs(sum(energy) - s["energy_j"]) < 1e-6 * s["energy_j"], (sum(energy), s["energy_j"])
        phases = {x.labels["phase"]: x.value for x in families["ringwatt_energy_joules"].samples}
        assert abs(phases["compute"] - s["energy_by_phase_j"]["compute"]) < 1e-6 * s["energy_j"]
        assert all(x.labels["source"] == "estimate" for x in families["ringwatt_energy_joules"].samples)
        assert value("ringwatt_iterations")[0] == s["iterations"]
        assert value("ringwatt_samples")[0] == s["samples"]
        assert abs(value("ringwatt_comm_bytes")[0] - s["comm_bytes"]) < 1
        assert families["ringwatt_power_watts"].type == "gauge" and value("ringwatt_power_watts")[0] > 0
        assert value("ringwatt_idle_power_watts")[0] == s["idle_power_w"]
        print("ok")
        """
        let out = try Self.python(check, [dir])
        #expect(out.status == 0 && out.stdout.contains("ok"), "\(out.all)")
    }

    @Test func summaryCarriesTheRunsMetadata() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Harness.run("/usr/bin/env", ["SLURM_JOB_ID=4242", "SLURM_STEP_ID=0", Harness.binary, "train", "--quiet",
                                                   "--out", dir] + Self.small)
        #expect(run.status == 0, "\(run.all)")
        let m = try #require(try Harness.json(dir + "/summary.json")["metadata"])
        #expect(m["slurm_job_id"]?.string == "4242" && m["slurm_step_id"]?.string == "0")
        #expect(m["mpi_library"]?.string?.hasPrefix("Open MPI") == true, "\(m)")
        #expect(m["kernel"]?.string == (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(m["git_commit"]?.string?.count == 40, "built in this checkout: \(m)")
        #expect((m["cpu_model"]?.string ?? "").isEmpty == false && m["ringwatt_version"]?.string != nil)
        guard case let .array(hosts)? = m["hostnames"] else { Issue.record("hostnames"); return }
        #expect(hosts.count == 1)
    }
}
