#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// An NVIDIA GPU through NVML, loaded at run time with dlopen: a machine without the driver has
/// no GPU source, which is not an error. Uses `nvmlDeviceGetTotalEnergyConsumption` (mJ since the
/// driver loaded; Volta and newer) where supported, else `nvmlDeviceGetPowerUsage` (mW), integrated.
///
/// Not exercised on our GPU-less machines; the calls follow the NVML API reference.
public final class NVMLSource: PowerSource, @unchecked Sendable {
    public let kind = SourceKind.nvml
    public let scope = SourceScope.node
    public let domain: String
    public let origin = "libnvidia-ml.so.1"
    /// NVIDIA documents nvmlDeviceGetTotalEnergyConsumption's counter as refreshed with the
    /// driver's power sampling, 20 ms on recent boards (100 ms on older ones; the smaller is assumed).
    public let updateInterval: Double? = 0.02
    private let library: NVMLLibrary
    private let device: OpaquePointer
    private let hasEnergy: Bool

    init(library: NVMLLibrary, index: UInt32, device: OpaquePointer) {
        self.library = library
        self.device = device
        domain = "gpu\(index)"
        var mj: UInt64 = 0
        hasEnergy = library.totalEnergy(device, &mj) == 0
    }

    public func read() throws -> PowerReading {
        if hasEnergy {
            var mj: UInt64 = 0
            let rc = library.totalEnergy(device, &mj)
            guard rc == 0 else { throw EnergyError.unreadable(path: "NVML \(domain)", reason: "nvmlDeviceGetTotalEnergyConsumption returned \(rc)") }
            return .energy(joules: Double(mj) * 1e-3)
        }
        var mw: UInt32 = 0
        let rc = library.powerUsage(device, &mw)
        guard rc == 0 else { throw EnergyError.unreadable(path: "NVML \(domain)", reason: "nvmlDeviceGetPowerUsage returned \(rc)") }
        return .power(watts: Double(mw) * 1e-3)
    }

    /// Every GPU NVML reports, or none (with the reason) when the library is absent or fails.
    public static func discover(libraryName: String = "libnvidia-ml.so.1") -> (sources: [NVMLSource], problems: [EnergyError]) {
        guard let library = NVMLLibrary(name: libraryName) else {
            return ([], [.unavailable("NVML: \(libraryName) not found (no NVIDIA driver): no GPU source")])
        }
        guard library.initialize() == 0 else { return ([], [.unavailable("NVML: nvmlInit_v2 failed")]) }
        var count: UInt32 = 0
        guard library.deviceCount(&count) == 0 else { return ([], [.unavailable("NVML: nvmlDeviceGetCount_v2 failed")]) }
        var sources: [NVMLSource] = []
        for i in 0..<count {
            var handle: OpaquePointer? = nil
            if library.handleByIndex(i, &handle) == 0, let handle {
                sources.append(NVMLSource(library: library, index: i, device: handle))
            }
        }
        return (sources, [])
    }
}

/// The few NVML entry points we use, resolved with dlsym.
final class NVMLLibrary {
    typealias InitFn = @convention(c) () -> Int32
    typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias EnergyFn = @convention(c) (OpaquePointer, UnsafeMutablePointer<UInt64>) -> Int32
    typealias PowerFn = @convention(c) (OpaquePointer, UnsafeMutablePointer<UInt32>) -> Int32

    let initialize: InitFn
    let deviceCount: CountFn
    let handleByIndex: HandleFn
    let totalEnergy: EnergyFn
    let powerUsage: PowerFn

    init?(name: String) {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<T>(_ name: String, as: T.Type) -> T? {
            guard let p = dlsym(handle, name) else { return nil }
            return unsafeBitCast(p, to: T.self)
        }
        guard let i = symbol("nvmlInit_v2", as: InitFn.self),
              let c = symbol("nvmlDeviceGetCount_v2", as: CountFn.self),
              let h = symbol("nvmlDeviceGetHandleByIndex_v2", as: HandleFn.self),
              let e = symbol("nvmlDeviceGetTotalEnergyConsumption", as: EnergyFn.self),
              let p = symbol("nvmlDeviceGetPowerUsage", as: PowerFn.self) else { return nil }
        initialize = i; deviceCount = c; handleByIndex = h; totalEnergy = e; powerUsage = p
    }
}
