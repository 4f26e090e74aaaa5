#if canImport(Glibc)
import Glibc
#endif

/// Heap allocations made so far by the calling thread, when a counting allocator that exports
/// `rw_thread_allocations` is preloaded (`Tests/Fixtures/preload/allocation_counter.c`, with
/// LD_PRELOAD); nil otherwise, at the cost of one symbol lookup per process. The trainer uses it
/// to show that its step allocates nothing.
public enum AllocationProbe {
    public typealias Counter = @convention(c) () -> UInt64

    public static let threadAllocations: Counter? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "rw_thread_allocations") else { return nil }
        return unsafeBitCast(symbol, to: Counter.self)
        #else
        return nil
        #endif
    }()
}
