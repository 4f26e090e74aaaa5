import Foundation

/// What a fault cost a run, one resume at a time: a line of restarts.jsonl.
///
/// A resume continues from the last checkpoint, so the iterations the ended attempt ran after it
/// are done again: their lines move from iterations.jsonl to iterations.redone.jsonl, and their
/// measured seconds and joules are `redone_*`. Between the ended attempt's last write to the run
/// directory and the resumed run's first iteration lies the gap (the fault noticed, the job
/// started again, the data loaded): when a launcher restarted the job in its allocation the
/// machines were held through it and it is charged at their idle power (`gap_j`, the same idle
/// watts the summary's idle/dynamic split uses); a resume by hand or a requeued preempted job held
/// no machines meanwhile, so its gap is recorded in seconds only. What the ended attempt did after
/// its last flush never reached the disk: it lies inside the gap, charged at idle power (a floor).
public struct RestartRecord: Codable, Equatable, Sendable {
    /// 1 for the run's first resume, then 2, …
    public var restart: Int
    /// When the resumed run started training (ISO 8601, UTC).
    public var time: String
    /// Why: the launcher's reason (which rank died, on which node, by which signal), or "resumed by hand".
    public var reason: String
    /// How the ended attempt left the run: its summary's status, or that it left none.
    public var previousStatus: String
    public var resumedFromIteration: Int
    public var ranksBefore: Int
    public var ranks: Int
    public var iterationsRedone: Int
    /// Σ over the redone iterations' lines of `seconds` and `energy_j` (measured as every line is).
    public var redoneS: Double
    public var redoneJ: Double
    public var gapS: Double
    /// Whether the machines were held through the gap (a launcher's restart).
    public var gapCharged: Bool
    /// idle_power_w × gap_s where charged (nil: not charged, or the idle power is unknown).
    public var gapJ: Double?
    public var idlePowerW: Double?

    public var wastedJ: Double { redoneJ + (gapJ ?? 0) }

    package enum CodingKeys: String, CodingKey {
        case restart, time, reason, previousStatus = "previous_status", resumedFromIteration = "resumed_from_iteration"
        case ranksBefore = "ranks_before", ranks, iterationsRedone = "iterations_redone", redoneS = "redone_s"
        case redoneJ = "redone_j", gapS = "gap_s", gapCharged = "gap_charged", gapJ = "gap_j", idlePowerW = "idle_power_w"
    }

    public static let fileName = "restarts.jsonl"
    public static let redoneFile = "iterations.redone.jsonl"
    /// What a resume is told when nobody says why (a person ran --resume).
    public static let byHand = "resumed by hand (--resume)"

    /// The record of one resume: the redone lines, the gap from the ended attempt's last write
    /// (`lastWrite`, Unix seconds) to `now`, charged at `idleWatts` when the machines were held.
    public init(restart: Int, now: Date, reason: String, previousStatus: String, resumedFrom: Int, ranksBefore: Int, ranks: Int,
                redone: [IterationLine], lastWrite: Double, held: Bool, idleWatts: Double?) {
        self.restart = restart
        time = ISO8601DateFormatter().string(from: now)
        self.reason = reason; self.previousStatus = previousStatus
        resumedFromIteration = resumedFrom
        self.ranksBefore = ranksBefore; self.ranks = ranks
        iterationsRedone = redone.count
        redoneS = redone.reduce(0) { $0 + $1.seconds }
        redoneJ = redone.reduce(0) { $0 + $1.energyJ }
        gapS = max(0, now.timeIntervalSince1970 - lastWrite)
        gapCharged = held
        gapJ = held ? idleWatts.map { $0 * gapS } : nil
        idlePowerW = idleWatts
    }
}

extension RestartRecord {
    /// DIR/restarts.jsonl, every whole line (a last line without its newline was torn by a crash
    /// mid-append and is not a record); no file: no resumes.
    public static func readAll(directory: String) throws -> [RestartRecord] {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try wholeLines(text).enumerated().map { i, line in
            do { return try RunFileCoding.decode(RestartRecord.self, String(line)) } catch {
                throw RunError.runDirectory("\(path) line \(i + 1) is not a restart record Ringwatt wrote")
            }
        }
    }
}

extension RestartRecord {
    /// The lines of `text` that end with a newline.
    static func wholeLines(_ text: String) -> [Substring] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // after the last newline: empty, or a torn line
        return lines.filter { !$0.isEmpty }
    }
}

/// Σ over a run's restarts, read from restarts.jsonl at each resume (the account: a checkpoint
/// predates the restarts of attempts that died before writing the next one); reported by the summary.
public struct FaultTotals: Codable, Equatable, Sendable {
    public var restarts = 0
    public var iterationsRedone = 0
    public var redoneS = 0.0, redoneJ = 0.0, gapS = 0.0, gapJ = 0.0

    package enum CodingKeys: String, CodingKey {
        case restarts, iterationsRedone = "iterations_redone", redoneS = "redone_s", redoneJ = "redone_j", gapS = "gap_s", gapJ = "gap_j"
    }

    public init() {}

    /// What the faults cost: the redone iterations and the gaps charged.
    public var wastedS: Double { redoneS + gapS }
    public var wastedJ: Double { redoneJ + gapJ }

    public mutating func add(_ r: RestartRecord) {
        restarts += 1
        iterationsRedone += r.iterationsRedone
        redoneS += r.redoneS; redoneJ += r.redoneJ
        gapS += r.gapS; gapJ += r.gapJ ?? 0
    }
}

/// summary.json's `faults`: the restarts, what they wasted, and the goodput.
public struct FaultSummary: Codable, Equatable, Sendable {
    public var restarts: Int
    public var iterationsRedone: Int
    public var redoneS: Double, redoneJ: Double
    public var gapS: Double, gapJ: Double
    /// redone + gap: the time and energy the faults cost.
    public var wastedS: Double, wastedJ: Double
    /// Useful iterations over all the iterations run (the useful ones and the redone ones).
    public var goodput: Double
    /// energy_j (the useful iterations') + wasted_j: what the job drew, faults included.
    public var energyWithWasteJ: Double

    package enum CodingKeys: String, CodingKey {
        case restarts, iterationsRedone = "iterations_redone", redoneS = "redone_s", redoneJ = "redone_j", gapS = "gap_s"
        case gapJ = "gap_j", wastedS = "wasted_s", wastedJ = "wasted_j", goodput, energyWithWasteJ = "energy_with_waste_j"
    }

    public init(_ t: FaultTotals, iterations: Int, energyJ: Double) {
        restarts = t.restarts; iterationsRedone = t.iterationsRedone
        redoneS = t.redoneS; redoneJ = t.redoneJ; gapS = t.gapS; gapJ = t.gapJ
        wastedS = t.wastedS
        wastedJ = t.wastedJ
        let all = iterations + t.iterationsRedone
        goodput = all > 0 ? Double(iterations) / Double(all) : 1
        energyWithWasteJ = energyJ + wastedJ
    }
}
