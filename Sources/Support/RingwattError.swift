/// What every error Ringwatt throws says about itself: whether every rank of the job raises it
/// together (bad options, bad data, an agreed stop — each rank exits cleanly, rank 0 prints it), or
/// only the rank that hit it (a failed MPI call — the others would wait for it forever, so the job
/// is aborted). Each module has one error enum conforming to this.
public protocol RingwattError: Error, CustomStringConvertible {
    var isRaisedOnEveryRank: Bool { get }
}
