import Foundation
import Testing
import Support

/// The BLAS core choice as a user meets it: under mpirun, with the library's choice pretended
/// weak (RINGWATT_BLAS_TEST_REPORTED), so the re-execution runs on every CPU with candidates.
@Suite(.serialized, .enabled(if: (CPUInfo.current?.vectorLevel ?? .sse) > .sse, "no AVX: no core to upgrade to"))
struct BLASCoreTests {
    static let small = ["--data", "synthetic:3000:64:10", "--layers", "64-32-10", "--batch-size", "16", "--steps", "40", "--idle-seconds", "0"]

    @Test func aWeakLibraryChoiceIsUpgradedOnEveryRankAndCached() throws {
        let dir = Harness.temporaryDirectory(), cache = Harness.temporaryDirectory()
        defer { for d in [dir, cache] { try? FileManager.default.removeItem(atPath: d) } }
        let env = ["RINGWATT_CACHE_DIR": cache, "RINGWATT_BLAS_TEST_REPORTED": "Prescott", "OPENBLAS_CORETYPE": "", "RINGWATT_BLAS_UPGRADE": ""]
        let first = try Harness.mpirun(2, ["train"] + Self.small + ["--out", dir], environment: env)
        #expect(first.status == 0, "\(first.all)")
        // One rank measured (the other waited for the cache), and said so in one line.
        let measured = first.stderr.split(separator: "\n").filter { $0.contains("BLAS: the library chose Prescott") }
        #expect(measured.count == 1, "\(first.stderr)")
        let s = try Harness.json(dir + "/summary.json")
        let blas = s["metadata"]!["blas"]!
        let core = blas["core"]!.string!
        #expect(blas["choice"]!.string! == "upgraded from Prescott", "\(first.all)")
        #expect(s["metadata"]!["blas_core_by_rank"]!.array!.map { $0.string! } == [core, core])
        #expect(first.stdout.contains("BLAS \(core) (upgraded from Prescott)"))
        #expect(s["status"]!.string! == "complete")  // replicas were checked identical at the end
        #expect(FileManager.default.fileExists(atPath: cache + "/blas-cores.json"))

        // The second start reads the cache: no measurement, the same core, the same weights.
        let again = try Harness.mpirun(2, ["train"] + Self.small + ["--out", dir, "--overwrite"], environment: env)
        #expect(again.status == 0 && !again.stderr.contains("BLAS: the library chose"), "\(again.all)")
        let s2 = try Harness.json(dir + "/summary.json")
        #expect(s2["metadata"]!["blas"]!["core"]!.string! == core)
        #expect(s2["parameter_checksum"]!.string! == s["parameter_checksum"]!.string!)
    }

    @Test func aCoreThatFailsVerificationFallsBackToTheLibrarysChoice() throws {
        let dir = Harness.temporaryDirectory(), cache = Harness.temporaryDirectory()
        defer { for d in [dir, cache] { try? FileManager.default.removeItem(atPath: d) } }
        let every = "SkylakeX,Cooperlake,Haswell,Zen,Sandybridge"
        let env = ["RINGWATT_CACHE_DIR": cache, "RINGWATT_BLAS_TEST_REPORTED": "Prescott", "RINGWATT_BLAS_TEST_CORRUPT": every,
                   "OPENBLAS_CORETYPE": "", "RINGWATT_BLAS_UPGRADE": ""]
        let run = try Harness.mpirun(1, ["train"] + Self.small + ["--out", dir], environment: env)
        #expect(run.status == 0, "\(run.all)")
        let line = run.stderr.split(separator: "\n").filter { $0.contains("BLAS:") }
        #expect(line.count == 1 && line[0].contains("FAILED verification") && line[0].contains("keeping the library's Prescott"), "\(run.stderr)")
        let blas = try Harness.json(dir + "/summary.json")["metadata"]!["blas"]!
        #expect(blas["choice"]!.string! == "library" && blas["note"]!.string!.contains("failed verification"), "\(blas)")
    }

    @Test func aUsersCoreTypeIsKeptAndTheUpgradeCanBeTurnedOff() throws {
        let dir = Harness.temporaryDirectory(), cache = Harness.temporaryDirectory()
        defer { for d in [dir, cache] { try? FileManager.default.removeItem(atPath: d) } }
        let user = try Harness.mpirun(1, ["train"] + Self.small + ["--out", dir],
                                      environment: ["RINGWATT_CACHE_DIR": cache, "RINGWATT_BLAS_TEST_REPORTED": "Prescott", "OPENBLAS_CORETYPE": "Prescott"])
        #expect(user.status == 0, "\(user.all)")
        var blas = try Harness.json(dir + "/summary.json")["metadata"]!["blas"]!
        #expect(blas["core"]!.string! == "Prescott" && blas["choice"]!.string! == "user (OPENBLAS_CORETYPE=Prescott)")
        let off = try Harness.mpirun(1, ["train"] + Self.small + ["--out", dir, "--overwrite"],
                                     environment: ["RINGWATT_CACHE_DIR": cache, "RINGWATT_BLAS_TEST_REPORTED": "Prescott",
                                                   "RINGWATT_BLAS_UPGRADE": "off", "OPENBLAS_CORETYPE": ""])
        #expect(off.status == 0 && !off.stderr.contains("BLAS:"), "\(off.all)")
        blas = try Harness.json(dir + "/summary.json")["metadata"]!["blas"]!
        #expect(blas["choice"]!.string! == "library" && blas["note"]!.string!.contains("RINGWATT_BLAS_UPGRADE=off"))
        // Nothing was measured: the cache stays empty.
        #expect(!FileManager.default.fileExists(atPath: cache + "/blas-cores.json"))
        // report and compare show the core, and that two runs differ in it.
        let report = try Harness.ringwatt(["report", dir])
        #expect(report.stdout.contains("BLAS") && report.stdout.contains("RINGWATT_BLAS_UPGRADE=off"))
    }
}
