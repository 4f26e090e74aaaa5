import Foundation

/// The run directory's owner: a POSIX record lock (`fcntl(F_SETLK)`) on `DIR/.ringwatt.lock`,
/// held for the whole run by the process that writes the directory (rank 0). The kernel drops it
/// when that process ends, however it ends, so a dead job's lock is free for the next one; the
/// file only says who held it last. POSIX locks, unlike `flock`, also work on the NFS and
/// Lustre mounts clusters share (through the lock manager).
///
/// A second writer — `--overwrite` or `--resume` of a directory a live run is writing — is
/// refused before it touches anything, naming the holder (host, pid, Slurm job).
final class RunDirectoryLock {
    static let fileName = ".ringwatt.lock"
    private var fd: Int32

    /// Takes the lock on `directory` (which must exist) or throws, naming the live holder.
    init(directory: String) throws {
        let path = directory + "/" + Self.fileName
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RunError.runDirectory("cannot open \(path): \(String(cString: strerror(errno))) (is --out writable?)")
        }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK); lock.l_whence = Int16(SEEK_SET); lock.l_start = 0; lock.l_len = 0
        guard fcntl(fd, F_SETLK, &lock) == 0 else {
            let code = errno
            let holder = Self.holder(fd)
            Glibc.close(fd)
            fd = -1
            if code == EACCES || code == EAGAIN {
                throw RunError.runDirectory("\(directory) is being written by a live run (\(holder)); "
                                            + "wait for it to end, or choose another --out")
            }
            throw RunError.runDirectory("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        // Ours now (a previous holder's words, if any, were of a process that has ended).
        let me = Self.describeSelf()
        _ = ftruncate(fd, 0)
        _ = me.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Releases the lock (also released by the kernel if the process dies).
    func release() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { release() }

    /// "host vm, pid 1234, Slurm job 17, since 2026-12-01T01:02:03Z": who this process is.
    static func describeSelf(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let host = ProcessInfo.processInfo.hostName
        let job = environment["SLURM_JOB_ID"].map { ", Slurm job \($0)" } ?? ""
        return "host \(host), pid \(getpid())\(job), since \(ISO8601DateFormatter().string(from: Date()))\n"
    }

    /// What the holder wrote into the file (the kernel's view of the lock as a fallback).
    private static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        if !text.isEmpty { return text }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK); probe.l_whence = Int16(SEEK_SET)
        return fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != Int16(F_UNLCK) ? "pid \(probe.l_pid)" : "another process"
    }
}
