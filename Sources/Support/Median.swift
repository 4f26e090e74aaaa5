/// The middle value of `values` (the upper of the two middles for an even count); nil if empty.
/// What every benchmark here reports of repeated timings.
public func median(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.sorted()[values.count / 2]
}
