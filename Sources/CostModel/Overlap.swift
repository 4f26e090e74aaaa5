import Collectives

/// Overlap: the communication thread all-reduces buckets while backward still runs.
///
/// Bucket i is ready once backward (a fraction β_b of compute, from the end of the buffer down)
/// has produced its bytes; one thread reduces them in order, start_i = max(ready_i, end_(i−1));
/// what runs past the end of backward is exposed. The thread's CPU while backward runs (its
/// all-reduces' CPU times h, the share of the communication that ends before backward does) takes
/// the cores the machine's ranks leave spare and stretches compute by what does not fit, and the
/// schedule is laid out again on the stretched compute.
///
/// On a machine whose cores all compute (ranks ≥ cores) the scheduler runs the woken thread beside
/// compute only while it has had less CPU than compute has: Linux's EEVDF shares a core between
/// the two threads of a rank fairly, and a thread that needs more CPU a step than the rank's
/// compute is owed nothing when backward wakes it. Probed with the trainer's pattern
/// (scripts/bench/wakeup-probe.c, two at once on 2 cores, the bucket posted 40 % into compute):
/// after 800–2000 µs of communication the thread waited for an 800 µs compute to end; after
/// 500–700 µs it ran at once; beside 1500 µs of compute it ran at once after up to 1200 µs and
/// waited after 2000; beside 3000 µs it ran at once. So when the thread's CPU a step (its
/// all-reduces' and the 16-bit wire's conversion) exceeds the rank's compute, nothing is hidden:
/// the MLP's 0.5 ms backward against ~1.5 ms of spinning all-reduces (a timeline showed its buckets
/// starting when backward ended), not the GPT's 170 ms against tens of ms.
///
/// Where a calibration measured what the thread costs compute (`OverlapCalibration`: on a Zen 1
/// guest the MLP's thread took 2.0 ms a step from a 2.2 ms compute, far beyond its all-reduces'
/// CPU), that cost replaces the derivation. The calibration runs on one node, whose buckets cross
/// shared memory; a configuration whose thread spends more CPU while backward runs (its buckets
/// cross the network stack, whose work the machine's cores do too, or a longer ring, or a 16-bit
/// wire's conversion) costs compute that much more (the GPT at 2 sequences a rank on the Zen 1
/// guest at 10 Gbit/s: compute +11…16 ms a step on 2 emulated hosts × 1 rank, +26…40 on 4 × 1,
/// against the calibration's 4.6 ms over shared memory):
///
///   t_h = t_cal + max(1, r/C) · h_0 · max(0, s · cpu − s_cal · cpu_cal)
///
/// t_cal the calibration's cost for these buckets (`threadCost`), cpu the thread's CPU a step
/// (its all-reduces' and the conversion's), s the share of the communication that ends before
/// backward does (the schedule at the unstretched compute), cpu_cal and s_cal the same for the
/// calibration's node and wire on these buckets, and h_0 = max(0, 1 − t_cal / (β_b · t_c)).
/// Compute stretches by t_h and the schedule's hiding is taken in the share
/// h = max(0, 1 − t_h / (β_b · t_c)) — all of it where the thread costs backward little (the GPT),
/// none where it costs as long as backward lasts: there the MLP's buckets hid 0.3–2.2 ms of
/// 1.3–15 ms (2 emulated hosts × 1 rank at 1 Gbit/s: 0.3 of 6.4 ms), and where the calibration's
/// thread hid nothing (h_0 = 0) its CPU ran after backward and no more is charged. On the
/// calibration's own configuration the second term is 0: t_h = t_cal.
extension ScalingPrediction {
    /// Compute's wall time and the exposed communication of an overlapped step: `compute` the
    /// compute's wall time (`stretch` × its CPU time), `threadCPU` the communication thread's CPU
    /// seconds a step.
    func overlapped(_ comms: [Double], buckets: [Double], compute: Double, threadCPU: Double, configuration: JobConfiguration,
                    ranksPerMachine r: Double, stretch: Double) -> (compute: Double, exposed: Double) {
        let cores = Double(machineCores), commSeconds = comms.reduce(0, +)
        let exposed = exposedWithOverlap(comms, buckets: buckets, compute: compute)
        guard cores > 0, commSeconds > 0 else { return (compute, exposed) }
        let hidden = max(0, commSeconds - exposed) / commSeconds
        if let measured = threadCost(ranksPerMachine: Int(r), buckets: buckets.count) {
            let backward = backwardFraction * compute
            let calibrated = calibrationThreadCPU(buckets, compute: compute, configuration,
                                                  ranks: measured.measuredAtRanks, wire: measured.wire)
            let beyond = calibrated.map { max(1, r / cores) * max(0, hidden * threadCPU - $0) } ?? 0
            let cost = measured.seconds + max(0, 1 - measured.seconds / backward) * beyond
            let hides = max(0, 1 - cost / backward)
            let scheduled = exposedWithOverlap(comms, buckets: buckets, compute: compute + cost)
            return (compute + cost, commSeconds - hides * (commSeconds - scheduled))
        }
        if r >= cores && threadCPU > compute / stretch { return (compute, commSeconds) }  // owed no core
        let spare = max(0, cores - r) * compute * backwardFraction
        let stretched = compute + max(0, r * hidden * threadCPU - spare) / cores
        return (stretched, exposedWithOverlap(comms, buckets: buckets, compute: stretched))
    }

    /// The CPU the overlap calibration's thread (one node of `ranks` ranks, `wire` on the wire)
    /// spends on `buckets` before a backward of `compute` ends: its share of the communication that
    /// ends by then times its all-reduces' and conversion's CPU. nil where that node's level was
    /// not fitted.
    func calibrationThreadCPU(_ buckets: [Double], compute: Double, _ configuration: JobConfiguration,
                              ranks k: Int, wire: WireFormat) -> Double? {
        var at = configuration
        at.topology = Topology(nodes: 1, ranksPerNode: k); at.wire = wire
        let network = network(ranksPerMachine: k)
        guard let comms = try? network.bucketSeconds(buckets, at) else { return nil }
        let total = comms.reduce(0, +)
        guard total > 0 else { return 0 }
        let cpu = threadCPU(buckets, comms: comms, at, network: network)
        return max(0, total - exposedWithOverlap(comms, buckets: buckets, compute: compute)) / total * (cpu.comm + cpu.conversion)
    }

    /// Communication left over once backward ends, when bucket i (in reduction order) becomes ready
    /// after forward and the share of backward that produces the bytes up to and including it.
    func exposedWithOverlap(_ comms: [Double], buckets: [Double], compute: Double) -> Double {
        let total = buckets.reduce(0, +), forward = compute * (1 - backwardFraction)
        var produced = 0.0, end = 0.0
        for (c, bytes) in zip(comms, buckets) {
            produced += bytes
            end = max(forward + compute * backwardFraction * produced / total, end) + c
        }
        return max(0, end - compute)
    }
}
