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
/// CPU), that cost t_h replaces the derivation: compute stretches by t_h, and the schedule's hiding
/// is taken in the share h = max(0, 1 − t_h / (β_b · t_c)) — all of it where the thread costs
/// backward little (the GPT), none where it costs as long as backward lasts: there the MLP's
/// buckets hid 0.3–2.2 ms of 1.3–15 ms (2 emulated hosts × 1 rank at 1 Gbit/s: 0.3 of 6.4 ms).
extension ScalingPrediction {
    /// Compute's wall time and the exposed communication of an overlapped step: `compute` the
    /// compute's wall time (`stretch` × its CPU time), `threadCPU` the communication thread's CPU
    /// seconds a step.
    func overlapped(_ comms: [Double], buckets: [Double], compute: Double, threadCPU: Double,
                    ranksPerMachine r: Double, stretch: Double) -> (compute: Double, exposed: Double) {
        let cores = Double(machineCores), commSeconds = comms.reduce(0, +)
        let exposed = exposedWithOverlap(comms, buckets: buckets, compute: compute)
        guard cores > 0, commSeconds > 0 else { return (compute, exposed) }
        if let measured = threadCost(ranksPerMachine: Int(r), buckets: buckets.count) {
            let stretched = compute + measured.seconds
            let hides = max(0, 1 - measured.seconds / (backwardFraction * compute))
            let scheduled = exposedWithOverlap(comms, buckets: buckets, compute: stretched)
            return (stretched, commSeconds - hides * (commSeconds - scheduled))
        }
        if r >= cores && threadCPU > compute / stretch { return (compute, commSeconds) }  // owed no core
        let hidden = max(0, commSeconds - exposed) / commSeconds
        let spare = max(0, cores - r) * compute * backwardFraction
        let stretched = compute + max(0, r * hidden * threadCPU - spare) / cores
        return (stretched, exposedWithOverlap(comms, buckets: buckets, compute: stretched))
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
