/// Facility-level accounting on top of measured IT energy:
/// E = E_compute + E_transfer + E_storage + E_aux, with
///   E_compute  = measured (or estimated) joules of the ranks,
///   E_transfer = network joules per byte × bytes moved (an estimate of the wire and switches),
///   E_storage  = not modelled (0; checkpoints are small),
///   E_aux      = (PUE − 1) · (E_compute + E_transfer + E_storage), cooling and power delivery.
public struct EnergyAccounting: Sendable, Equatable, Codable {
    public var pue: Double
    public var networkJoulesPerByte: Double
    public var carbonGramsPerKWh: Double
    public var pricePerKWh: Double?

    public init(pue: Double = 1.0, networkJoulesPerByte: Double = 0, carbonGramsPerKWh: Double = 475,
                pricePerKWh: Double? = nil) {
        self.pue = pue; self.networkJoulesPerByte = networkJoulesPerByte
        self.carbonGramsPerKWh = carbonGramsPerKWh; self.pricePerKWh = pricePerKWh
    }

    public struct Totals: Sendable, Equatable, Codable {
        public var computeJ: Double
        public var transferJ: Double
        public var storageJ: Double
        public var auxJ: Double
        public var totalJ: Double
        public var kWh: Double
        public var co2Grams: Double
        public var cost: Double?
    }

    public func totals(measuredJoules: Double, bytesMoved: Double) -> Totals {
        let transfer = networkJoulesPerByte * bytesMoved
        let it = measuredJoules + transfer
        let aux = (pue - 1) * it
        let total = it + aux
        let kWh = total / 3.6e6
        return Totals(computeJ: measuredJoules, transferJ: transfer, storageJ: 0, auxJ: aux, totalJ: total,
                      kWh: kWh, co2Grams: kWh * carbonGramsPerKWh, cost: pricePerKWh.map { $0 * kWh })
    }
}
