import Foundation

/// Threads as ranks: an in-process `Transport` so the collective algorithms can be tested at any
/// rank count without mpirun. Sends are buffered (copied into the receiver's mailbox), so a send
/// never blocks; receives block until the matching message arrives. Messages between a pair with
/// one tag are delivered in order, as in MPI.
public final class LocalWorld: @unchecked Sendable {
    public let size: Int
    public let ranksPerNode: Int
    private let condition = NSCondition()
    private struct Key: Hashable { var from: Int; var to: Int; var tag: Int32 }
    private var mailboxes: [Key: [[UInt8]]] = [:]
    private var slots: [[UInt8]]
    private var arrived = 0
    private var generation = 0

    public init(size: Int, ranksPerNode: Int? = nil) {
        precondition(size >= 1)
        self.size = size
        self.ranksPerNode = max(1, ranksPerNode ?? size)
        self.slots = Array(repeating: [], count: size)
    }

    /// Runs `body` on `size` threads, one per rank, and returns each rank's error (nil on success).
    public static func run(ranks: Int, ranksPerNode: Int? = nil,
                           _ body: @escaping @Sendable (Communicator) throws -> Void) -> [Error?] {
        let world = LocalWorld(size: ranks, ranksPerNode: ranksPerNode)
        let errors = ErrorBox(count: ranks)
        let group = DispatchGroup()
        for rank in 0..<ranks {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    try body(Communicator(transport: LocalTransport(world: world, rank: rank)))
                } catch {
                    errors.set(rank, error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return errors.values
    }

    fileprivate func deliver(_ bytes: [UInt8], from: Int, to: Int, tag: Int32) {
        condition.lock()
        mailboxes[Key(from: from, to: to, tag: tag), default: []].append(bytes)
        condition.broadcast()
        condition.unlock()
    }

    fileprivate func take(from: Int, to: Int, tag: Int32) -> [UInt8] {
        let key = Key(from: from, to: to, tag: tag)
        condition.lock()
        defer { condition.unlock() }
        while mailboxes[key]?.isEmpty ?? true { condition.wait() }
        return mailboxes[key]!.removeFirst()
    }

    fileprivate func barrier() {
        condition.lock()
        defer { condition.unlock() }
        let myGeneration = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
    }

    fileprivate func contribute(_ bytes: [UInt8], rank: Int) {
        condition.lock(); slots[rank] = bytes; condition.unlock()
    }

    fileprivate func slot(_ rank: Int) -> [UInt8] {
        condition.lock(); defer { condition.unlock() }
        return slots[rank]
    }
}

private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Error?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ error: Error) { lock.lock(); storage[index] = error; lock.unlock() }
    var values: [Error?] { lock.lock(); defer { lock.unlock() }; return storage }
}

public final class LocalTransport: Transport {
    public let rank: Int
    private let world: LocalWorld
    public var size: Int { world.size }
    public var localRank: Int { rank % world.ranksPerNode }
    public var localSize: Int { min(world.ranksPerNode, world.size - node * world.ranksPerNode) }
    public var node: Int { rank / world.ranksPerNode }
    public var nodeCount: Int { (world.size + world.ranksPerNode - 1) / world.ranksPerNode }
    public var libraryVersion: String { "Ringwatt in-process transport (threads)" }
    public var waiting: String { "on a condition variable" }

    public init(world: LocalWorld, rank: Int) {
        self.world = world
        self.rank = rank
    }

    public func post(send: UnsafeRawBufferPointer?, to: Int,
                     receive: UnsafeMutableRawBufferPointer?, from: Int, tag: Int32) throws -> Exchange {
        if let send { world.deliver(Array(send), from: rank, to: to, tag: tag) }
        return Exchange(receive: receive, peer: from, tag: tag)
    }

    public func wait(_ exchange: inout Exchange) throws {
        guard let receive = exchange.receive else { return }
        let bytes = world.take(from: exchange.peer, to: rank, tag: exchange.tag)
        precondition(bytes.count == receive.count,
                     "LocalTransport: message of \(bytes.count) bytes for a receive of \(receive.count)")
        bytes.withUnsafeBytes { receive.copyMemory(from: $0) }
        exchange.receive = nil
    }

    public func exchange(send: UnsafeRawBufferPointer, to: Int,
                         receive: UnsafeMutableRawBufferPointer, from: Int, tag: Int32) throws {
        var e = try post(send: send, to: to, receive: receive, from: from, tag: tag)
        try wait(&e)
    }

    public func allGather(_ mine: UnsafeRawBufferPointer, into all: UnsafeMutableRawBufferPointer) throws {
        precondition(all.count == mine.count * size)
        world.contribute(Array(mine), rank: rank)
        world.barrier()
        for r in 0..<size {
            let bytes = world.slot(r)
            bytes.withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: all[(r * mine.count)..<((r + 1) * mine.count)]).copyMemory(from: $0)
            }
        }
        world.barrier()
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        if rank == root { world.contribute(Array(buffer), rank: rank) }
        world.barrier()
        if rank != root { world.slot(root).withUnsafeBytes { buffer.copyMemory(from: $0) } }
        world.barrier()
    }

    public func barrier() throws { world.barrier() }

    /// Threads cannot be aborted one by one: the in-process world ends with the test process.
    public func abort(code: Int32) -> Never { fatalError("rank \(rank) aborted the in-process world (code \(code))") }
}
