/// The values a batch source fills and a model consumes: both sides see them here, so neither
/// module imports the other.

/// A batch of labelled samples: `inputs` (capacity, features) row-major floats and one class label
/// per sample; the first `count` rows are filled.
public final class ClassificationBatch {
    public let features: Int
    public let capacity: Int
    public let inputs: FloatBuffer
    public let labels: UnsafeMutablePointer<UInt8>
    /// Samples filled (the last training batch of an epoch, or of the evaluation set, may be short).
    public var count = 0

    public init(capacity: Int, features: Int) {
        precondition(capacity > 0 && features > 0)
        self.capacity = capacity
        self.features = features
        inputs = FloatBuffer(count: capacity * features)
        labels = .allocate(capacity: capacity)
        labels.initialize(repeating: 0, count: capacity)
    }

    deinit { labels.deallocate() }
}

/// A batch of byte-token windows for a language model: row b holds `context` input tokens and the
/// `context` targets (the same window shifted by one); the first `count` rows are filled.
public final class TokenBatch {
    public let capacity: Int
    public let context: Int
    /// (capacity, context) each.
    public let inputs: UnsafeMutablePointer<Int32>
    public let targets: UnsafeMutablePointer<Int32>
    public var count = 0

    public init(capacity: Int, context: Int) {
        precondition(capacity > 0 && context > 0)
        self.capacity = capacity
        self.context = context
        inputs = .allocate(capacity: capacity * context)
        inputs.initialize(repeating: 0, count: capacity * context)
        targets = .allocate(capacity: capacity * context)
        targets.initialize(repeating: 0, count: capacity * context)
    }

    /// Row `row` from the T+1 bytes at `window`: inputs are bytes 0..<T, targets bytes 1...T.
    public func set(row: Int, window: UnsafePointer<UInt8>) {
        let i = inputs + row * context, t = targets + row * context
        for k in 0..<context {
            i[k] = Int32(window[k])
            t[k] = Int32(window[k + 1])
        }
    }

    deinit { inputs.deallocate(); targets.deallocate() }
}
