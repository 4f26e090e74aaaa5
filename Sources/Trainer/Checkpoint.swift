import Foundation
import Support

public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Everything needed to continue a run exactly: parameters, optimizer state, where in the data
/// the run stands (the sampler is a pure function of seed and epoch, so epoch and step suffice),
/// the aligned clock, and the energy and communication totals so far.
///
/// File layout (little-endian): "RWCK", UInt32 version, UInt64 payload length, UInt64 FNV-1a of
/// the payload, payload. Payload: UInt32 header length, a JSON header, then the float arrays the
/// header lists, back to back. Written atomically (temporary file, fsync, rename); the previous
/// checkpoint is kept as checkpoint.prev until the new one is complete.
public struct Checkpoint: Equatable {
    public static let version: UInt32 = 1
    public static let fileName = "checkpoint.bin"
    public static let previousName = "checkpoint.prev.bin"

    public var header: JSON
    public var parameters: [Float]
    public var firstMoment: [Float]
    public var secondMoment: [Float]

    public func encode() -> [UInt8] {
        let text = Array(header.serialized().utf8)
        var payload: [UInt8] = []
        payload.reserveCapacity(4 + text.count + 4 * (parameters.count + firstMoment.count + secondMoment.count))
        Self.append(UInt32(text.count), to: &payload)
        payload += text
        for array in [parameters, firstMoment, secondMoment] {
            array.withUnsafeBytes { payload += $0 }
        }
        var out: [UInt8] = Array("RWCK".utf8)
        Self.append(Self.version, to: &out)
        Self.append(UInt64(payload.count), to: &out)
        Self.append(FNV1a.hash(payload), to: &out)
        return out + payload
    }

    /// Never traps, whatever the bytes: every inconsistency is a `CheckpointError`.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Checkpoint {
        func fail(_ why: String) -> CheckpointError { CheckpointError(description: "checkpoint \(path) is unusable: \(why)") }
        guard bytes.count >= 24, Array(bytes[0..<4]) == Array("RWCK".utf8) else { throw fail("not a Ringwatt checkpoint") }
        let version: UInt32 = read(bytes, 4)
        guard version == Self.version else { throw fail("format version \(version), this build reads \(Self.version)") }
        let length: UInt64 = read(bytes, 8)
        guard length == UInt64(bytes.count - 24) else { throw fail("truncated or padded (\(bytes.count - 24) payload bytes, header says \(length))") }
        let payload = Array(bytes[24...])
        guard FNV1a.hash(payload) == read(bytes, 16) as UInt64 else { throw fail("checksum mismatch (corrupt)") }
        guard payload.count >= 4 else { throw fail("no header") }
        let headerLength = Int(read(payload, 0) as UInt32)
        guard headerLength <= payload.count - 4 else { throw fail("header length out of range") }
        guard let header = try? JSON.parse(String(decoding: payload[4..<(4 + headerLength)], as: UTF8.self)) else {
            throw fail("header is not JSON")
        }
        var offset = 4 + headerLength
        func floats(_ key: String) throws -> [Float] {
            guard let n = header[key]?.double, n >= 0, n == n.rounded(), n < 1e10 else { throw fail("header lacks \(key)") }
            let count = Int(n)
            guard offset + 4 * count <= payload.count else { throw fail("\(key) runs past the end") }
            let values = payload[offset..<(offset + 4 * count)].withUnsafeBytes { raw in
                (0..<count).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
            }
            offset += 4 * count
            return values
        }
        let p = try floats("parameter_count"), m = try floats("first_moment_count"), v = try floats("second_moment_count")
        guard offset == payload.count else { throw fail("\(payload.count - offset) unexpected bytes at the end") }
        return Checkpoint(header: header, parameters: p, firstMoment: m, secondMoment: v)
    }

    public func write(directory: String) throws {
        let path = directory + "/" + Self.fileName
        let fm = FileManager.default
        let temporary = path + ".tmp"
        let file = try AppendFile(path: temporary, truncate: true)
        var bytes = encode()
        try bytes.withUnsafeMutableBytes { try file.write(raw: UnsafeRawBufferPointer($0)) }
        try file.sync()
        file.close()
        if fm.fileExists(atPath: path) {
            let previous = directory + "/" + Self.previousName
            try? fm.removeItem(atPath: previous)
            link(path, previous)  // the old checkpoint survives under its own name until the rename below
        }
        guard rename(temporary, path) == 0 else {
            throw CheckpointError(description: "cannot rename \(temporary): \(String(cString: strerror(errno)))")
        }
        bytes.removeAll()
    }

    public static func read(directory: String) throws -> Checkpoint {
        try decode(readBytes(directory: directory), path: directory + "/" + fileName)
    }

    public static func readBytes(directory: String) throws -> [UInt8] {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(description: "--resume \(directory): no \(fileName) there (checkpoints are written at epoch ends and every --checkpoint-every iterations)")
        }
        return Array(data)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    static func read<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
