
extension Communicator {
    /// Runs `body` on every rank and agrees on failure: if any rank throws, every rank throws, so
    /// no rank goes on to a collective the others never reach (data missing on one node, a power
    /// source one node lacks). A rank that failed rethrows its own error; the others throw the
    /// lowest failing rank's message, naming that rank.
    public func collectively<T>(_ body: () throws -> T) throws -> T {
        var value: T? = nil
        var failure: Error? = nil
        do { value = try body() } catch { failure = error }
        let messages = try allGatherBytes(Array((failure.map { "\($0)" } ?? "").utf8))
        if let failure { throw failure }
        if let first = messages.firstIndex(where: { !$0.isEmpty }) {
            throw CollectiveError.elsewhere("rank \(first): " + String(decoding: messages[first], as: UTF8.self))
        }
        return value!
    }

    /// Runs `body` on rank 0 only and tells every rank whether it failed, so a failure there
    /// (a directory that cannot be written…) stops all ranks instead of leaving them waiting.
    public func onRoot<T>(_ body: () throws -> T) throws -> T? {
        var value: T? = nil
        var failure: Error? = nil
        if isRoot {
            do { value = try body() } catch { failure = error }
        }
        let shared = String(decoding: try broadcast(Array((failure.map { "\($0)" } ?? "").utf8)), as: UTF8.self)
        if let failure { throw failure }
        if !shared.isEmpty { throw CollectiveError.elsewhere(shared) }
        return value
    }
}
