/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator whose whole state is
/// one UInt64, so it is trivially checkpointed. Used for initialisation and data shuffling;
/// the same seed gives the same stream on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal via Box–Muller (one value per call; the pair's second value is dropped so
    /// the state stays one integer).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUniform(), 0x1.0p-60)
        let u2 = nextUniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Uniform integer in 0..<bound without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Fisher–Yates permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int32] {
        var p = [Int32]()
        permute(&p, count: count)
        return p
    }

    /// `permutation(count)` into `p`, reusing its storage.
    public mutating func permute(_ p: inout [Int32], count: Int) {
        p.removeAll(keepingCapacity: true)
        for i in 0..<count { p.append(Int32(i)) }
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                p.swapAt(i, nextInt(below: i + 1))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
