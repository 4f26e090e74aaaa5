import Support

/// Every failure of a run: its options, checkpoint, directory, or training. All are raised on
/// every rank together: rank 0's own
/// failures (writing the run directory, reading a checkpoint) reach the other ranks through a
/// broadcast or the records' status before anyone stops, so each rank exits cleanly.
public enum RunError: RingwattError, Equatable {
    /// An option, or options that do not fit the data or each other; ranks that disagree.
    case configuration(String)
    /// A checkpoint that cannot be read, or that does not continue this run.
    case checkpoint(String)
    /// The run directory cannot be created, written or continued.
    case runDirectory(String)
    /// Found while training, by every rank from the same data (divergence, non-finite values).
    case training(String)

    public var description: String {
        switch self {
        case let .configuration(m), let .checkpoint(m), let .runDirectory(m), let .training(m): m
        }
    }

    public var isRaisedOnEveryRank: Bool { true }
}
