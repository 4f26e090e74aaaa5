import Accounting
import RunFiles
import Collectives
import Foundation
import Model

/// How the gradient is communicated, decided once before the loop (as PyTorch DDP assigns
/// buckets once, outside its step): the all-reduce's options, whether buckets overlap backward,
/// how big they are, and the buckets themselves.
public struct CommPlan {
    let overlap: Bool
    let bucketBytes: Int
    let buckets: GradientBuckets
    /// Why auto chose one bucket without overlap, for the summary's notes.
    let notes: [String]

    /// The size of the row blocks backward finishes large layers in, for buckets of `bucketBytes`.
    static func blockBytes(bucketBytes: Int, gradientBytes: Int) -> Int { bucketBytes < gradientBytes ? bucketBytes : 0 }

    /// The bytes of each bucket, in the order they are reduced, that the trainer forms for
    /// `config`'s model with buckets of at least `bucketBytes` (what `plan` prices: the layout
    /// follows the model's layers, not an even cut). Builds the model, no data, no MPI.
    public static func bucketLayout(_ config: TrainConfig, bucketBytes: Int) -> [Int] {
        func layout<M: TrainableModel>(_ model: M) -> [Int] {
            model.gradientBlockBytes = blockBytes(bucketBytes: bucketBytes, gradientBytes: model.gradients.count * 4)
            return GradientBuckets.ranges(boundaries: model.gradientBoundaries(), count: model.gradients.count,
                                          bucketBytes: bucketBytes).map { $0.count * 4 }
        }
        switch config.model {
        case .mlp: return layout(MLP(widths: config.layers, seed: config.seed, gradientSlack: ControlSlot.floats))
        case .gpt: return layout(GPT(shape: config.gpt, seed: config.seed, gradientSlack: ControlSlot.floats))
        }
    }

    /// Overlap pays where the all-reduce leaves the CPU idle or has a core of its own: across
    /// nodes (the network, not the CPU, is the bottleneck) with a core per rank, or on a node
    /// with a spare core per rank for the communication thread. On a node whose cores are all
    /// busy computing, a shared-memory all-reduce is CPU work too: overlapping it only moves
    /// time from communication into compute (measured in README), so auto turns overlap off
    /// and sends one bucket. Decided collectively, so every rank builds the same buckets.
    init<M: TrainableModel>(config: TrainConfig, comm: Communicator, model: M) throws {
        comm.allReduce.options = AllReduce.Options(algorithm: config.algorithm, segmentBytes: config.segmentBytes,
                                                   smallMessageBytes: config.smallMessageBytes,
                                                   largeMessageBytes: config.largeMessageBytes, wire: config.wire)
        // The gradient layout follows from the agreed options; check its length once here, so
        // the per-bucket calls of every step need no extra collective.
        try comm.allReduce.checkLengthsAgree(model.gradients.count, operation: "gradient all-reduce")
        comm.allReduce.options.verifyLengths = false
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let flags = try comm.max([comm.localSize > cores ? 1 : 0, comm.localSize * 2 > cores ? 1 : 0])
        let crowded = flags[0] > 0, noSpareCore = flags[1] > 0
        let overlapPays = comm.size > 1 && !crowded && (comm.nodeCount > 1 || !noSpareCore)
        overlap = (config.overlap ?? overlapPays) && comm.size > 1  // one rank: nothing to overlap
        // Buckets do not depend on the overlap setting itself, so --overlap on and off give the
        // same bits: 100 kB when overlap pays or was chosen either way, else one bucket.
        bucketBytes = config.bucketBytes ?? (overlapPays || config.overlap != nil ? GradientBuckets.automaticBytes : Int.max / 8)
        // Large gradients finish in sub-layer blocks of about a bucket, so the first layer (most
        // of the parameters) is not one bucket that waits for the end of backward. Same bits either way.
        model.gradientBlockBytes = Self.blockBytes(bucketBytes: bucketBytes, gradientBytes: model.gradients.count * 4)
        buckets = GradientBuckets(boundaries: model.gradientBoundaries(), buffer: model.gradients.buffer,
                                  bucketBytes: bucketBytes, overlap: overlap, allReduce: comm.allReduce)
        notes = comm.size > 1 && !overlapPays && config.overlap == nil && config.bucketBytes == nil
            ? ["\(comm.localSize) rank(s) on a node with \(cores) core(s)\(comm.nodeCount > 1 ? "" : ", one node"): "
               + "one gradient bucket, no overlap (auto; --overlap on to overlap)"] : []
    }

    /// The algorithm each bucket resolves to, in bucket order.
    func bucketAlgorithms(_ allReduce: AllReduce) -> [String] {
        buckets.ranges.map { allReduce.resolvedAlgorithm(count: $0.count).rawValue }
    }
}
