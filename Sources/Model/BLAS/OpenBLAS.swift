import CBLAS
import Foundation

/// The loaded OpenBLAS as it describes itself: the one place that asks it.
public enum OpenBLAS {
    /// The kernel set in use ("SkylakeX", "Haswell", "Prescott", …), chosen when the library loaded.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The build's own description, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64"
    /// (the core named in it is the build's target, not the one running).
    public static var config: String { String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces) }

    /// `config` without the running core's name: the same for every core of one build.
    public static var build: String {
        let core = coreName.lowercased()
        return config.split(separator: " ").filter { $0.lowercased() != core }.joined(separator: " ")
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The shared object cblas_sgemm comes from, with its size and modification time: which build
    /// is loaded, for caches of measurements made with it (found through /proc/self/maps). nil if unknown.
    public static var library: (path: String, identity: String)? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "cblas_sgemm"),
              let data = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() else { return nil }
        // (String(contentsOfFile:) stops after one page of a /proc file, whose size says 0.)
        let maps = String(decoding: data, as: UTF8.self)
        // The mapping that holds the symbol: "start-end perms offset dev inode path".
        let address = UInt(bitPattern: symbol)
        let mapped = maps.split(separator: "\n").first { line in
            let range = line.prefix { $0 != " " }.split(separator: "-").compactMap { UInt($0, radix: 16) }
            return range.count == 2 && range[0] <= address && address < range[1]
        }
        guard let mapped, let slash = mapped.firstIndex(of: "/") else { return nil }
        let path = URL(fileURLWithPath: String(mapped[slash...])).resolvingSymlinksInPath().path
        var st = stat()
        guard stat(path, &st) == 0 else { return (path, path) }
        return (path, "\(path):\(st.st_size):\(st.st_mtim.tv_sec)")
    }
}
