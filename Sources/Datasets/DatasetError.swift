import Support

/// What can be wrong with a data set on disk. Each message names the file and what to do.
/// Raised on every rank: the trainer agrees on loading errors before going on.
public enum DatasetError: RingwattError, Equatable {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case badMagic(path: String, found: [UInt8])
    case unsupportedType(path: String, code: UInt8)
    case truncated(path: String, expected: Int, found: Int)
    case trailingBytes(path: String, expected: Int, found: Int)
    case countMismatch(images: Int, labels: Int)
    case labelOutOfRange(path: String, index: Int, label: Int, classes: Int)
    case wrongRank(path: String, expected: String, found: Int)
    case featureMismatch(train: Int, test: Int)
    case invalid(String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open \(path): \(reason)"
        case let .readFailed(path, reason):
            return "cannot read \(path): \(reason) (corrupt or truncated gzip?)"
        case let .badMagic(path, found):
            return "\(path) is not an IDX file: magic bytes \(found.map { String($0, radix: 16) }) (expected 00 00 08 0N)"
        case let .unsupportedType(path, code):
            return "\(path): IDX element type 0x\(String(code, radix: 16)) is not supported (only unsigned bytes, 0x08)"
        case let .truncated(path, expected, found):
            return "\(path) is truncated: header promises \(expected) bytes of data, file has \(found)"
        case let .trailingBytes(path, expected, found):
            return "\(path) has \(found - expected) bytes after the \(expected) its header declares"
        case let .countMismatch(images, labels):
            return "image/label count mismatch: \(images) images but \(labels) labels"
        case let .labelOutOfRange(path, index, label, classes):
            return "\(path): label \(label) at index \(index) is outside 0..<\(classes)"
        case let .wrongRank(path, expected, found):
            return "\(path): expected \(expected), found an IDX array with \(found) dimensions"
        case let .featureMismatch(train, test):
            return "train images have \(train) features but test images have \(test)"
        case let .invalid(message):
            return message
        }
    }

    public var isRaisedOnEveryRank: Bool { true }
}
