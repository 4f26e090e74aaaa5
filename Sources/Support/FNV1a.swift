/// 64-bit FNV-1a, one value at a time: the checksum of weights, data sets and checkpoints. Not
/// cryptographic; it tells equal bits from different ones, which is all ranks and files need.
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    @inline(__always)
    public mutating func mix(_ v: UInt64) { value = (value ^ v) &* 0x100_0000_01b3 }

    /// FNV-1a of a byte string.
    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        var h = FNV1a()
        for b in bytes { h.mix(UInt64(b)) }
        return h.value
    }
}
