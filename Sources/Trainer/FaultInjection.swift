import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

/// Faults the tests inject through the environment, read once before the loop.
/// RINGWATT_FAULT_PERTURB=RANK:ITERATION: that rank nudges the first parameter of group 1 (layer 1
/// of the MLP) after that iteration's update, so replicas diverge.
struct FaultInjection {
    let perturb: (rank: Int, iteration: Int)?

    init(environment: [String: String]) {
        let p = environment["RINGWATT_FAULT_PERTURB"]?.split(separator: ":").compactMap { Int($0) } ?? []
        perturb = p.count == 2 ? (p[0], p[1]) : nil
    }

    func afterUpdate<M: TrainableModel>(_ model: M, rank: Int, iteration: Int) {
        guard let perturb, perturb == (rank, iteration), model.parameterGroups.count > 1 else { return }
        model.parameters.pointer[model.parameterGroups[1].lowerBound] += 1e-3
    }
}
