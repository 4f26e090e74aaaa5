import Accounting
import RunFiles
import Collectives
import Foundation
import Model
import Support

/// The trainer's float after the gradients: it travels through every all-reduce, so a stop
/// request on any rank reaches every rank in the same step, at no extra collective.
struct ControlSlot {
    /// Floats the slot takes after the gradients (the models' `gradientSlack`).
    static let floats = 1

    let pointer: UnsafeMutablePointer<Float>

    func send(stop: Bool) { pointer[0] = stop ? 1 : 0 }
    /// After the all-reduce: some rank asked to stop (the average of 0s and 1s is above 0).
    var stopRequested: Bool { pointer[0] > 0 }
}
