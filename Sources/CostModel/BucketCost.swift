/// What a step's buckets cost on the network that prices them.
extension ScalingPrediction {
    /// The levels that price a machine of `ranks` ranks: fitted without spinning waits where it
    /// has more ranks than cores (and such fits were given), else `network`.
    public func network(ranksPerMachine ranks: Int) -> ClusterCostModel {
        guard let networkWithoutSpin, pricedWithoutSpin(ranksPerMachine: ranks) else { return network }
        return networkWithoutSpin
    }

    /// Core-seconds a rank spends per step in the all-reduces of `buckets` (`comms` seconds each)
    /// on `configuration`'s topology, and in the conversion to and from its 16-bit wire (CPU work,
    /// part of each bucket's seconds). The rest of a bucket's seconds: all of it (waits spin), none
    /// (waits sleep), or what the fit measured (`ClusterCostModel.cpuSeconds`).
    public func threadCPU(_ buckets: [Double], comms: [Double], _ configuration: JobConfiguration,
                          network: ClusterCostModel) -> (comm: Double, conversion: Double) {
        let t = configuration.topology, wire = configuration.wire
        var comm = 0.0, conversion = 0.0
        for (bytes, c) in zip(buckets, comms) {
            let converting = min(c, network.conversionSeconds(bytes: bytes, ranks: t.ranks, wire: wire)), rest = c - converting
            conversion += converting
            switch commPower {
            case .busy: comm += rest
            case .idle: break
            case .measured:
                comm += network.cpuSeconds(t, bytes: bytes, wire: wire, algorithm: configuration.algorithm, seconds: rest) ?? rest
            }
        }
        return (comm, conversion)
    }

    /// Whether a machine of `ranks` ranks is priced at the fits without spin.
    public func pricedWithoutSpin(ranksPerMachine ranks: Int) -> Bool {
        networkWithoutSpin != nil && machineCores > 0 && ranks > machineCores
    }
}

extension ClusterCostModel {
    /// Seconds of each bucket's all-reduce in `configuration`, scaled up together where they sum
    /// to less than one all-reduce of the whole gradient: buckets move the gradient no faster
    /// than one stream of its bytes. (A link that shapes traffic passes one call after a pause as
    /// a burst, which the fit's rows measure; a step's buckets, back to back, do not get the burst
    /// again each: on the emulated 1 Gbit/s link the MLP's 100 kB buckets priced from the rows
    /// summed to a third to two thirds of what its 0.94 MB gradient takes in one.)
    public func bucketSeconds(_ buckets: [Double], _ configuration: JobConfiguration) throws -> [Double] {
        func allReduce(_ bytes: Double) throws -> Double {
            try seconds(bytes: bytes, topology: configuration.topology, algorithm: configuration.algorithm, wire: configuration.wire)
        }
        let comms = try buckets.map(allReduce)
        guard comms.count > 1 else { return comms }
        let sum = comms.reduce(0, +), whole = try allReduce(buckets.reduce(0, +))
        return sum > 0 && whole > sum ? comms.map { $0 * whole / sum } : comms
    }
}
