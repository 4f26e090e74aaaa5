import Foundation
import Collectives
import Datasets
import Energy
import Model

/// Where training data comes from.
public enum DataSpec: Sendable, Equatable {
    /// A directory holding train-/t10k- images and labels in IDX format (gzipped or not).
    case directory(String)
    /// Explicit IDX files.
    case files(trainImages: String, trainLabels: String, testImages: String, testLabels: String)
    /// Generated: `samples` training and `samples / 6` test samples.
    case synthetic(samples: Int, features: Int, classes: Int)
    /// A text file, or a directory of them, read as bytes (the language model's data).
    case text(String)

    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    public static let fashionMNIST = DataSpec.directory(fashionMNISTDirectory)

    /// Parses `--data`: a directory, or `synthetic` / `synthetic:SAMPLES:FEATURES:CLASSES`.
    public static func parse(_ text: String) throws -> DataSpec {
        if text.hasPrefix("text:") { return .text(String(text.dropFirst(5))) }
        if text == "synthetic" { return .synthetic(samples: 60000, features: 784, classes: 10) }
        if text.hasPrefix("synthetic:") {
            let parts = text.dropFirst(10).split(separator: ":").map { Int($0) }
            guard parts.count == 3, let s = parts[0], let f = parts[1], let c = parts[2], s > 0, f > 0, c >= 2 else {
                throw RunError.configuration("--data synthetic:SAMPLES:FEATURES:CLASSES needs three positive integers (classes ≥ 2), got '\(text)'")
            }
            return .synthetic(samples: s, features: f, classes: c)
        }
        return .directory(text)
    }

    public var isText: Bool { if case .text = self { true } else { false } }

    public var description: String {
        switch self {
        case let .directory(d): return d
        case let .files(a, b, c, d): return [a, b, c, d].joined(separator: ",")
        case let .synthetic(s, f, c): return "synthetic:\(s):\(f):\(c)"
        case let .text(path): return "text:" + path
        }
    }
}
