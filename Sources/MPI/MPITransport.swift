import CMPI
import Collectives
import Support
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The MPI implementation of `Transport`. This file is the only place that calls MPI.
///
/// The world communicator is switched to MPI_ERRORS_RETURN so every failure comes back as a
/// `CollectiveError.mpi` instead of aborting inside the library.
public final class MPITransport: Transport {
    public enum ThreadLevel: Int32, Sendable, CustomStringConvertible {
        case single = 0, funneled = 1, serialized = 2, multiple = 3
        public var description: String {
            switch self {
            case .single: "MPI_THREAD_SINGLE"
            case .funneled: "MPI_THREAD_FUNNELED"
            case .serialized: "MPI_THREAD_SERIALIZED"
            case .multiple: "MPI_THREAD_MULTIPLE"
            }
        }
    }

    public let rank: Int
    public let size: Int
    public let localRank: Int
    public let localSize: Int
    public let node: Int
    public let nodeCount: Int
    public let threadLevel: ThreadLevel
    public let processorName: String
    public let libraryVersion: String
    private let world: MPI_Comm
    private var finalized = false

    /// The MPI library's first version line ("Open MPI v4.1.4, …"); callable before MPI_Init (MPI-3).
    public static func libraryVersion() -> String {
        var versionBytes = [CChar](repeating: 0, count: Int(rw_max_library_version_string()) + 1)
        var versionLength: Int32 = 0
        guard MPI_Get_library_version(&versionBytes, &versionLength) == 0 else { return "unknown" }
        return String(decoding: versionBytes.prefix(Int(versionLength)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: "\n").first.map { String($0.filter { $0 != "\0" }) } ?? ""
    }

    /// Initialises MPI (once per process) at `required` thread level or throws.
    public init(threadLevel required: ThreadLevel = .serialized) throws {
        var initialized: Int32 = 0
        try Self.check(MPI_Initialized(&initialized), "MPI_Initialized")
        var provided: Int32 = 0
        if initialized == 0 {
            try Self.check(MPI_Init_thread(nil, nil, required.rawValue, &provided), "MPI_Init_thread")
        } else {
            try Self.check(MPI_Query_thread(&provided), "MPI_Query_thread")
        }
        let providedLevel = ThreadLevel(rawValue: provided) ?? .single
        guard provided >= required.rawValue else {
            throw CollectiveError.threadLevel(required: required.description, provided: providedLevel.description)
        }
        threadLevel = providedLevel
        world = rw_comm_world()
        try Self.check(MPI_Comm_set_errhandler(world, rw_errors_return()), "MPI_Comm_set_errhandler")

        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_rank(world, &r), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(world, &s), "MPI_Comm_size")
        rank = Int(r); size = Int(s)

        var nameBytes = [CChar](repeating: 0, count: Int(rw_max_processor_name()) + 1)
        var nameLength: Int32 = 0
        try Self.check(MPI_Get_processor_name(&nameBytes, &nameLength), "MPI_Get_processor_name")
        processorName = String(decoding: nameBytes.prefix(Int(nameLength)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        libraryVersion = Self.libraryVersion()

        // Node topology: ranks sharing memory form a node; its leader is its lowest world rank.
        var shared: MPI_Comm? = nil
        try Self.check(MPI_Comm_split_type(world, rw_comm_type_shared(), r, rw_info_null(), &shared),
                       "MPI_Comm_split_type")
        var lr: Int32 = 0, ls: Int32 = 0
        try Self.check(MPI_Comm_rank(shared, &lr), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(shared, &ls), "MPI_Comm_size")
        localRank = Int(lr); localSize = Int(ls)
        var leader = Int64(r)
        try Self.check(MPI_Bcast(&leader, 1, rw_int64(), 0, shared), "MPI_Bcast")
        try Self.check(MPI_Comm_free(&shared), "MPI_Comm_free")
        var leaders = [Int64](repeating: 0, count: Int(s))
        try Self.check(MPI_Allgather(&leader, 1, rw_int64(), &leaders, 1, rw_int64(), world), "MPI_Allgather")
        let distinct = Array(Set(leaders)).sorted()
        node = distinct.firstIndex(of: leader)!
        nodeCount = distinct.count
    }

    /// Ends MPI for this process (once). A failure here cannot be acted on: it is reported.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        do { try Self.check(MPI_Finalize(), "MPI_Finalize") } catch {
            let line = Array("ringwatt: rank \(rank): \(error)\n".utf8)
            _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Ends every rank of the job (MPI_Abort): for a rank that cannot continue while others wait.
    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        fatalError("MPI_Abort returned")
    }

    /// MPI_Abort on the world communicator, from any thread (the watchdog's).
    public static func abortWorld(code: Int32) -> Never {
        MPI_Abort(rw_comm_world(), code)
        fatalError("MPI_Abort returned")
    }

    public func post(send: UnsafeRawBufferPointer?, to: Int,
                     receive: UnsafeMutableRawBufferPointer?, from: Int, tag: Int32) throws -> Exchange {
        var exchange = Exchange(peer: from, tag: tag)
        exchange.bytes = max(send?.count ?? 0, receive?.count ?? 0)
        if let receive {
            let count = try Self.count(receive.count)
            var request: MPI_Request? = nil
            try Self.check(MPI_Irecv(receive.baseAddress, count, rw_byte(), Int32(from), tag, world, &request), "MPI_Irecv")
            exchange.receiveHandle = request
        }
        if let send {
            let count = try Self.count(send.count)
            var request: MPI_Request? = nil
            try Self.check(MPI_Isend(send.baseAddress, count, rw_byte(), Int32(to), tag, world, &request), "MPI_Isend")
            exchange.sendHandle = request
        }
        return exchange
    }

    /// How a rank waits for its messages: spinning inside MPI (lowest latency with a core to
    /// itself), or testing and sleeping between tests (`sleepMicroseconds` at first, then longer:
    /// `PollingBackoff`), which leaves the core to others — the kernel's network processing and
    /// the other ranks' compute when ranks share cores (our emulated cluster).
    public var sleepMicroseconds: UInt32 = 0
    /// How long a wait tests without sleeping before its first sleep (with `sleepMicroseconds` > 0).
    public var spin = SpinPolicy(base: 0)
    /// Moving averages of this rank's waits, µs and bytes (`SpinPolicy`); the main and the
    /// communication thread wait in turn, and either may update them.
    private let recentWait = Atomic<UInt64>(0), recentBytes = Atomic<UInt64>(0)

    public var waiting: String {
        sleepMicroseconds == 0 ? "in MPI (MPI_Waitall)"
            : "test and sleep \(sleepMicroseconds) µs at first, testing \(spin.description) before the first sleep"
    }

    public func wait(_ exchange: inout Exchange) throws {
        var requests: (MPI_Request?, MPI_Request?) = (exchange.receiveHandle ?? rw_request_null(),
                                                      exchange.sendHandle ?? rw_request_null())
        let pause = sleepMicroseconds, bytes = UInt64(exchange.bytes)
        try withUnsafeMutablePointer(to: &requests) {
            try $0.withMemoryRebound(to: MPI_Request?.self, capacity: 2) {
                if pause > 0 {
                    let recent = (µs: recentWait.load(ordering: .relaxed), bytes: recentBytes.load(ordering: .relaxed))
                    let backoff = PollingBackoff(firstMicroseconds: pause, spinMicroseconds: spin.spin(recent: recent))
                    var done: Int32 = 0, waited: UInt64 = 0
                    let start = monotonicSeconds()
                    while true {
                        try Self.check(MPI_Testall(2, $0, &done, rw_statuses_ignore()), "MPI_Testall")
                        if done != 0 { break }
                        if waited == 0 && backoff.spins(elapsed: (monotonicSeconds() - start) * 1e6) { continue }
                        let sleep = backoff.next(afterWaiting: waited)
                        usleep(sleep)
                        waited += UInt64(sleep)
                    }
                    let elapsed = UInt64(max(0, (monotonicSeconds() - start) * 1e6))
                    recentWait.store(SpinPolicy.average(recent.µs, after: elapsed), ordering: .relaxed)
                    recentBytes.store(SpinPolicy.average(recent.bytes, after: bytes), ordering: .relaxed)
                } else {
                    try Self.check(MPI_Waitall(2, $0, rw_statuses_ignore()), "MPI_Waitall")
                }
            }
        }
        exchange.receiveHandle = nil
        exchange.sendHandle = nil
    }

    public func exchange(send: UnsafeRawBufferPointer, to: Int,
                         receive: UnsafeMutableRawBufferPointer, from: Int, tag: Int32) throws {
        if sleepMicroseconds > 0 {
            var e = try post(send: send, to: to, receive: receive, from: from, tag: tag)
            try wait(&e)
            return
        }
        try Self.check(MPI_Sendrecv(send.baseAddress, try Self.count(send.count), rw_byte(), Int32(to), tag,
                                    receive.baseAddress, try Self.count(receive.count), rw_byte(), Int32(from), tag,
                                    world, rw_status_ignore()), "MPI_Sendrecv")
    }

    public func allGather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer) throws {
        precondition(all.count == mine.count * size, "allGather: output must hold size × input bytes")
        try Self.check(MPI_Allgather(mine.baseAddress, try Self.count(mine.count), rw_byte(),
                                     all.baseAddress, try Self.count(mine.count), rw_byte(), world), "MPI_Allgather")
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try Self.check(MPI_Bcast(buffer.baseAddress, try Self.count(buffer.count), rw_byte(), Int32(root), world), "MPI_Bcast")
    }

    public func barrier() throws {
        try Self.check(MPI_Barrier(world), "MPI_Barrier")
    }

    /// The baseline: Open MPI's own `MPI_Allreduce` (in place, sum), with whatever algorithm
    /// the launch selected (`--mca coll_tuned_*`).
    public func libraryAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try Self.check(MPI_Allreduce(rw_in_place(), buffer.baseAddress, try Self.count(buffer.count),
                                     rw_float(), rw_op_sum(), world), "MPI_Allreduce")
    }

    /// Whether this MPI library is Open MPI with its ring all-reduce callable (`libraryRingAllReduceSum`).
    public static var hasLibraryRing: Bool { rw_has_ompi_ring() != 0 }

    /// The baseline ring: Open MPI's own ring all-reduce (the algorithm
    /// `--mca coll_tuned_allreduce_algorithm 4` forces), called directly so it shares a run with
    /// `libraryAllReduceSum` and ours. In place, sum. Other MPI libraries: MPI_ERR_UNSUPPORTED_OPERATION.
    public func libraryRingAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try Self.check(rw_ompi_ring_allreduce(buffer.baseAddress, try Self.count(buffer.count), rw_float(), rw_op_sum(), world),
                       "ompi_coll_base_allreduce_intra_ring")
    }

    static func count(_ bytes: Int) throws -> Int32 {
        guard bytes <= Int(Int32.max) else { throw CollectiveError.messageTooLarge(bytes: bytes) }
        return Int32(bytes)
    }

    static func check(_ code: Int32, _ call: String) throws {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(rw_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw CollectiveError.mpi(call: call, code: code, message: message)
    }
}
