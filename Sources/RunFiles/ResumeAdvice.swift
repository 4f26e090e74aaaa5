import Foundation

/// Whether a job that ended should be restarted from its run directory's checkpoint: the one rule
/// the launchers' `--max-restarts`, a requeued Slurm job and `ringwatt resumable` apply.
///
/// A restart is worth it when the job ended for a reason outside the run — a rank died, a node
/// hung (the watchdog aborted the job: no summary), a signal or Slurm's preemption warning stopped
/// it — and a complete checkpoint exists. It is not when the run ended normally, when it failed
/// for a reason a restart meets again (bad input never reaches a checkpoint; non-finite values
/// with --on-nonfinite stop, a full disk or a write error leave a `failed` summary), or when there
/// is nothing to resume from.
public enum ResumeAdvice: Equatable, Sendable {
    case resume(String)
    case doNotResume(String)

    public var shouldResume: Bool { if case .resume = self { true } else { false } }

    public var line: String {
        switch self {
        case let .resume(why): "resume: \(why)"
        case let .doNotResume(why): "do not resume: \(why)"
        }
    }

    public static func advise(directory: String) -> ResumeAdvice {
        let checkpoint = directory + "/" + RunDirectory.checkpointFile
        var st = stat()
        let hasCheckpoint = stat(checkpoint, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && st.st_size > 0
        let summaryExists = FileManager.default.fileExists(atPath: directory + "/" + RunDirectory.summaryFile)
        if summaryExists {
            switch try? SummaryFile.read(directory: directory) {
            case let .figures(s)?:
                switch s.status {
                case .complete, .energyBudget:
                    return .doNotResume("the run ended normally (\(s.status.rawValue), \(s.iterations) iterations)")
                case .failed:
                    return .doNotResume("the run failed; a restart would meet the same error (see \(RunDirectory.summaryFile))")
                case .interrupted, .preempted:
                    return hasCheckpoint ? .resume("the run was stopped (\(s.status.rawValue)) at iteration \(s.iterations) with a checkpoint")
                        : .doNotResume("the run was stopped before its first checkpoint")
                }
            case let .failed(stub)?:
                return .doNotResume("the run failed: \(stub.error)")
            case nil:
                return .doNotResume("\(directory)/\(RunDirectory.summaryFile) cannot be read")
            }
        }
        guard hasCheckpoint else {
            return .doNotResume("no checkpoint in \(directory): the job ended before its first one (bad input, or too early)")
        }
        return .resume("the job ended without a summary (a rank died or hung) after a checkpoint")
    }
}
