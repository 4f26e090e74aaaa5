import Foundation
import Testing

/// The GPT under mpirun: determinism across reruns at every rank count, overlap that changes no
/// bits, what the run files say about tokens and joules, and its bad inputs.
@Suite(.serialized) struct LanguageModelTests {
    static let tiny = ["train", "--model", "gpt", "--size", "tiny", "--batch-size", "4", "--steps", "24",
                       "--flush-every", "6", "--eval-windows", "32", "--warmup-steps", "5"]

    @Test(arguments: [1, 2, 3, 4])
    func reruns(ranks: Int) throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var checksums: [String] = []
        for run in ["a", "b"] {
            let out = try Harness.mpirun(ranks, Self.tiny + ["--out", "\(dir)/\(run)"])
            #expect(out.status == 0, "\(out.all)")
            checksums.append(try Harness.json("\(dir)/\(run)/summary.json")["parameter_checksum"]?.string ?? "")
        }
        #expect(checksums[0] == checksums[1] && !checksums[0].isEmpty, "same seed and ranks, same bits (replicas are checked at the end of each run)")
        let s = try Harness.json("\(dir)/a/summary.json")
        #expect(s["sample_unit"]?.string == "token" && s["samples"]?.double == Double(24 * 4 * 16 * ranks))
        let loss = s["test_loss"]?.double ?? .nan, bpb = s["test_bits_per_byte"]?.double ?? .nan
        #expect(loss > 0 && loss < 6 && abs(bpb - loss / log(2)) < 1e-9, "val loss \(loss), bits per byte \(bpb)")
        let lines = try Harness.lines("\(dir)/a/iterations.jsonl")
        #expect(lines.count == 24)
        for line in lines {
            let j = line["energy_j"]!.double!, n = line["samples"]!.double!
            #expect(n == Double(4 * 16 * ranks) && abs(line["joules_per_sample"]!.double! - j / n) <= 1e-6 * j / n + 1e-12)
        }
        let first = lines.first!["loss"]!.double!, last = lines.last!["loss"]!.double!
        #expect(first > 5 && last < first, "learns: \(first) → \(last)")
    }

    /// --eval-every: evaluations at those steps, and compare's energy and tokens to reach a validation loss.
    @Test func evaluationsEveryNStepsAndEnergyToReachATarget() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Harness.mpirun(2, Self.tiny + ["--eval-every", "8", "--out", dir + "/run"])
        #expect(out.status == 0, "\(out.all)")
        let s = try Harness.json(dir + "/run/summary.json")
        guard case let .array(steps)? = s["eval_steps"], case let .array(losses)? = s["test_loss_per_epoch"] else {
            Issue.record("eval_steps, test_loss_per_epoch: \(s)"); return
        }
        #expect(steps.compactMap(\.double) == [8, 16, 24] && losses.count == 3)
        let second = losses[1].double!
        let compare = try Harness.ringwatt(["compare", dir + "/run", "--target-val-loss", String(second), "--csv", dir + "/c.csv"])
        #expect(compare.status == 0, "\(compare.all)")
        let rows = try String(contentsOfFile: dir + "/c.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",") }
        let column = { (name: String) in rows[1][rows[0].firstIndex(of: Substring(name))!] }
        let lines = try Harness.lines(dir + "/run/iterations.jsonl")
        let firstReach = losses.firstIndex { $0.double! <= second }!
        let upTo = Int(steps[firstReach].double!)
        #expect(column("tokens_to_target") == "\(upTo * 2 * 4 * 16)", "tokens of the first \(upTo) steps")
        let joules = lines.prefix(upTo).map { $0["energy_j"]!.double! }.reduce(0, +)
        #expect(abs(Double(column("energy_to_target_j"))! - joules) <= 0.05 + 1e-3 * joules, "energy of the first \(upTo) steps")
        #expect(rows[0].contains("val_loss") && rows[0].contains("j_per_token"))
    }

    @Test func overlapDoesNotChangeTheBits() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var checksums: [String] = []
        for overlap in ["on", "off"] {
            let out = try Harness.mpirun(3, Self.tiny + ["--overlap", overlap, "--bucket-mb", "0.01", "--out", "\(dir)/\(overlap)"])
            #expect(out.status == 0, "\(out.all)")
            let s = try Harness.json("\(dir)/\(overlap)/summary.json")
            checksums.append(s["parameter_checksum"]?.string ?? "")
            guard case let .array(buckets)? = s["comm_buckets_bytes"] else { Issue.record("buckets"); continue }
            // 10 kB buckets: the final LN (256 B) joins block 1 (50 kB); block 0; the embeddings.
            #expect(buckets.count == 3, "final LN + block 1, block 0, embeddings: \(buckets)")
        }
        #expect(checksums[0] == checksums[1] && !checksums[0].isEmpty)
    }

    @Test func badLanguageModelInputs() throws {
        for (arguments, words) in [(["--n-embd", "30", "--n-head", "4"], ["--n-embd (30) must be a multiple of --n-head (4)"]),
                                   (["--data", "/nonexistent/corpus"], ["cannot open /nonexistent/corpus"]),
                                   (["--context", "0"], ["--context must be positive"]),
                                   (["--grad-clip=-1"], ["--grad-clip must be ≥ 0"])] {
            let scratch = Harness.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let out = try Harness.mpirun(2, Self.tiny + arguments + ["--out", scratch + "/run"])
            #expect(out.status != 0, "accepted \(arguments)")
            #expect(!FileManager.default.fileExists(atPath: scratch + "/run"), "a refused run leaves no run directory")
            for w in words { #expect(out.stderr.contains(w), "stderr should say '\(w)':\n\(out.stderr)") }
        }
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("tiny".utf8).write(to: URL(fileURLWithPath: dir + "/small.txt"))
        let small = try Harness.mpirun(1, Self.tiny + ["--data", dir + "/small.txt", "--out", dir + "/run"])
        #expect(small.status != 0 && small.stderr.contains("fewer than one window of 17"), "\(small.all)")
        let text = try Harness.mpirun(1, ["train", "--data", "text:" + dir + "/small.txt", "--out", dir + "/mlp"])
        #expect(text.status != 0 && text.stderr.contains("--model mlp reads labelled images"), "\(text.all)")
    }

    /// `ringwatt sample`: a model trained a few hundred steps on a repeating sentence writes that
    /// sentence back greedily; it refuses an MLP run and a run with neither weights nor checkpoint,
    /// and names truncated weights.
    @Test func sampleWritesWhatTheModelLearnt() throws {
        let dir = Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sentence = "the cat sat on the mat. "
        try String(repeating: sentence, count: 3000).write(toFile: dir + "/c.txt", atomically: false, encoding: .utf8)
        let train = try Harness.mpirun(1, ["train", "--model", "gpt", "--size", "tiny", "--batch-size", "8", "--steps", "300",
                                           "--data", dir + "/c.txt", "--eval-windows", "8", "--idle-seconds", "0", "--out", dir + "/run"])
        #expect(train.status == 0, "\(train.all)")
        let greedy = try Harness.ringwatt(["sample", dir + "/run", "--prompt", "the cat", "--length", "41", "--temperature", "0"])
        #expect(greedy.status == 0 && greedy.stdout == "the cat" + String(String(repeating: sentence, count: 3).dropFirst(7).prefix(41)) + "\n",
                "\(greedy.all)")
        let a = try Harness.ringwatt(["sample", dir + "/run", "--seed", "9"]), b = try Harness.ringwatt(["sample", dir + "/run", "--seed", "9"])
        #expect(a.status == 0 && a.stdout == b.stdout)

        let mlp = dir + "/mlp"
        #expect(try Harness.mpirun(1, ["train", "--data", "synthetic:600:8:3", "--layers", "8-4-3", "--steps", "5", "--out", mlp]).status == 0)
        let wrong = try Harness.ringwatt(["sample", mlp])
        #expect(wrong.status != 0 && wrong.stderr.contains("is a run of the MLP"), "\(wrong.all)")
        let weights = try Data(contentsOf: URL(fileURLWithPath: dir + "/run/weights.bin"))
        try weights.prefix(100).write(to: URL(fileURLWithPath: dir + "/run/weights.bin"))
        let truncated = try Harness.ringwatt(["sample", dir + "/run"])
        #expect(truncated.status != 0 && truncated.stderr.contains("holds 100 bytes") && truncated.stderr.contains("--checkpoint"), "\(truncated.all)")
        #expect(try Harness.ringwatt(["sample", dir + "/run", "--checkpoint", "--length", "5"]).status == 0)
        let empty = try Harness.ringwatt(["sample", dir])
        #expect(empty.status != 0 && empty.stderr.contains("neither weights.bin nor checkpoint.bin"), "\(empty.all)")
    }
}
