import Accounting
import RunFiles
import Foundation
import Logging

/// How rank 0 talks while training: a live line redrawn in place on a terminal, one plain line
/// every `logEvery` iterations in a log, or nothing but the final summary. Other ranks stay silent.
public struct ProgressOptions: Sendable {
    public enum Mode: String, Sendable { case tty, plain, quiet }
    public var mode: Mode
    public var logEvery: Int
    public var verbose: Bool

    public init(mode: Mode = ProgressOptions.detectedMode(), logEvery: Int = 100, verbose: Bool = false) {
        self.mode = mode; self.logEvery = logEvery; self.verbose = verbose
    }
}

extension ProgressOptions {
    /// Open MPI hands every rank a pseudo-terminal for stdout whatever mpirun's own stdout is, so a
    /// rank cannot tell a terminal from a log file. Our launch scripts pass RINGWATT_TTY=1|0 (from
    /// `[ -t 1 ]` where mpirun starts); without it, ranks under Open MPI assume a log.
    public static func detectedMode(environment: [String: String] = ProcessInfo.processInfo.environment) -> Mode {
        if let flag = environment["RINGWATT_TTY"] { return flag == "1" ? .tty : .plain }
        if environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMI_RANK"] != nil { return .plain }
        return isatty(STDOUT_FILENO) != 0 ? .tty : .plain
    }
}

/// The figures a progress line shows.
struct ProgressFigures {
    var epoch: Int, epochs: Int, step: Int, totalSteps: Int
    var loss: Double, samplesPerSecond: Double, watts: Double, joules: Double, elapsed: Double, startStep: Int
    var source: String
    /// "sample" or "token".
    var unit: String

    /// Remaining steps at this run's pace (a resumed run counts from where it resumed).
    var eta: Double { step > startStep ? elapsed / Double(step - startStep) * Double(totalSteps - step) : .nan }

    var line: String {
        String(format: "epoch %d/%d  step %d/%d  loss %.4f  %.0f %@s/s  %.1f W  %.1f J (%@)  ETA %@",
               epoch, epochs, step, totalSteps, loss, samplesPerSecond, unit, watts, joules, source, Self.duration(eta))
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%dh%02dm", t / 3600, t % 3600 / 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

final class ProgressPrinter {
    let options: ProgressOptions
    let enabled: Bool
    let log: Logger
    private var lastDraw = -Double.infinity
    private var liveLineShown = false

    init(options: ProgressOptions, isRoot: Bool) {
        self.options = options
        enabled = isRoot
        var logger = Logger(label: "ringwatt")
        logger.logLevel = options.mode == .quiet ? .warning : options.verbose ? .debug : .info
        log = logger
    }

    /// Every iteration: redraw the live line at most 5 times a second (terminal only).
    func iteration(_ f: @autoclosure () -> ProgressFigures, now: Double) {
        guard enabled, options.mode == .tty, now - lastDraw >= 0.2 else { return }
        lastDraw = now
        write("\r\u{1B}[2K" + f().line)
        liveLineShown = true
    }

    /// After records were gathered: one plain line every `logEvery` iterations (not a terminal).
    func flushed(_ f: ProgressFigures, previousStep: Int) {
        guard enabled, options.mode == .plain else { return }
        if f.step / options.logEvery > previousStep / options.logEvery || options.verbose { write(f.line + "\n") }
    }

    /// A line that stays (epoch ends, notes): clears the live line first.
    func line(_ text: String) {
        guard enabled, options.mode != .quiet else { return }
        clearLive()
        write(text + "\n")
    }

    func clearLive() {
        if liveLineShown { write("\r\u{1B}[2K"); liveLineShown = false }
    }

    private func write(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }
}
