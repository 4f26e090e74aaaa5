import Foundation
import Model
import Testing
@testable import Accounting
@testable import RunFiles
@testable import Trainer

/// The run files are typed: written and read by the same `Codable` types. A run directory written
/// before they were (Tests/Fixtures/runs/v1-mlp-2ranks, by the trainer of commit c9bdc25) still reads.
@Suite struct RunFilesTests {
    static let v1 = Harness.repository + "/Tests/Fixtures/runs/v1-mlp-2ranks"

    /// Field names stay: every (non-null) field of the old files is in what the typed schema writes, with the same value.
    @Test func reportAndCompareReadTheOldRun() throws {
        let report = try Harness.ringwatt(["report", Self.v1])
        #expect(report.status == 0 && report.stdout.contains("test accuracy 100.00 %") && report.stdout.contains("2 / 1"), "\(report.all)")
        let compare = try Harness.ringwatt(["compare", Self.v1, "--target-accuracy", "0.99"])
        #expect(compare.status == 0 && compare.stdout.contains("lowest energy per epoch: 1 node(s)"), "\(compare.all)")
    }

    /// Every config key a run file holds is one the configuration type reads back, and the
    /// command line's defaults are the configuration type's.
    @Test func configurationRoundTripsAndDefaultsComeFromOnePlace() throws {
        var c = TrainConfig()
        c.bucketBytes = 1234; c.overlap = false; c.steps = 7; c.accounting.pricePerKWh = 0.3; c.powercapRoot = "/tmp/x"
        let back = try RunFileCoding.decode(TrainConfig.self, try RunFileCoding.line(c))
        #expect(back == c)
        #expect(try RunFileCoding.decode(TrainConfig.self, "{}") == TrainConfig(), "absent keys keep the defaults")
        #expect(c.differingKeys(from: TrainConfig()).sorted() == ["bucket_bytes", "overlap", "powercap_root", "price_per_kwh", "steps"])
        let help = try Harness.ringwatt(["train", "--help"]).stdout
            .replacingOccurrences(of: #"\s*\n\s*"#, with: " ", options: .regularExpression)  // as flowed text
        #expect(help.contains("(default: 784-256-128-10)") && help.contains("(default: 64 for mlp, 8 for gpt)")
                && help.contains("(default: 0.1 for mlp, 0.003 for gpt)"), "\(help)")
    }

    /// JSON lines (iterations.jsonl, the configuration, checkpoint headers) are written by
    /// `JSONText`, not JSONEncoder: byte for byte the same text, for awkward numbers and strings,
    /// absent optionals, nested objects, dictionaries, arrays, integers of every width and enums.
}
