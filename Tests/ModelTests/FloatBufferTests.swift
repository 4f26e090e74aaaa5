import Testing
import Support

/// FloatBuffer's promises: zeroed, writable to its end, and large buffers on huge-page boundaries
/// (whether the kernel grants huge pages there is its choice, not asserted).
@Suite struct FloatBufferTests {
    @Test(arguments: [0, 1, 1_000, 524_287, 524_288, 524_288 + 17, 3_000_000])
    func zeroedWritableAndAligned(count: Int) {
        let b = FloatBuffer(count: count)
        let bytes = count * MemoryLayout<Float>.stride
        let alignment = bytes >= FloatBuffer.hugePageBytes ? FloatBuffer.hugePageBytes : 64
        #expect(Int(bitPattern: b.pointer) % alignment == 0, "\(count) floats at \(b.pointer)")
        #expect(b.count == count && b.buffer.allSatisfy { $0 == 0 })
        for i in stride(from: 0, to: count, by: 4_099) { b.pointer[i] = Float(i) }
        if count > 0 { b.pointer[count - 1] = -1 }
        #expect(count == 0 || b.pointer[count - 1] == -1)
        b.zero()
        #expect(b.buffer.allSatisfy { $0 == 0 })
    }
}
