import Accounting
import RunFiles
import Collectives
import Energy
import Foundation
import Model
import Support

/// What a finished (or stopped) run reports back to the command line.
public struct RunResult: Sendable {
    public var summary: RunSummary
    public var status: RunStatus
    public var outDirectory: String
}

/// The end of a run, on every rank: the timeline, the final replica check, the summary and the
/// weights (rank 0), and whether rank 0 could write them (every rank learns it and fails with it).
struct Finisher<M: TrainableModel> {
    let comm: Communicator
    let config: TrainConfig
    let model: M
    let directory: RunDirectory?
    let plan: PowerPlan
    let commPlan: CommPlan

    /// `writeError`: rank 0's earlier failure to write the run directory, if any.
    /// `epochs`: the epochs the run reached (a partial last one counts).
    func finish(totals: RunTotals, position: RunPosition, stop: RunStatus?, loopSeconds: Double, sampleUnit: String, epochs: Int, samplesPerEpoch: Int,
                trace: TimelineRecorder, sampler: PowerSampler, writeError: String?) throws -> RunResult {
        var writeError = writeError
        if trace.enabled {
            let all = try comm.allGatherVariable(trace.flat)
            if comm.isRoot, let directory {
                do {
                    try directory.writeAtomically(RunDirectory.timelineFile, TimelineRecorder.render(ranks: all, nodeOf: plan.nodeOf,
                                                                                           phaseNames: Phase.allCases.map(\.name)))
                } catch { writeError = writeError ?? "\(error)" }
            }
        }
        // Replicas must be bit-identical: every rank applied the same update to the same gradient.
        let checksum = model.parameterChecksum()
        try comm.agree(on: checksum, what: "final parameters (replicas diverged)")
        let rss = try comm.max([Double(peakRSSBytes())])[0]
        let failedReads = try plan.failedReads(sampler, comm)
        let coreByRank = try PowerPlan.allGather(BLASSetup.info.core, comm)
        let waitingByRank = try PowerPlan.allGather(comm.transport.waiting, comm)
        let status = writeError != nil ? .failed : (stop ?? .complete)
        var summary = totals.summary(RunFacts(
            status: status, nodes: comm.nodeCount, wallSeconds: loopSeconds, epochs: epochs, evaluations: position.evaluations,
            peakRSSBytes: rss, nodeSources: plan.nodeSources, sourceLabel: plan.sourceLabel, estimate: plan.estimate(config),
            parameterChecksum: checksum, notes: plan.notes + failedReads + commPlan.notes, overlap: commPlan.overlap,
            bucketAlgorithms: commPlan.bucketAlgorithms(comm.allReduce), bucketBytes: commPlan.buckets.ranges.map { $0.count * 4 },
            parameterCount: model.parameterCount, skippedSteps: position.skippedSteps, sampleUnit: sampleUnit, plan: plan,
            metadata: .current(hostnames: plan.machines.map(\.hostname), mpiLibrary: comm.transport.libraryVersion,
                               blasCoreByRank: coreByRank, commWaitingByRank: waitingByRank)), config: config)
        summary.figures.samplesPerEpoch = samplesPerEpoch
        summary.figures.memoryEstimateMib = (try? MemoryEstimate(config)).map { (Double($0.bytesPerRank) / 1048576 * 10).rounded() / 10 }
        if comm.isRoot, let directory {
            do {
                if let writeError { throw RunError.runDirectory(writeError) }
                try directory.writeAtomically(RunDirectory.summaryFile, try RunFileCoding.document(summary))
                try directory.writeAtomically(EmissionsCSV.fileName, EmissionsCSV.render(
                    summary.figures, runID: summary.figures.metadata?.runID ?? "", shares: EmissionsCSV.shares(totals.sourceJoules ?? [:]),
                    cpuSeconds: totals.cpuSeconds ?? 0))
                try directory.writeAtomically(MetricsExport.fileName, MetricsExport().render(totals, plan: plan, unit: sampleUnit))
                try writeWeights(to: directory.path + "/weights.bin")
            } catch {
                writeError = "\(error)"
                try? directory.writeAtomically(RunDirectory.summaryFile,
                                               try RunFileCoding.document(FailedRun(error: "\(error)", checkpoint: nil)))
            }
        }
        // Every rank learns whether rank 0 could write the results, and fails with it if not.
        let finalError = String(decoding: try comm.broadcast(Array((writeError ?? "").utf8)), as: UTF8.self)
        if !finalError.isEmpty { throw RunError.runDirectory("rank 0 could not write the run directory: \(finalError)") }
        return RunResult(summary: summary, status: status, outDirectory: config.out)
    }

    /// The final parameters as raw little-endian Float32, in the flat layout (written atomically).
    private func writeWeights(to path: String) throws {
        let file = try AppendFile(path: path + ".tmp", truncate: true)
        try file.write(raw: UnsafeRawBufferPointer(start: model.parameters.pointer, count: model.parameterCount * 4))
        try file.sync()
        file.close()
        guard rename(path + ".tmp", path) == 0 else {
            throw RunError.runDirectory("cannot rename \(path).tmp: \(String(cString: strerror(errno)))")
        }
    }
}
