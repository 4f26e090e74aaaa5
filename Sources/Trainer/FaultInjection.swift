import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

/// Faults the tests inject through the environment, read once before the loop.
/// RINGWATT_FAULT_PERTURB=RANK:ITERATION: that rank nudges the first parameter of group 1 (layer 1
/// of the MLP) after that iteration's update, so replicas diverge.
/// RINGWATT_FAULT_STOP_AT=ITERATION: every rank is asked to stop at that iteration, as SIGTERM
/// would ask (a checkpoint, status interrupted) — at a known iteration, where a signal's timing is not.
struct FaultInjection {
    let perturb: (rank: Int, iteration: Int)?
    let stopAt: Int?

    init(environment: [String: String]) {
        let p = environment["RINGWATT_FAULT_PERTURB"]?.split(separator: ":").compactMap { Int($0) } ?? []
        perturb = p.count == 2 ? (p[0], p[1]) : nil
        stopAt = environment["RINGWATT_FAULT_STOP_AT"].flatMap { Int($0) }
    }

    func beforeStep(iteration: Int) {
        if stopAt == iteration { stopRequested.store(SIGTERM, ordering: .relaxed) }
    }

    func afterUpdate<M: TrainableModel>(_ model: M, rank: Int, iteration: Int) {
        guard let perturb, perturb == (rank, iteration), model.parameterGroups.count > 1 else { return }
        model.parameters.pointer[model.parameterGroups[1].lowerBound] += 1e-3
    }
}
