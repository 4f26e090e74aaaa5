import Foundation
import Testing
import Fixtures

/// `ringwatt doctor` on this machine and on a fixture powercap tree.
@Suite struct DoctorTests {
    @Test func doctorNamesTheCPUTheBLASCoreMPIAndEachPowerProblemWithItsFix() throws {
        let t = FixtureTree()
        t.raplZone("powercap/intel-rapl:0", name: "package-0", energy: 10)
        chmod(t.root + "/powercap/intel-rapl:0/energy_uj", 0o400)
        let run = try Harness.ringwatt(["doctor", "--powercap-root", t.root + "/powercap", "--hwmon-root", t.root + "/hwmon"])
        #expect(run.status == 0, "\(run.all)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("cpu ") && $0.contains("family") }, "\(run.stdout)")
        #expect(lines.contains { $0.hasPrefix("blas ") && $0.contains("OpenBLAS") })
        #expect(lines.contains { $0.hasPrefix("mpi ") && $0.contains("MPI") })
        #expect(lines.contains { $0.contains("RAPL package-0: root only") })
        #expect(lines.contains { $0.hasPrefix("  - RAPL package-0:") && $0.contains("udev") })

        let bad = try Harness.ringwatt(["doctor", "--workload", "cnn"])
        #expect(bad.status != 0 && bad.stderr.contains("--workload"))
    }
}
