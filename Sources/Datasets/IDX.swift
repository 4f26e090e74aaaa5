/// An IDX array (LeCun's MNIST format): magic 00 00 TYPE NDIM, NDIM big-endian UInt32 sizes, data.
/// Only unsigned-byte arrays (type 0x08), which is what MNIST and Fashion-MNIST use.
public struct IDXArray: Equatable, Sendable {
    public var dimensions: [Int]
    public var data: [UInt8]

    /// Parses `bytes`; `path` is only for messages. Never traps on any input.
    public static func parse(_ bytes: [UInt8], path: String) throws -> IDXArray {
        guard bytes.count >= 4 else { throw DatasetError.badMagic(path: path, found: Array(bytes)) }
        guard bytes[0] == 0, bytes[1] == 0, bytes[3] >= 1, bytes[3] <= 4 else {
            throw DatasetError.badMagic(path: path, found: Array(bytes[0..<4]))
        }
        guard bytes[2] == 0x08 else { throw DatasetError.unsupportedType(path: path, code: bytes[2]) }
        let rank = Int(bytes[3])
        let header = 4 + 4 * rank
        guard bytes.count >= header else { throw DatasetError.truncated(path: path, expected: header, found: bytes.count) }
        var dims: [Int] = []
        var total = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let size = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dims.append(size)
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= 1 << 40 else {
                throw DatasetError.invalid("\(path): IDX dimensions \(dims) are implausibly large")
            }
            total = product
        }
        let found = bytes.count - header
        if found < total { throw DatasetError.truncated(path: path, expected: total, found: found) }
        if found > total { throw DatasetError.trailingBytes(path: path, expected: total, found: found) }
        return IDXArray(dimensions: dims, data: Array(bytes[header...]))
    }

    public static func load(_ path: String) throws -> IDXArray {
        try parse(readFileBytes(path), path: path)
    }
}
