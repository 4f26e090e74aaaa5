import Foundation
import Model
import Testing
@testable import Accounting
@testable import RunFiles
@testable import Trainer

/// The run files are typed: written and read by the same `Codable` types. A run directory written
/// before they were (Tests/Fixtures/runs/v1-mlp-2ranks, by the trainer of commit c9bdc25) still reads.
@Suite struct RunFileSchemaTests {
    static let v1 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
        + "/Fixtures/runs/v1-mlp-2ranks"
    @Test func aRunWrittenBeforeTheTypedSchemaStillReads() throws {
        guard case let .figures(s) = try SummaryFile.read(directory: Self.v1) else { Issue.record("not figures"); return }
        #expect(s.status == .complete && s.ranks == 2 && s.iterations == 40 && s.parameters == 596)
        #expect(s.parameterChecksum == "d1b9f056dc8b1136")
        #expect(s.evaluations.map { $0.metrics.map(\.name) } == [["accuracy"], ["accuracy"]])
        #expect(s.evaluations.map { $0.metrics[0].value } == [0.975975975975976, 1])
        #expect(s.evaluations.map(\.step) == [20, 40], "files from before eval_steps evaluated at epoch ends")
        #expect(s.config.layers == [32, 16, 4] && s.config.batchSize == 50 && s.config.epochs == 2 && s.config.flushEvery == 5)
        #expect(s.config.data == .synthetic(samples: 2000, features: 32, classes: 4))
        #expect(s.secondsByPhase.count == 7 && s.energySource == "estimate" && s.estimate != nil)

        let lines = try IterationLine.readAll(path: Self.v1 + "/iterations.jsonl")
        #expect(lines.count == 40 && lines.map(\.iter) == Array(0..<40))
        #expect(lines[0].loss == 1.938875 && lines[0].samples == 100 && lines[0].rankEnergyJ.count == 2)
        #expect(abs(lines.map(\.energyJ).reduce(0, +) - s.energyJ) < 1e-4 * s.energyJ)

        let checkpoint = try Checkpoint.read(directory: Self.v1)
        #expect(checkpoint.header.step == 40 && checkpoint.header.ranks == 2 && checkpoint.parameters.count == 596)
        #expect(checkpoint.header.evaluations == [Evaluation(step: 20, metrics: [Metric(name: "accuracy", value: 0.975975975975976)]),
                                                  Evaluation(step: 40, metrics: [Metric(name: "accuracy", value: 1)])],
                "old 'accuracies' become evaluations at the epochs' ends")
        #expect(checkpoint.header.totals.iterations == 40 && checkpoint.header.config == s.config)

        let run = try RunOnDisk(path: Self.v1)
        #expect(run.energyByEpoch.count == 2 && run.reach("accuracy", 0.99, higherIsBetter: true)?.joules == run.energyByEpoch[1])
        let reached = try #require(run.reach("accuracy", 0.9, higherIsBetter: true))
        #expect(reached.step == 20 && reached.samples == 2000 && reached.joules == run.energyByEpoch[0])
    }

    @Test func theTypedSchemaWritesTheSameFieldNames() throws {
        let oldText = try String(contentsOfFile: Self.v1 + "/summary.json", encoding: .utf8)
        let old = try JSONSerialization.jsonObject(with: Data(oldText.utf8)) as! [String: NSObject]
        let summary = try RunFileCoding.decode(RunSummary.self, oldText)
        let written = try JSONSerialization.jsonObject(with: try RunFileCoding.encoder().encode(summary)) as! [String: NSObject]
        // A null (no price, so no cost) is now an absent key; every other field is written as it was.
        let present = Set(old.keys.filter { !(old[$0] is NSNull) })
        #expect(present.subtracting(written.keys).isEmpty, "missing: \(present.subtracting(written.keys))")
        for key in present where key != "config" {
            #expect(old[key] == written[key], "\(key): \(old[key]!) → \(written[key].map { "\($0)" } ?? "nil")")
        }
        let oldConfig = old["config"] as! [String: NSObject], newConfig = written["config"] as! [String: NSObject]
        #expect(Set(oldConfig.keys).isSubset(of: newConfig.keys), "config keys added since are new, none renamed")
        for key in oldConfig.keys { #expect(oldConfig[key] == newConfig[key], "config.\(key)") }
        #expect(try RunFileCoding.decode(RunSummary.self, try RunFileCoding.document(summary)) == summary, "round trip")

        let line = try String(contentsOfFile: Self.v1 + "/iterations.jsonl", encoding: .utf8).split(separator: "\n")[3]
        let oldLine = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! NSDictionary
        let newLine = try JSONSerialization.jsonObject(with: Data(try RunFileCoding.line(try RunFileCoding.decode(IterationLine.self, String(line))).utf8)) as! NSDictionary
        #expect(oldLine == newLine)
    }

    @Test func jsonLinesAreWhatJSONEncoderWrites() throws {
        func same<T: Encodable>(_ value: T, _ note: String) throws {
            let mine = try RunFileCoding.lines([value])[0]
            let theirs = String(decoding: try RunFileCoding.encoder().encode(value), as: UTF8.self)
            #expect(mine == theirs, "\(note):\n\(mine)\n\(theirs)")
        }
        let numbers: [Double] = [0, -0.0, 1, -1, 0.5, 0.1, 1.0 / 3, 1e-5, 1e-4, 123456789.125, 1e15, 1e16, 1e21,
                                 2.5e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .nan, .infinity, -.infinity, 4503599627370496]
        var line = IterationLine(iter: 3, epoch: 0, loss: nil, lr: 0.05, seconds: 6.5e-4, computeS: 5.1e-4, commS: 0,
                                 commExposedS: 0, dataS: 1e-5, optimizerS: 4.4e-5, evalS: 0, idleS: 1.7e-6, commBytes: 940_588,
                                 busbwGBps: 4.5, samples: 64, energyJ: .nan, energyComputeJ: .infinity, energyCommJ: -.infinity,
                                 energyOtherJ: -0.0, powerW: 39.96, energySource: "estimate", rankEnergyJ: numbers,
                                 joulesPerSample: nil)
        try same(line, "iteration line, optionals absent")
        line.loss = 2.302585; line.joulesPerSample = 1e-7; line.energyIdleJ = 0; line.energyDynamicJ = 12; line.startS = 1e3
        line.rankEnergyJ = []
        line.energySource = "q\"\\/é€😀 " + String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) })
        try same(line, "iteration line, every field")
        for x in numbers { try same([x], "\(x)"); try same([Float(x)], "Float \(x)") }

        struct Nested: Encodable {
            enum Kind: String, Encodable { case a, b }
            var kind = Kind.b
            var table: [String: [Int]] = ["z": [1, 2], "a": [], "M": [-3]]
            var widths: (Int8, Int16, Int32, Int64, UInt, UInt8, UInt16, UInt32, UInt64) = (-8, -16, -32, .min, .max, 8, 16, 32, .max)
            var flag = true
            var none: String? = nil
            var inner = [["x": 1.5], [:]]
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(kind, forKey: .kind); try c.encode(table, forKey: .table); try c.encode(flag, forKey: .flag)
                try c.encodeIfPresent(none, forKey: .none); try c.encode(inner, forKey: .inner); try c.encodeNil(forKey: .null)
                var w = c.nestedUnkeyedContainer(forKey: .widths)
                try w.encode(widths.0); try w.encode(widths.1); try w.encode(widths.2); try w.encode(widths.3); try w.encode(widths.4)
                try w.encode(widths.5); try w.encode(widths.6); try w.encode(widths.7); try w.encode(widths.8)
                var n = c.nestedContainer(keyedBy: CodingKeys.self, forKey: .nested)
                try n.encode("deep", forKey: .kind)
            }
            enum CodingKeys: String, CodingKey { case kind, table, widths, flag, none, inner, null, nested }
        }
        try same(Nested(), "nested values")
        try same(TrainConfig.defaults(for: .gpt), "the GPT's configuration")
    }


    /// A resume cuts iterations.jsonl back to the checkpoint: the lines past it move to
    /// iterations.redone.jsonl, and the restart record sums them (closed forms: line i took
    /// 0.01 × (i + 1) s and 0.5 × (i + 1) J) and charges the gap at the idle power, if held.
    @Test func aResumeKeepsTheRedoneLinesAndChargesWhatTheFaultCost() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ringwatt-redone-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let lines = (0..<10).map { i in
            IterationLine(iter: i, epoch: 0, loss: 1, lr: 0.1, seconds: 0.01 * Double(i + 1), computeS: 0, commS: 0, commExposedS: 0,
                          dataS: 0, optimizerS: 0, evalS: 0, idleS: 0, commBytes: 0, busbwGBps: 0, samples: 8,
                          energyJ: 0.5 * Double(i + 1), energyComputeJ: 0, energyCommJ: 0, energyOtherJ: 0, powerW: 50,
                          energySource: "estimate", rankEnergyJ: [], joulesPerSample: nil)
        }
        // The ended attempt: ten whole lines and a torn eleventh (killed mid-write).
        try (RunFileCoding.lines(lines).joined(separator: "\n") + "\n{\"iter\": 10, \"ep").write(toFile: dir + "/iterations.jsonl", atomically: true, encoding: .utf8)
        try (RunDirectory.powerHeader + "0,0,0.5,10,estimate,cpu\n0,0,2.5,10,estimate,cpu\n").write(toFile: dir + "/power.csv", atomically: true, encoding: .utf8)
        let directory = try RunDirectory(path: dir, overwrite: false, resumingAt: (iterations: 6, clock: 1.0))
        directory.close()
        let ended = try #require(directory.endedAttempt)
        #expect(ended.redone.map(\.iter) == [6, 7, 8, 9] && ended.status == "no summary (a rank died or hung)")
        #expect(try IterationLine.readAll(path: dir + "/iterations.jsonl").map(\.iter) == Array(0..<6))
        let redoneText = try String(contentsOfFile: dir + "/" + RestartRecord.redoneFile, encoding: .utf8)
        #expect(redoneText.split(separator: "\n").count == 5, "the four lines and the torn one, kept as they were")
        #expect(try String(contentsOfFile: dir + "/power.csv", encoding: .utf8) == RunDirectory.powerHeader + "0,0,0.5,10,estimate,cpu\n")

        let held = RestartRecord(restart: 1, now: Date(timeIntervalSince1970: ended.lastWrite + 10), reason: "rank 1 died",
                                 previousStatus: ended.status, resumedFrom: 6, ranksBefore: 2, ranks: 2, redone: ended.redone,
                                 lastWrite: ended.lastWrite, held: true, idleWatts: 20)
        #expect(held.iterationsRedone == 4)
        #expect(abs(held.redoneS - 0.01 * (7 + 8 + 9 + 10)) < 1e-12 && held.redoneJ == 0.5 * (7 + 8 + 9 + 10))
        #expect(abs(held.gapS - 10) < 1e-6 && abs(held.gapJ! - 200) < 1e-4 && abs(held.wastedJ - 217) < 1e-4)
        let byHand = RestartRecord(restart: 2, now: Date(timeIntervalSince1970: ended.lastWrite + 30), reason: RestartRecord.byHand,
                                   previousStatus: "interrupted", resumedFrom: 20, ranksBefore: 2, ranks: 4, redone: [],
                                   lastWrite: ended.lastWrite, held: false, idleWatts: 20)
        #expect(byHand.gapJ == nil && abs(byHand.gapS - 30) < 1e-6 && byHand.wastedJ == 0)
        var totals = FaultTotals()
        totals.add(held); totals.add(byHand)
        let summary = FaultSummary(totals, iterations: 36, energyJ: 1000)
        #expect(summary.restarts == 2 && summary.iterationsRedone == 4 && summary.goodput == 0.9)
        #expect(abs(summary.wastedJ - 217) < 1e-4 && abs(summary.wastedS - (40 + 0.34)) < 1e-5 && abs(summary.energyWithWasteJ - 1217) < 1e-4)
        // The record round-trips through restarts.jsonl.
        try (RunFileCoding.line(held) + "\n" + RunFileCoding.line(byHand) + "\n").write(toFile: dir + "/" + RestartRecord.fileName, atomically: true, encoding: .utf8)
        #expect(try RestartRecord.readAll(directory: dir) == [held, byHand])
        // A crash mid-append tears the last line: it is not a record, and the next append cuts it off.
        let torn = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/" + RestartRecord.fileName))
        torn.seekToEndOfFile(); torn.write(Data("{\"restart\":3,\"ti".utf8)); torn.closeFile()
        #expect(try RestartRecord.readAll(directory: dir) == [held, byHand])
        let again = try RunDirectory(path: dir, overwrite: false, resumingAt: (iterations: 6, clock: 1.0))
        try again.appendRestart(held)
        again.close()
        #expect(try RestartRecord.readAll(directory: dir) == [held, byHand, held])
    }
}
