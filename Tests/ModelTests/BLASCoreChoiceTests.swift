import Foundation
import Testing
import Model
import Support

/// The BLAS core decision as pure functions over fixture CPUs, library answers and measurements;
/// the probe's verification on the library loaded here.
@Suite struct BLASCoreChoiceTests {
    /// /proc/cpuinfo's first entry, shortened to the fields the parser reads.
    static func cpuinfo(vendor: String, family: Int, model: Int, name: String, flags: String) -> String {
        """
        processor\t: 0
        vendor_id\t: \(vendor)
        cpu family\t: \(family)
        model\t\t: \(model)
        model name\t: \(name)
        stepping\t: 2
        flags\t\t: fpu vme sse sse2 ssse3 \(flags)

        processor\t: 1
        vendor_id\t: SomethingElse
        """
    }

    /// The KVM guest of issue 20: Emerald Rapids, AVX-512 with BF16 and FP16.
    static let xeon207 = CPUInfo(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, model: 207, name: "Intel(R) Xeon(R) Processor",
        flags: "sse4_1 sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 avx512_fp16"))!
    static let epyc = CPUInfo(cpuinfo: cpuinfo(vendor: "AuthenticAMD", family: 25, model: 1, name: "AMD EPYC 7B13 64-Core Processor",
                                               flags: "sse4_1 sse4_2 avx avx2 fma"))!
    static let haswell = CPUInfo(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, model: 63, name: "Intel(R) Xeon(R) CPU E5-2680 v3",
                                                  flags: "sse4_1 sse4_2 avx avx2 fma"))!
    static let nehalem = CPUInfo(cpuinfo: cpuinfo(vendor: "GenuineIntel", family: 6, model: 26, name: "Intel(R) Xeon(R) CPU X5570",
                                                  flags: "sse4_1 sse4_2"))!

    @Test func cpuinfoIsParsedFromTheFirstEntry() {
        let cpu = Self.xeon207
        #expect(cpu.vendor == "GenuineIntel" && cpu.family == 6 && cpu.model == 207 && cpu.stepping == 2)
        #expect(cpu.modelName == "Intel(R) Xeon(R) Processor" && cpu.isIntel && !cpu.isAMD)
        #expect(cpu.flags.contains("avx512_bf16") && cpu.vectorLevel == .avx512)
        #expect(Self.epyc.vectorLevel == .avx2 && Self.haswell.vectorLevel == .avx2 && Self.nehalem.vectorLevel == .sse)
        #expect(cpu.description == "Intel family 6 model 207 (Intel(R) Xeon(R) Processor), AVX-512")
        // A hypervisor that hides a flag makes another CPU for the cache.
        var hidden = cpu
        hidden.flags.remove("avx512_fp16")
        #expect(hidden.signature != cpu.signature && hidden.signature.hasPrefix("GenuineIntel-6-207-2-"))
        #expect(CPUInfo(cpuinfo: "processor : 0\n") == nil)
        // AVX-512 needs all of F, BW, VL and DQ for OpenBLAS's SkylakeX kernels.
        var partial = cpu
        partial.flags.remove("avx512vl")
        #expect(partial.vectorLevel == .avx2)
    }

    @Test func whatToMeasureFollowsTheCPUAndTheLibrary() {
        typealias C = BLASCoreChoice
        // Issue 20's machine: 0.3.21 runs Prescott on model 207.
        #expect(C.plan(cpu: Self.xeon207, libraryCore: "Prescott", userCoreType: nil, disabled: false)
                == .measure(["SkylakeX", "Cooperlake", "Haswell"]))
        // An EPYC the library already runs as Zen (or Haswell): nothing changes.
        guard case .keep = C.plan(cpu: Self.epyc, libraryCore: "Zen", userCoreType: nil, disabled: false) else { Issue.record("EPYC/Zen"); return }
        guard case .keep = C.plan(cpu: Self.epyc, libraryCore: "Haswell", userCoreType: nil, disabled: false) else { Issue.record("EPYC/Haswell"); return }
        // An AVX2-only Intel reported as Prescott: Haswell is the only candidate.
        #expect(C.plan(cpu: Self.haswell, libraryCore: "Prescott", userCoreType: nil, disabled: false) == .measure(["Haswell"]))
        // No AVX: nothing better exists.
        guard case .keep = C.plan(cpu: Self.nehalem, libraryCore: "Prescott", userCoreType: nil, disabled: false) else { Issue.record("Nehalem"); return }
        // The user's value is kept; the switch turns the upgrade off; unknown names are not second-guessed.
        #expect(C.plan(cpu: Self.xeon207, libraryCore: "Prescott", userCoreType: "Haswell", disabled: false) == .user("Haswell"))
        #expect(C.plan(cpu: Self.xeon207, libraryCore: "Prescott", userCoreType: "Haswell", disabled: true) == .user("Haswell"))
        guard case .keep(let off) = C.plan(cpu: Self.xeon207, libraryCore: "Prescott", userCoreType: nil, disabled: true),
              off.contains("RINGWATT_BLAS_UPGRADE=off") else { Issue.record("switch"); return }
        guard case .keep = C.plan(cpu: Self.xeon207, libraryCore: "GraniteRapids", userCoreType: nil, disabled: false) else { Issue.record("unknown"); return }
        guard case .keep = C.plan(cpu: nil, libraryCore: "Prescott", userCoreType: nil, disabled: false) else { Issue.record("no cpu"); return }
        // An AMD with AVX-512 (Zen 4) measures Zen too.
        var zen4 = Self.epyc
        zen4.flags.formUnion(["avx512f", "avx512bw", "avx512vl", "avx512dq"])
        #expect(C.candidates(for: zen4) == ["SkylakeX", "Haswell", "Zen"])
    }

    static func result(_ requested: String?, _ core: String, mlp: Double, gpt: Double, verified: Bool = true, accepted: Bool = true) -> BLASProbeResult {
        BLASProbeResult(requested: requested, core: core, accepted: accepted, verified: verified,
                        worstErrorRatio: verified ? 0.2 : 4e5, mlpSeconds: mlp, gptSeconds: gpt)
    }

    @Test func theFastestVerifiedCoreWinsNotTheNewestName() {
        typealias C = BLASCoreChoice
        // Issue 20's figures on model 207 (sgemm on the MLP step's shapes, ms).
        let issue20 = [Self.result("SkylakeX", "SkylakeX", mlp: 0.569, gpt: 5.1), Self.result("Cooperlake", "Cooperlake", mlp: 0.716, gpt: 6.4),
                       Self.result("Haswell", "Haswell", mlp: 0.97, gpt: 8.9), Self.result(nil, "Prescott", mlp: 2.4, gpt: 22)]
        #expect(C.choose(issue20, for: .mlp) == .upgrade(to: "SkylakeX"))
        #expect(C.choose(issue20, for: .gpt) == .upgrade(to: "SkylakeX"))
        // Where Haswell's kernels are faster on the model's shapes, Haswell wins.
        let smallShapes = [Self.result("SkylakeX", "SkylakeX", mlp: 0.9, gpt: 5), Self.result("Haswell", "Haswell", mlp: 0.6, gpt: 9),
                           Self.result(nil, "Prescott", mlp: 2.4, gpt: 22)]
        #expect(C.choose(smallShapes, for: .mlp) == .upgrade(to: "Haswell"))
        #expect(C.choose(smallShapes, for: .gpt) == .upgrade(to: "SkylakeX"))
        // Within the margin, the library's own choice stays (its bits are kept), else the first candidate.
        let close = [Self.result("SkylakeX", "SkylakeX", mlp: 0.500, gpt: 5), Self.result(nil, "Haswell", mlp: 0.510, gpt: 5.05)]
        guard case .keep = C.choose(close, for: .mlp) else { Issue.record("library within margin"); return }
        let tie = [Self.result("SkylakeX", "SkylakeX", mlp: 0.505, gpt: 5), Self.result("Cooperlake", "Cooperlake", mlp: 0.500, gpt: 5),
                   Self.result(nil, "Prescott", mlp: 2, gpt: 20)]
        #expect(C.choose(tie, for: .mlp) == .upgrade(to: "SkylakeX"))
    }

    @Test func aCoreThatFailsVerificationOrIsRefusedIsNeverChosen() {
        typealias C = BLASCoreChoice
        let failing = [Self.result("SkylakeX", "SkylakeX", mlp: 0.5, gpt: 5, verified: false), Self.result("Haswell", "Haswell", mlp: 0.9, gpt: 9),
                       Self.result(nil, "Prescott", mlp: 2.4, gpt: 22)]
        #expect(C.choose(failing, for: .mlp) == .upgrade(to: "Haswell"))
        let allFail = [Self.result("SkylakeX", "SkylakeX", mlp: 0.5, gpt: 5, verified: false), Self.result(nil, "Prescott", mlp: 2.4, gpt: 22)]
        guard case .keep = C.choose(allFail, for: .mlp) else { Issue.record("fell back"); return }
        let onlyCandidatesFail = [Self.result("SkylakeX", "SkylakeX", mlp: 0.5, gpt: 5, verified: false)]
        #expect(C.choose(onlyCandidatesFail, for: .mlp) == .keep("SkylakeX failed verification"))
        let refused = [Self.result("Cooperlake", "Cooperlake", mlp: 0.4, gpt: 4, accepted: false), Self.result(nil, "Prescott", mlp: 2.4, gpt: 22)]
        guard case .keep = C.choose(refused, for: .mlp) else { Issue.record("refused name chosen"); return }
    }

    /// The probe's check passes on the library loaded here (whatever core it runs) and catches a
    /// result that is off by one in one element.
    @Test func verificationPassesACorrectKernelAndCatchesAWrongOne() {
        let good = BLASProbe.verify()
        #expect(good.passed, "worst error ratio \(String(describing: good.worstRatio)) on \(OpenBLAS.coreName)")
        #expect((good.worstRatio ?? 2) < 0.5)
        let bad = BLASProbe.verify(corrupt: true)
        #expect(!bad.passed && (bad.worstRatio ?? .infinity) > 1e3)
    }

    @Test func theLoadedLibraryDescribesItself() {
        #expect(!OpenBLAS.coreName.isEmpty && OpenBLAS.config.hasPrefix("OpenBLAS"))
        #expect(!OpenBLAS.build.contains(" \(OpenBLAS.coreName) "))
        let library = OpenBLAS.library
        #expect(library?.path.contains("openblas") == true, "\(String(describing: library))")
    }
}
