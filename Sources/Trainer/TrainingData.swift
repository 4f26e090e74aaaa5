import Accounting
import RunFiles
import Datasets
import Foundation
import Model

/// The training and test sets of a run.
public struct TrainingData: Sendable {
    public var train: Dataset
    public var test: Dataset

    /// Loads what `spec` names. Errors say which file and what is wrong.
    public static func load(_ spec: DataSpec, seed: UInt64) throws -> TrainingData {
        switch spec {
        case let .directory(dir):
            func find(_ stem: String) throws -> String {
                for candidate in [stem + ".gz", stem] where FileManager.default.fileExists(atPath: dir + "/" + candidate) {
                    return dir + "/" + candidate
                }
                throw DatasetError.cannotOpen(path: dir + "/" + stem + "[.gz]", reason: "no such file"
                    + (dir == DataSpec.fashionMNISTDirectory ? " (install Debian's dataset-fashion-mnist, or pass --data DIR)" : " (--data DIR needs the four IDX files)"))
            }
            return try load(.files(trainImages: find("train-images-idx3-ubyte"), trainLabels: find("train-labels-idx1-ubyte"),
                                   testImages: find("t10k-images-idx3-ubyte"), testLabels: find("t10k-labels-idx1-ubyte")),
                            seed: seed)
        case let .files(trainImages, trainLabels, testImages, testLabels):
            let train = try Dataset.loadIDX(images: trainImages, labels: trainLabels)
            let test = try Dataset.loadIDX(images: testImages, labels: testLabels)
            guard train.features == test.features else {
                throw DatasetError.featureMismatch(train: train.features, test: test.features)
            }
            return TrainingData(train: train, test: test)
        case .text:
            throw RunError.configuration("text is the language model's data (--model gpt), not labelled images")
        case let .synthetic(samples, features, classes):
            // One generator for both sets, so test samples come from the same class prototypes.
            let all = try Dataset.synthetic(count: samples + max(1, samples / 6), features: features,
                                            classes: classes, seed: seed)
            let split = samples * features
            return TrainingData(
                train: try Dataset(images: Array(all.images[..<split]), labels: Array(all.labels[..<samples]),
                                   features: features, classes: classes),
                test: try Dataset(images: Array(all.images[split...]), labels: Array(all.labels[samples...]),
                                  features: features, classes: classes))
        }
    }
}

/// The workloads a configuration can name: a model and the batch source that feeds it.
public enum Workloads {
    /// The MLP on labelled images (IDX files or synthetic), identical on every rank (same seed).
    /// `gradientSlack` floats after the gradients carry the trainer's control slot.
    public static func classifier(_ config: TrainConfig, ranks: Int, rank: Int, gradientSlack: Int) throws -> (MLP, LabelledImageSource) {
        let data = try TrainingData.load(config.data, seed: config.seed)
        guard config.layers.first == data.train.features else {
            throw RunError.configuration("--layers starts with \(config.layers[0]) inputs but the data has \(data.train.features) features per sample")
        }
        guard config.layers.last == data.train.classes else {
            throw RunError.configuration("--layers ends with \(config.layers.last!) outputs but the data has \(data.train.classes) classes")
        }
        let source = try LabelledImageSource(train: data.train, test: data.test, ranks: ranks, rank: rank, seed: config.seed,
                                             batchSize: config.batchSize, evaluationBatchSize: config.evalBatch)
        return (MLP(widths: config.layers, seed: config.seed, gradientSlack: gradientSlack), source)
    }

    /// The GPT on a text corpus read as bytes, identical on every rank (same seed).
    public static func languageModel(_ config: TrainConfig, ranks: Int, rank: Int, gradientSlack: Int) throws -> (GPT, ByteWindowSource) {
        guard case let .text(path) = config.data else {
            throw RunError.configuration("--model gpt reads text: --data FILE|DIR")
        }
        let source = try ByteWindowSource(corpus: TextCorpus.load(path), context: config.gpt.context, batchSize: config.batchSize,
                                          ranks: ranks, rank: rank, seed: config.seed, validationWindows: config.evalWindows)
        return (GPT(shape: config.gpt, seed: config.seed, gradientSlack: gradientSlack), source)
    }
}
