/// Learning-rate schedules.
public enum ScheduleKind: String, CaseIterable, Sendable, Codable {
    /// The base rate at every step.
    case constant
    /// Linear warm-up from base/warmup to base over `warmupSteps`, then cosine decay to
    /// `minFactor`·base at `totalSteps` (Loshchilov & Hutter's SGDR without restarts).
    case cosine
}

public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public var kind: ScheduleKind
    public var baseRate: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minFactor: Float

    public init(kind: ScheduleKind, baseRate: Float, warmupSteps: Int, totalSteps: Int, minFactor: Float = 0) {
        self.kind = kind; self.baseRate = baseRate
        self.warmupSteps = max(0, warmupSteps); self.totalSteps = max(1, totalSteps); self.minFactor = minFactor
    }

    /// The rate for 0-based `step`.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return baseRate * Float(step + 1) / Float(warmupSteps) }
        switch kind {
        case .constant: return baseRate
        case .cosine:
            let span = max(1, totalSteps - warmupSteps)
            let progress = min(1, Double(step - warmupSteps) / Double(span))
            let cosine = 0.5 * (1 + cos(Double.pi * progress))
            return baseRate * (minFactor + (1 - minFactor) * Float(cosine))
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
