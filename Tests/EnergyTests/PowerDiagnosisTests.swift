import Foundation
import Testing
import Energy
import Fixtures

/// `ringwatt doctor`'s power findings on fixture powercap trees: readable, root-only, unreadable, absent.
@Suite struct PowerDiagnosisTests {
    func findings(_ t: FixtureTree, isRoot: Bool = true) -> [PowerFinding] {
        PowerDiagnosis.run(powercapRoot: t.root + "/powercap", hwmonRoot: t.root + "/hwmon", isRoot: isRoot)
            .filter { $0.source.hasPrefix("RAPL") }
    }

    @Test func aCounterEveryoneCanReadIsReadable() {
        let t = FixtureTree()
        t.raplZone("powercap/intel-rapl:0", name: "package-0", energy: 10)
        chmod(t.root + "/powercap/intel-rapl:0/energy_uj", 0o444)
        let f = findings(t)
        #expect(f.count == 1 && f[0].status == .readable && f[0].source == "RAPL package-0" && f[0].fix == nil, "\(f)")
    }

    /// Linux ≥ 5.10's mode 0400: root reads it, others can't; the fix is the udev rule.
    @Test func aRootOnlyCounterSaysHowOthersCanReadIt() {
        let t = FixtureTree()
        t.raplZone("powercap/intel-rapl:0", name: "package-0", energy: 10)
        chmod(t.root + "/powercap/intel-rapl:0/energy_uj", 0o400)
        let f = findings(t)
        #expect(f.count == 1 && f[0].status == .rootOnly, "\(f)")
        #expect(f[0].fix?.contains("SUBSYSTEM==\"powercap\"") == true && f[0].fix?.contains("chmod") == true)
        // Not root, and it could be read: this user is in the group already.
        #expect(findings(t, isRoot: false).first?.status == .readable)
    }

    @Test func anUnreadableCounterAndAMissingDriverAreProblemsWithFixes() {
        let t = FixtureTree()
        t.file("powercap/intel-rapl:0/name", "package-0")
        t.file("powercap/intel-rapl:0/max_energy_range_uj", "1000")
        try! FileManager.default.createDirectory(atPath: t.root + "/powercap/intel-rapl:0/energy_uj", withIntermediateDirectories: true)
        let f = findings(t)
        #expect(f.count == 1 && f[0].status == .unreadable && f[0].detail.contains("energy_uj") && f[0].fix != nil, "\(f)")

        let empty = FixtureTree()
        let absent = findings(empty)
        #expect(absent.count == 1 && absent[0].status == .absent && absent[0].fix?.contains("virtual machines") == true, "\(absent)")
    }
}
