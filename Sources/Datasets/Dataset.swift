import CKernels
import Support

/// A labelled data set kept as bytes in memory (1 byte per pixel, as on disk); batches are
/// converted to normalised floats as they are drawn.
public struct Dataset: Sendable {
    public var images: [UInt8]
    public var labels: [UInt8]
    public var features: Int
    public var classes: Int
    public var count: Int { labels.count }
    /// FNV-1a of shape and every byte: ranks compare it to be sure they loaded the same data.
    public var fingerprint: UInt64 {
        var h = FNV1a()
        h.mix(UInt64(features)); h.mix(UInt64(classes)); h.mix(UInt64(count))
        for b in labels { h.mix(UInt64(b)) }
        var i = 0
        while i < images.count { h.mix(UInt64(images[i])); i += 97 }  // sampled: 47 MB in ~1 ms
        return h.value
    }

    public init(images: [UInt8], labels: [UInt8], features: Int, classes: Int) throws {
        guard features > 0 else { throw DatasetError.invalid("data set has no features") }
        guard classes >= 2 else { throw DatasetError.invalid("data set needs at least 2 classes, got \(classes)") }
        guard images.count == labels.count * features else {
            throw DatasetError.countMismatch(images: images.count / features, labels: labels.count)
        }
        self.images = images; self.labels = labels; self.features = features; self.classes = classes
    }

    /// Loads an IDX pair: images (N, rows, cols) or (N, features), labels (N), labels < classes.
    public static func loadIDX(images imagesPath: String, labels labelsPath: String, classes: Int = 10) throws -> Dataset {
        let images = try IDXArray.load(imagesPath)
        let labels = try IDXArray.load(labelsPath)
        guard images.dimensions.count >= 2 else {
            throw DatasetError.wrongRank(path: imagesPath, expected: "images (N, rows, cols)", found: images.dimensions.count)
        }
        guard labels.dimensions.count == 1 else {
            throw DatasetError.wrongRank(path: labelsPath, expected: "labels (N)", found: labels.dimensions.count)
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DatasetError.countMismatch(images: images.dimensions[0], labels: labels.dimensions[0])
        }
        if let bad = labels.data.firstIndex(where: { Int($0) >= classes }) {
            throw DatasetError.labelOutOfRange(path: labelsPath, index: bad, label: Int(labels.data[bad]), classes: classes)
        }
        let features = images.dimensions.dropFirst().reduce(1, *)
        guard images.dimensions[0] > 0 else { throw DatasetError.invalid("\(imagesPath) holds no images") }
        return try Dataset(images: images.data, labels: labels.data, features: features, classes: classes)
    }

    /// A learnable synthetic set for benchmarks: each class a random prototype of byte values,
    /// each sample its class's prototype plus uniform noise of ±`noise`, clamped to 0…255.
    public static func synthetic(count: Int, features: Int, classes: Int, seed: UInt64, noise: Int = 60) throws -> Dataset {
        guard count > 0, features > 0, classes >= 2 else {
            throw DatasetError.invalid("synthetic data needs samples > 0, features > 0, classes ≥ 2")
        }
        var rng = SplitMix64(seed: seed ^ 0xDA7A)
        let prototypes = (0..<(classes * features)).map { _ in rng.nextInt(below: 256) }
        var images = [UInt8](repeating: 0, count: count * features)
        var labels = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            let c = rng.nextInt(below: classes)
            labels[i] = UInt8(c)
            for f in 0..<features {
                let v = prototypes[c * features + f] + rng.nextInt(below: 2 * noise + 1) - noise
                images[i * features + f] = UInt8(clamping: v)
            }
        }
        return try Dataset(images: images, labels: labels, features: features, classes: classes)
    }
}

/// Converts byte pixels to floats: (x/255 − mean)/std, computed in float per pixel by a vector
/// kernel that prefetches the next sample's row. Mean and std are Fashion-MNIST's (0.2860, 0.3530).
public struct BatchConverter: Sendable {
    /// A pixel byte b becomes (b/255 − mean)/std, in float.
    public let mean: Float, std: Float

    public init(mean: Float = 0.2860, std: Float = 0.3530) {
        self.mean = mean
        self.std = std
    }

    /// Fills `x` (B, features) and `y` (B) with the samples at `indices`.
    public func fill(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<UInt8>,
                     from data: Dataset, indices: ArraySlice<Int32>) {
        data.images.withUnsafeBufferPointer { img in
            indices.withUnsafeBufferPointer { rows in
                rw_gather_normalise(x, img.baseAddress!, rows.baseAddress!, rows.count, data.features, mean, std)
            }
        }
        for (row, index) in indices.enumerated() { y[row] = data.labels[Int(index)] }
    }

    /// Requests the rows at `indices` into the cache ahead of a `fill` (a hint; changes nothing).
    public func prefetch(from data: Dataset, indices: ArraySlice<Int32>) {
        data.images.withUnsafeBufferPointer { img in
            indices.withUnsafeBufferPointer { rows in
                rw_prefetch_rows(img.baseAddress!, rows.baseAddress!, rows.count, data.features)
            }
        }
    }
}
