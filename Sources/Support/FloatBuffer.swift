#if canImport(Glibc)
import Glibc
#endif

/// An owned, zero-initialised, contiguous Float allocation. Storage for parameters, gradients,
/// optimizer state and activations; views into it are handed out as pointers for the narrowest scope.
///
/// Buffers of 2 MiB and more sit on 2 MiB boundaries and ask Linux for transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`; most distributions enable them only on request). A GEMM packing
/// rows of a large activation touches a new 4 KiB page every row, and a dTLB miss with it; with
/// huge pages one TLB entry covers 512 of them. Where the kernel has none to give (or THP is
/// "never"), the buffer is an ordinary one. Smaller buffers come from the allocator as before.
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Where huge pages start paying: one huge page.
    public static let hugePageBytes = 2 << 20

    public init(count: Int) {
        self.count = count
        let elements = max(count, 1)
        pointer = Self.allocate(elements)
        pointer.initialize(repeating: 0, count: elements)
    }

    deinit { free(pointer) }

    private static func allocate(_ elements: Int) -> UnsafeMutablePointer<Float> {
        let bytes = elements * MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer?
        let huge = bytes >= hugePageBytes
        let status = posix_memalign(&raw, huge ? hugePageBytes : 64, bytes)
        guard status == 0, let raw else { fatalError("FloatBuffer: cannot allocate \(bytes) bytes (posix_memalign: \(status))") }
        #if os(Linux)
        // Advice only: if the kernel refuses (THP "never", no CONFIG_TRANSPARENT_HUGEPAGE) the
        // pages stay 4 KiB and everything else is the same. Whole huge pages only: the tail stays small.
        let whole = bytes / hugePageBytes * hugePageBytes
        if huge { _ = madvise(raw, whole, MADV_HUGEPAGE) }
        #endif
        return raw.bindMemory(to: Float.self, capacity: elements)
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public var array: [Float] { Array(buffer) }

    public func copy(from values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
