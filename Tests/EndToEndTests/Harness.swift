import Foundation
import Accounting
import RunFiles
import Trainer

/// Runs the built `ringwatt` binary, under mpirun or alone.
enum Harness {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// RINGWATT_BIN if set (scripts/test.sh sets the release build), else the debug build.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["RINGWATT_BIN"], !path.isEmpty { return path }
        for candidate in [".build/release/ringwatt", ".build/debug/ringwatt"] {
            let path = repository + "/" + candidate
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repository + "/.build/debug/ringwatt"
    }

    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OPENBLAS_NUM_THREADS"] = "1"
        return env
    }

    /// Open MPI keeps a job's session files in <base>/ompi.<host>.<uid>, one directory for every job
    /// of the user on the host, and the last job to leave removes it: a job starting as another
    /// ends can find it gone and fail to start ("A call to mkdir was unable to create the desired
    /// directory", open-mpi/ompi#8510). Tests run jobs side by side, so every process the harness
    /// starts gets a base of its own (`OMPI_MCA_orte_tmpdir_base`); remove it when the process is done.
    /// A job that outlives the process starting it (sbatch without --wait) needs one that lives as long.
    static func sessionBase() -> String { temporaryDirectory(prefix: "ringwatt-ompi-") }

    /// `extra` adds to (or, with an empty value, removes from) the environment.
    static func run(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
        let process = Process(), session = sessionBase()
        defer { try? FileManager.default.removeItem(atPath: session) }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment.merging(["OMPI_MCA_orte_tmpdir_base": session]) { $1 }.merging(extra) { $1 }.filter { !$0.value.isEmpty }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errData = ReadBox()
        let reader = Thread { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    static func ringwatt(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
        try run(binary, arguments, environment: extra)
    }

    static func mpirun(_ ranks: Int, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Output {
        let exported = extra.filter { !$0.value.isEmpty }.keys.sorted().flatMap { ["-x", $0] }
        return try run("/usr/bin/mpirun", ["--oversubscribe", "-np", String(ranks), "-x", "OPENBLAS_NUM_THREADS"] + exported + [binary] + arguments,
                       environment: extra)
    }

    /// Root can make (and remove) a network namespace here: the emulated cluster's tests can run.
    static let canMakeNetworkNamespaces: Bool = {
        guard getuid() == 0, let probe = try? run("/usr/sbin/ip", ["netns", "add", "rw-probe-\(getpid())"]) else { return false }
        _ = try? run("/usr/sbin/ip", ["netns", "delete", "rw-probe-\(getpid())"])
        return probe.status == 0
    }()

    static func temporaryDirectory(prefix: String = "ringwatt-e2e-") -> String {
        let path = NSTemporaryDirectory() + prefix + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Stops every process in `pids` with SIGSTOP and returns once every thread of each is
    /// stopped: `kill` only queues the signal, and a thread inside a `write` finishes it first,
    /// so a directory read right after `kill` can still change. Returns false past `seconds`.
    static func stop(_ pids: [Int32], within seconds: Double = 10) -> Bool {
        for pid in pids { kill(pid, SIGSTOP) }
        let deadline = Date().addingTimeInterval(seconds)
        func stopped(_ pid: Int32) -> Bool {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            return tasks.allSatisfy { task in
                // /proc/PID/task/TID/stat: "tid (comm) S …"; the state follows the last ')'.
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return true }  // gone: it writes nothing
                let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
                return state == "T" || state == "t" || state == "Z" || state == "X"
            }
        }
        while Date() < deadline {
            if pids.allSatisfy(stopped) { return true }
            usleep(1000)
        }
        return false
    }

    static func json(_ path: String) throws -> JSON { try JSON.parse(String(contentsOfFile: path, encoding: .utf8)) }

    /// The median training iteration's seconds (iterations with evaluation left out), the upper
    /// middle as Ringwatt takes it: what `predict` and `plan` calibrate and compare with.
    static func medianTrainingIterationSeconds(_ run: String) throws -> Double {
        try medianOfTraining(run) { $0["seconds"]!.double! }
    }

    /// The median over a run's training iterations of `value` (the upper middle).
    static func medianOfTraining(_ run: String, _ value: (JSON) -> Double) throws -> Double {
        let training = try lines(run + "/iterations.jsonl").filter { $0["eval_s"]?.double == 0 && ($0["samples"]?.double ?? 0) > 0 }
        let values = training.map(value).sorted()
        return values[values.count / 2]
    }

    static func lines(_ path: String) throws -> [JSON] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSON.parse(String($0)) }
    }
}

final class ReadBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _data = Data()
    private var _done = false
    var data: Data {
        get { lock.lock(); defer { lock.unlock() }; return _data }
        set { lock.lock(); _data = newValue; _done = true; lock.unlock() }
    }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return _done }
}
