/// A posted send/receive pair, completed by `Transport.wait`. A value, so posting does not allocate.
/// The MPI transport keeps its two request handles here; the in-process transport keeps the
/// receive target. Either side may be absent (a segment one neighbour has and the other has not).
public struct Exchange {
    public var sendHandle: OpaquePointer?
    public var receiveHandle: OpaquePointer?
    public var receive: UnsafeMutableRawBufferPointer?
    public var peer: Int
    public var tag: Int32
    /// The larger of the bytes sent and received (how fast a wait went: `SpinPolicy`).
    public var bytes = 0

    public init(sendHandle: OpaquePointer? = nil, receiveHandle: OpaquePointer? = nil,
                receive: UnsafeMutableRawBufferPointer? = nil, peer: Int, tag: Int32) {
        self.sendHandle = sendHandle
        self.receiveHandle = receiveHandle
        self.receive = receive
        self.peer = peer
        self.tag = tag
    }
}

/// What the collectives need from a message layer: point-to-point exchanges with neighbours,
/// plus the few small collectives used for agreement and bookkeeping.
///
/// Two implementations: `MPITransport` (real ranks under mpirun) and `LocalTransport`
/// (threads as ranks, for unit tests of the algorithms at any rank count).
public protocol Transport: AnyObject {
    /// The communication library, as it names itself (MPI_Get_library_version's first line).
    var libraryVersion: String { get }
    /// How this rank waits for its messages, as a run records it ("in MPI", "test and sleep …").
    var waiting: String { get }
    var rank: Int { get }
    var size: Int { get }
    /// This rank's index among the ranks sharing its node, and how many share it.
    var localRank: Int { get }
    var localSize: Int { get }
    /// This rank's node, numbered 0..<nodeCount in order of each node's lowest world rank.
    var node: Int { get }
    var nodeCount: Int { get }

    /// Posts a non-blocking send of `send` to `to` and receive into `receive` from `from`.
    /// Buffers must stay valid until `wait` returns. Messages between a pair with one tag arrive in order.
    func post(send: UnsafeRawBufferPointer?, to: Int,
              receive: UnsafeMutableRawBufferPointer?, from: Int, tag: Int32) throws -> Exchange
    /// Completes a posted exchange.
    func wait(_ exchange: inout Exchange) throws
    /// A blocking send-and-receive (MPI_Sendrecv): the cheapest exchange when nothing overlaps it.
    func exchange(send: UnsafeRawBufferPointer, to: Int,
                  receive: UnsafeMutableRawBufferPointer, from: Int, tag: Int32) throws
    /// Every rank contributes `mine` (same byte count everywhere); `all` receives size × that, in rank order.
    func allGather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer) throws
    /// Copies root's `buffer` into every rank's `buffer` (same byte count everywhere).
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    func barrier() throws
    /// Ends every rank of the job, for a rank that cannot continue while others would wait for it.
    func abort(code: Int32) -> Never
}

/// How long a rank that waits by testing sleeps between tests (`--comm-wait-us N`): N µs while
/// the wait is young, then an eighth of the time already waited, up to `longest` (1 ms, or N if
/// larger). A short message is still seen within N µs; a long transfer is tested a few dozen
/// times instead of once every N µs — on cores shared with compute (overlap, or more ranks than
/// cores) each test is a wake-up that preempts a compute thread: at N = 50 a 13 MB all-reduce
/// behind the GPT's backward on 4 ranks over 2 cores cost it 90–160 ms of compute per step.
/// A wait overruns its message by at most an eighth of its length (and by at most `longest`).
///
/// Before its first sleep a wait may test without sleeping for `spin` µs (`--comm-spin-us`): a
/// message between ranks that are both running arrives within tens of µs, and a sleep of 50 µs
/// (a timer's slack makes it ~100) per ring step, in each of both ranks, is most of a small
/// all-reduce. On 2 shared cores, 1 host × 2 ranks of the MLP with 100 kB buckets and overlap
/// took 9.3 / 12.2 ms a step sleeping at once and 3.3 / 5.2 ms testing for 200 µs first (one
/// bucket, overlap off: 3.3 / 2.7 against 2.4 / 2.5). With 4 ranks on those 2 cores a spinning rank
/// holds the core its peer needs: the plan study's 4-rank steps ran up to 2× slower with it, so it
/// is for ranks with cores of their own (`CommSpin.auto`; docs/measurements/comm-spin-epyc.txt).
public struct PollingBackoff: Sendable, Equatable {
    public let first: UInt32
    public let longest: UInt32
    public let spin: UInt32

    public init(firstMicroseconds first: UInt32, spinMicroseconds spin: UInt32 = 0) {
        self.first = first
        self.spin = spin
        longest = Swift.max(first, 1000)
    }

    /// Whether a wait `elapsed` µs old tests again at once, without sleeping.
    public func spins(elapsed: Double) -> Bool { elapsed < Double(spin) }

    /// The sleep before the next test, having slept `waited` µs in this wait so far.
    public func next(afterWaiting waited: UInt64) -> UInt32 {
        UInt32(Swift.min(UInt64(longest), Swift.max(UInt64(first), waited / 8)))
    }
}

/// How long a wait tests before its first sleep: at least `base` µs, and up to `limit` while the
/// rank's recent waits (moving averages the transport keeps) were short — ended within `limit` —
/// and fast — moved at least `fastBytesPerMicrosecond`. Open MPI's TCP and shared-memory
/// transports move a message's bytes only while a rank tests, so on a fast path a sleeping rank
/// stalls the transfer as well as seeing its end late: on 1 host × 2 ranks of the MLP (0.94 MB,
/// intra-node) the all-reduce took 0.61–0.74 ms a step testing 200 µs first and 0.41–0.55 ms
/// testing up to 1 ms (docs/measurements/comm-spin-xeon207.txt). On a slow link the wire is the
/// bottleneck and the kernel sends what is queued while the rank sleeps: there, 100 kB buckets'
/// waits (under 1 ms each at 1 Gbit/s) spun through and cost 24 % more energy per sample for the
/// same step, so a wait that moves fewer bytes a µs than a 2 Gbit/s link spins only `base`.
public struct SpinPolicy: Sendable, Equatable {
    public let base: UInt32
    public let limit: UInt32
    /// 250 bytes a µs: 2 Gbit/s, between a 1 Gbit/s link (125 at most) and the emulated 10 Gbit/s
    /// link and loopback TCP inside a host (600–2,000 measured; shared memory, since, faster).
    public static let fastBytesPerMicrosecond: UInt64 = 250

    public init(base: UInt32, limit: UInt32? = nil) {
        self.base = base
        self.limit = Swift.max(base, limit ?? base)
    }

    /// µs the next wait spins, the recent waits having averaged `µs` µs and `bytes` bytes each.
    public func spin(recent: (µs: UInt64, bytes: UInt64)) -> UInt32 {
        recent.µs <= UInt64(limit) && recent.bytes >= Self.fastBytesPerMicrosecond * Swift.max(1, recent.µs) ? limit : base
    }

    /// A moving average after a wait (µs or bytes): a quarter's weight to the newest.
    public static func average(_ recent: UInt64, after newest: UInt64) -> UInt64 { (3 * recent + newest) / 4 }

    /// "200 µs (up to 1000 while waits are short and fast)" or "200 µs".
    public var description: String {
        limit > base ? "\(base) µs (up to \(limit) while waits are short and fast)" : "\(base) µs"
    }
}

/// How long each wait tests before its first sleep (`--comm-spin-us`): a fixed number of µs, or
/// `auto` — on a machine whose ranks have a core each, `automaticMicroseconds` and up to
/// `automaticLimitMicroseconds` while waits are short and fast (`SpinPolicy`); none on one with more ranks
/// than cores, where a spinning rank holds the core its peer needs to answer (as Open MPI yields
/// in its own busy wait on a node it knows is oversubscribed). Ranks count per physical machine,
/// not per MPI node: the emulated cluster's hosts share one machine's cores.
public enum CommSpin: Sendable, Equatable {
    case microseconds(UInt32)
    case auto

    /// What auto spins at least with a core per rank: a message between running ranks arrives within it
    /// (docs/measurements/comm-spin-epyc.txt: 200 µs gained more than 100).
    public static let automaticMicroseconds: UInt32 = 200
    /// And at most, while the waits are short and fast (docs/measurements/comm-spin-xeon207.txt).
    public static let automaticLimitMicroseconds: UInt32 = 1000

    /// "auto" or 0…1000000 µs.
    public init?(_ text: String) {
        if text == "auto" { self = .auto; return }
        guard let us = UInt32(text), us <= 1_000_000 else { return nil }
        self = .microseconds(us)
    }

    /// How each wait spins, with `ranksOnMachine` ranks on a machine of `cores` cores.
    public func resolved(ranksOnMachine: Int, cores: Int) -> SpinPolicy {
        switch self {
        case .microseconds(let us): SpinPolicy(base: us)
        case .auto: ranksOnMachine <= cores ? SpinPolicy(base: Self.automaticMicroseconds, limit: Self.automaticLimitMicroseconds)
                                            : SpinPolicy(base: 0)
        }
    }
}
