#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Small sysfs helpers: one `open`/`pread` per read, no Foundation, so a read costs a few µs.
enum Sysfs {
    /// The file's contents, whitespace-trimmed; EACCES/EPERM becomes `permissionDenied`.
    static func readString(_ path: String) throws -> String {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            let code = errno
            if code == EACCES || code == EPERM { throw EnergyError.permissionDenied(path: path) }
            throw EnergyError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            let code = errno
            if code == EACCES || code == EPERM { throw EnergyError.permissionDenied(path: path) }
            throw EnergyError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        return String(decoding: buffer[0..<n], as: UTF8.self).trimmingWhitespace()
    }

    static func readUInt64(_ path: String) throws -> UInt64 {
        let text = try readString(path)
        guard let value = UInt64(text) else { throw EnergyError.malformed(path: path, content: text) }
        return value
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Entry names in a directory (no "." or ".."), sorted; empty if it cannot be listed.
    static func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.compare(numericallyTo: $1) }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }

    /// "hwmon10" after "hwmon2": digit runs compare as numbers.
    func compare(numericallyTo other: String) -> Bool {
        let a = Array(self.utf8), b = Array(other.utf8)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let da = a[i] >= 48 && a[i] <= 57, db = b[j] >= 48 && b[j] <= 57
            if da && db {
                var x = 0, y = 0
                while i < a.count && a[i] >= 48 && a[i] <= 57 { x = x &* 10 &+ Int(a[i] - 48); i += 1 }
                while j < b.count && b[j] >= 48 && b[j] <= 57 { y = y &* 10 &+ Int(b[j] - 48); j += 1 }
                if x != y { return x < y }
            } else {
                if a[i] != b[j] { return a[i] < b[j] }
                i += 1; j += 1
            }
        }
        return a.count - i < b.count - j
    }
}
