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
