import Support

/// What a run trained on, for a resume to check: the bytes of every split and a hash of all of
/// them (FNV-1a over 8-byte words, about 10 ms for Fashion-MNIST's 47 MB), so a file rewritten in
/// place — even one byte — is told apart. The rank-agreement check at start uses the sampled,
/// cheaper `BatchSource.fingerprints`.
public struct DataFingerprint: Codable, Equatable, Sendable, CustomStringConvertible {
    public var bytes: Int
    public var hash: String

    public init(_ parts: [[UInt8]]) {
        var h = FNV1a()
        var total = 0
        for part in parts {
            total += part.count
            h.mix(UInt64(part.count))
            part.withUnsafeBytes { raw in
                var i = 0
                while i + 8 <= raw.count { h.mix(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)); i += 8 }
                while i < raw.count { h.mix(UInt64(raw[i])); i += 1 }
            }
        }
        bytes = total
        hash = String(h.value, radix: 16)
    }

    public var description: String { "\(bytes) bytes, FNV-1a \(hash)" }
}
