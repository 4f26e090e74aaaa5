import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

/// Faults the tests inject through the environment, read once before the loop.
/// RINGWATT_FAULT_PERTURB=RANK:ITERATION: that rank nudges the first parameter of group 1 (layer 1
/// of the MLP) after that iteration's update, so replicas diverge.
/// RINGWATT_FAULT_STOP_AT=ITERATION[:SIGNAL]: every rank is asked to stop at that iteration, as
/// SIGTERM (or SIGUSR1, 10: preemption) would ask — at a known iteration, where a signal's timing
/// is not. RINGWATT_FAULT_KILL_AT=RANK:ITERATION[:SIGNAL]: that rank sends itself SIGNAL (default
/// SIGKILL: dies, as a crashed node would; SIGTERM: asks to stop, through the real handler; SIGSTOP:
/// hangs, alive but silent) at that iteration of a run that was not resumed. A test's signal sent
/// from outside races the run to its end; this one lands mid-run every time.
struct FaultInjection {
    let perturb: (rank: Int, iteration: Int)?
    let stopAt: Int?
    let stopSignal: Int32
    let killAt: (rank: Int, iteration: Int)?
    let killSignal: Int32

    init(environment: [String: String]) {
        let p = environment["RINGWATT_FAULT_PERTURB"]?.split(separator: ":").compactMap { Int($0) } ?? []
        perturb = p.count == 2 ? (p[0], p[1]) : nil
        let stop = environment["RINGWATT_FAULT_STOP_AT"]?.split(separator: ":").compactMap { Int($0) } ?? []
        stopAt = stop.first
        stopSignal = stop.count > 1 ? Int32(stop[1]) : SIGTERM
        let k = environment["RINGWATT_FAULT_KILL_AT"]?.split(separator: ":").compactMap { Int($0) } ?? []
        killAt = k.count >= 2 ? (k[0], k[1]) : nil
        killSignal = k.count > 2 ? Int32(k[2]) : SIGKILL
    }

    func beforeStep(iteration: Int, resumed: Bool, rank: Int) {
        if stopAt == iteration { stopRequested.store(stopSignal, ordering: .relaxed) }
        if let killAt, !resumed, killAt == (rank, iteration) { kill(getpid(), killSignal) }
    }

    func afterUpdate<M: TrainableModel>(_ model: M, rank: Int, iteration: Int) {
        guard let perturb, perturb == (rank, iteration), model.parameterGroups.count > 1 else { return }
        model.parameters.pointer[model.parameterGroups[1].lowerBound] += 1e-3
    }
}
