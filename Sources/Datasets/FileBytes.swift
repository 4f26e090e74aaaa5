import CZlib

/// Reads a whole file, gunzipping it if it is gzip (zlib's gzread passes plain files through).
/// A truncated or corrupt gzip stream is an error, never a silently short result.
public func readFileBytes(_ path: String) throws -> [UInt8] {
    guard let file = gzopen(path, "rb") else {
        throw DatasetError.cannotOpen(path: path, reason: describeOpenFailure(errno))
    }
    defer { gzclose(file) }
    gzbuffer(file, 1 << 18)
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { throw DatasetError.readFailed(path: path, reason: gzipError(file)) }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<Int(n)])
    }
    // At end of input gzread returns 0; a stream cut short reports Z_BUF_ERROR here.
    var code: Int32 = 0
    let message = gzerror(file, &code)
    if code != Z_OK && code != Z_STREAM_END {
        throw DatasetError.readFailed(path: path, reason: message.map { String(cString: $0) } ?? "zlib error \(code)")
    }
    return bytes
}

private func gzipError(_ file: gzFile) -> String {
    var code: Int32 = 0
    guard let message = gzerror(file, &code) else { return "zlib error \(code)" }
    return String(cString: message)
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// What an errno from opening a file means to a user.
func describeOpenFailure(_ code: Int32) -> String {
    switch code {
    case ELOOP: return "a loop of symbolic links"
    case ENOENT: return "no such file or directory"
    default: return String(cString: strerror(code))
    }
}

/// A whole file's bytes, by its path's raw bytes (a name need not be UTF-8), or why not.
func readWholeFile(_ path: [CChar], display: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw DatasetError.cannotOpen(path: display, reason: describeOpenFailure(errno)) }
    defer { close(fd) }
    var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw DatasetError.readFailed(path: display, reason: String(cString: strerror(errno))) }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}
