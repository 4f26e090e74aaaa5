import Foundation
import Testing
import Support
@testable import Datasets

func idxBytes(dims: [Int], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
    var b: [UInt8] = [0, 0, type, UInt8(dims.count)]
    for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
    return b + data
}

/// A fresh temporary directory, removed by the caller's `defer`.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "ringwatt-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Plain (non-atomic) write: FileManager.createFile on Linux leaves a TemporaryDirectory.* behind in /tmp.
func write(_ bytes: [UInt8], to path: String) { try! Data(bytes).write(to: URL(fileURLWithPath: path)) }

func gzip(_ path: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-f", "-k", path]
    try! p.run(); p.waitUntilExit()
}

@Suite struct IDXTests {
    @Test func parsesImagesAndLabels() throws {
        let a = try IDXArray.parse(idxBytes(dims: [2, 2, 3], data: Array(0..<12)), path: "x")
        #expect(a.dimensions == [2, 2, 3])
        #expect(a.data == Array(0..<12))
    }

    @Test func rejectsBadInputWithTheReason() {
        let cases: [([UInt8], String)] = [
            ([], "not an IDX file"),
            ([0, 0, 8], "not an IDX file"),
            ([1, 2, 3, 4, 0, 0, 0, 0], "not an IDX file"),
            (idxBytes(dims: [2], data: [1, 2], type: 0x0D), "element type 0xd"),
            ([0, 0, 8, 3, 0, 0, 0, 1], "truncated"),
            (idxBytes(dims: [3, 2], data: [1, 2, 3]), "truncated: header promises 6 bytes of data, file has 3"),
            (idxBytes(dims: [1, 2], data: [1, 2, 3]), "1 bytes after"),
            (idxBytes(dims: [0x7fffffff, 0x7fffffff, 0x7fffffff], data: []), "implausibly large"),
        ]
        for (bytes, words) in cases {
            do {
                _ = try IDXArray.parse(bytes, path: "f.idx")
                Issue.record("accepted \(bytes)")
            } catch {
                #expect("\(error)".contains(words), "\(error) should say '\(words)'")
                #expect("\(error)".contains("f.idx"))
            }
        }
    }

    /// Random and truncated bytes: always a thrown error or a consistent array, never a crash.
    @Test func fuzzRandomAndTruncatedInput() {
        var rng = SplitMix64(seed: 42)
        let valid = idxBytes(dims: [3, 4, 5], data: (0..<60).map { UInt8($0) })
        var accepted = 0
        for trial in 0..<5000 {
            var bytes: [UInt8]
            switch trial % 3 {
            case 0: bytes = (0..<rng.nextInt(below: 40)).map { _ in UInt8(rng.nextInt(below: 256)) }
            case 1: bytes = Array(valid.prefix(rng.nextInt(below: valid.count + 1)))
            default:
                bytes = valid
                for _ in 0..<3 { bytes[rng.nextInt(below: bytes.count)] = UInt8(rng.nextInt(below: 256)) }
            }
            if let a = try? IDXArray.parse(bytes, path: "fuzz") {
                accepted += 1
                #expect(a.data.count == a.dimensions.reduce(1, *))
            }
        }
        #expect(accepted > 0 && accepted < 5000)
    }

    @Test func readsGzippedAndPlainFilesAndRejectsCorruptGzip() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let images = idxBytes(dims: [4, 2, 2], data: (0..<16).map { UInt8($0 * 10) })
        write(images, to: dir + "/img")
        gzip(dir + "/img")
        #expect(try readFileBytes(dir + "/img") == images)
        #expect(try readFileBytes(dir + "/img.gz") == images)

        // Truncated gzip stream.
        let gz = try Data(contentsOf: URL(fileURLWithPath: dir + "/img.gz"))
        write(Array(gz.prefix(gz.count - 12)), to: dir + "/cut.gz")
        #expect(throws: DatasetError.self) { try readFileBytes(dir + "/cut.gz") }
        // Corrupt deflate data (CRC or stream error).
        var corrupt = Array(gz)
        for i in 12..<min(corrupt.count - 8, 20) { corrupt[i] ^= 0xFF }
        write(corrupt, to: dir + "/bad.gz")
        do { _ = try readFileBytes(dir + "/bad.gz"); Issue.record("corrupt gzip accepted") } catch {
            #expect("\(error)".contains("bad.gz"))
        }
        do { _ = try readFileBytes(dir + "/missing"); Issue.record("missing file accepted") } catch {
            #expect("\(error)".contains("cannot open") && "\(error)".contains("no such file or directory"))
        }
    }

    @Test func datasetChecksCountsAndLabels() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        write(idxBytes(dims: [3, 2, 2], data: Array(repeating: 7, count: 12)), to: dir + "/img")
        write(idxBytes(dims: [3], data: [0, 9, 4]), to: dir + "/lab")
        write(idxBytes(dims: [2], data: [0, 1]), to: dir + "/lab2")
        write(idxBytes(dims: [3], data: [0, 10, 4]), to: dir + "/lab10")
        let d = try Dataset.loadIDX(images: dir + "/img", labels: dir + "/lab")
        #expect(d.count == 3 && d.features == 4 && d.classes == 10)
        #expect(throws: DatasetError.countMismatch(images: 3, labels: 2)) {
            try Dataset.loadIDX(images: dir + "/img", labels: dir + "/lab2")
        }
        #expect(throws: DatasetError.labelOutOfRange(path: dir + "/lab10", index: 1, label: 10, classes: 10)) {
            try Dataset.loadIDX(images: dir + "/img", labels: dir + "/lab10")
        }
        #expect(throws: DatasetError.self) { try Dataset.loadIDX(images: dir + "/lab", labels: dir + "/lab") }
    }

    @Test func fashionMNISTFromDebianLoadsWhenInstalled() throws {
        let dir = "/usr/share/datasets/fashion-mnist"
        try #require(FileManager.default.fileExists(atPath: dir), "dataset-fashion-mnist is installed by scripts/install-deps.sh")
        let test = try Dataset.loadIDX(images: dir + "/t10k-images-idx3-ubyte.gz", labels: dir + "/t10k-labels-idx1-ubyte.gz")
        #expect(test.count == 10000 && test.features == 784)
        #expect(Set(test.labels) == Set(0..<10))
    }

    @Test func batchConverterNormalises() throws {
        let d = try Dataset(images: [0, 255, 51, 102], labels: [3, 1], features: 2, classes: 10)
        let conv = BatchConverter(mean: 0.5, std: 0.5)
        var x = [Float](repeating: 0, count: 4)
        var y = [UInt8](repeating: 0, count: 2)
        conv.fill(&x, &y, from: d, indices: [1, 0][...])
        #expect(y == [1, 3])
        #expect(x[2] == -1 && x[3] == 1)
        #expect(abs(x[0] - (0.2 - 0.5) / 0.5) < 1e-6)
        // Every byte value, bit for bit the scalar definition, rows in index order (17 features: vector tails).
        let f = 17, n = 256 / f + 1
        let all = try Dataset(images: (0..<(n * f)).map { UInt8(truncatingIfNeeded: $0 * 7) }, labels: [UInt8](repeating: 0, count: n),
                              features: f, classes: 2)
        let order = (0..<n).reversed().map(Int32.init)
        var out = [Float](repeating: 0, count: n * f), labels = [UInt8](repeating: 9, count: n)
        BatchConverter().fill(&out, &labels, from: all, indices: order[...])
        let mean: Float = 0.2860, std: Float = 0.3530
        for (r, index) in order.enumerated() {
            for i in 0..<f {
                let expected = (Float(all.images[Int(index) * f + i]) / 255 - mean) / std
                #expect(out[r * f + i].bitPattern == expected.bitPattern)
            }
        }
    }

    @Test func syntheticIsDeterministic() throws {
        let a = try Dataset.synthetic(count: 50, features: 8, classes: 3, seed: 1)
        let b = try Dataset.synthetic(count: 50, features: 8, classes: 3, seed: 1)
        #expect(a.images == b.images && a.labels == b.labels)
        #expect(a.labels.allSatisfy { $0 < 3 })
        #expect(throws: DatasetError.self) { try Dataset.synthetic(count: 0, features: 8, classes: 3, seed: 1) }
    }
}

@Suite struct SamplerTests {
    @Test(arguments: [1, 2, 3, 4, 7])
    func sharesAreDisjointEqualAndComplete(ranks: Int) {
        let n = 1003
        let shares = (0..<ranks).map { DistributedSampler(count: n, ranks: ranks, rank: $0, seed: 5).indices(epoch: 2) }
        #expect(Set(shares.map(\.count)) == [n / ranks])
        let all = shares.flatMap { $0 }
        #expect(Set(all).count == all.count, "disjoint")
        #expect(all.count == n - n % ranks, "complete up to the n mod p remainder dropped")
        #expect(all.allSatisfy { $0 >= 0 && $0 < n })
    }

    @Test func epochsAndSeedsChangeTheOrderDeterministically() {
        let s = DistributedSampler(count: 500, ranks: 2, rank: 1, seed: 9)
        #expect(s.indices(epoch: 0) == s.indices(epoch: 0))
        #expect(s.indices(epoch: 0) != s.indices(epoch: 1))
        #expect(DistributedSampler(count: 500, ranks: 2, rank: 1, seed: 10).indices(epoch: 0) != s.indices(epoch: 0))
        #expect(s.batchesPerEpoch(batchSize: 64) == 4)
    }
}

/// The sampler after an epoch's first positions: every rank's share is the permutation from
/// there on, interleaved, so a job that resumes mid-epoch with another rank count or batch takes
/// exactly the samples its predecessor had not.
@Suite struct DistributedSamplerSkippingTests {
    @Test func theRanksTakeThePermutationFromWhereItStood() {
        let count = 3841
        for (ranks, skip) in [(1, 0), (2, 0), (3, 7), (4, 1152), (2, 3840), (4, 5000)] {
            let samplers = (0..<ranks).map { DistributedSampler(count: count, ranks: ranks, rank: $0, seed: 9) }
            let whole = DistributedSampler(count: count, ranks: 1, rank: 0, seed: 9).indices(epoch: 3)
            let shares = samplers.map { $0.indices(epoch: 3, skipping: skip) }
            let per = max(0, (count / ranks) * ranks - skip) / ranks
            #expect(shares.allSatisfy { $0.count == per }, "\(ranks) ranks, skipping \(skip)")
            for k in 0..<per { for r in 0..<ranks { #expect(shares[r][k] == whole[skip + k * ranks + r]) } }
            #expect(samplers[0].batchesPerEpoch(batchSize: 16, skipping: skip) == (per + 15) / 16)
        }
        // Two steps of 2 × 16 are the first step of 4 × 16 skipping nothing, and so on: a global
        // step of B samples is positions s·B ..< (s+1)·B, however it is split.
        let two = (0..<2).map { DistributedSampler(count: count, ranks: 2, rank: $0, seed: 1).indices(epoch: 0) }
        let four = (0..<4).map { DistributedSampler(count: count, ranks: 4, rank: $0, seed: 1).indices(epoch: 0, skipping: 64) }
        let stepsTwo = Set((2..<4).flatMap { s in two.flatMap { $0[(s * 16)..<((s + 1) * 16)] } })
        let stepFour = Set(four.flatMap { $0[0..<16] })
        #expect(stepsTwo == stepFour)
    }
}
