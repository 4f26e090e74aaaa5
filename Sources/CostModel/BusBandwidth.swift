/// Bus bandwidth as nccl-tests defines it for all-reduce: the algorithm bandwidth (bytes / time)
/// times 2(p−1)/p, the fraction of the data each rank must send and receive whatever the
/// algorithm, so figures compare across rank counts and against link rates. The one definition
/// every figure in Ringwatt calls.
public func busBandwidthFactor(ranks p: Int) -> Double {
    p > 1 ? 2 * Double(p - 1) / Double(p) : 0
}

/// Bytes per second of bus bandwidth for an all-reduce of `bytes` that took `seconds` on `ranks`
/// ranks; 0 for one rank (nothing crosses a bus) or no time.
public func busBandwidth(bytes: Double, seconds: Double, ranks: Int) -> Double {
    seconds > 0 ? bytes / seconds * busBandwidthFactor(ranks: ranks) : 0
}
