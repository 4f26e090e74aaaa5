import ArgumentParser
import RunFiles

/// The launchers' restart rule, for scripts: exits 0 when the run should be resumed.
struct Resumable: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say whether a run that ended should be resumed from its checkpoint (exit 0) or not (exit 1), and why.",
        discussion: "Resume: a rank died or hung, or a signal or Slurm's preemption warning stopped the run, after a checkpoint. Do not: the run ended normally, failed for a reason a restart meets again, or has no checkpoint.")

    @Argument(help: "A run directory.") var runDirectory: String

    func run() throws {
        let advice = ResumeAdvice.advise(directory: runDirectory)
        print(advice.line)
        if !advice.shouldResume { throw ExitCode(1) }
    }
}
