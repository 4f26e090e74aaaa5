import Support

/// Errors raised by collectives. Environment failures throw; programmer errors trap.
public enum CollectiveError: RingwattError, Equatable {
    /// An MPI call returned a code other than MPI_SUCCESS (the communicator uses MPI_ERRORS_RETURN).
    case mpi(call: String, code: Int32, message: String)
    /// Ranks entered the same collective with different buffer lengths.
    case lengthMismatch(operation: String, lengths: [Int])
    /// Ranks disagree on a value that must be identical everywhere (configuration, data set…).
    case disagreement(what: String, ranks: [Int])
    /// The MPI library does not provide the thread level this run needs.
    case threadLevel(required: String, provided: String)
    /// A message would not fit MPI's `int` count.
    case messageTooLarge(bytes: Int)
    /// Another rank failed (its message, as it said it): every rank stops together.
    case elsewhere(String)

    public var description: String {
        switch self {
        case let .mpi(call, code, message):
            return "\(call) failed with MPI error \(code): \(message)"
        case let .lengthMismatch(operation, lengths):
            let byRank = lengths.enumerated().map { "rank \($0.offset): \($0.element)" }.joined(separator: ", ")
            return "\(operation): ranks disagree on the buffer length (\(byRank))"
        case let .disagreement(what, ranks):
            return "ranks \(ranks.map(String.init).joined(separator: ", ")) disagree with rank 0 on \(what)"
        case let .threadLevel(required, provided):
            return "MPI provides thread level \(provided) but \(required) is required; use an MPI built with thread support"
        case let .messageTooLarge(bytes):
            return "message of \(bytes) bytes exceeds MPI's 2^31-1 count limit"
        case let .elsewhere(message):
            return message
        }
    }

    /// A failed MPI call happens on one rank (the others would wait for it); the rest are found by
    /// every rank together (lengths and values are all-gathered before anyone decides).
    public var isRaisedOnEveryRank: Bool {
        if case .mpi = self { return false }
        return true
    }
}
