import Trainer

/// A CSV file: a header and rows of cells, a cell holding a comma quoted; written atomically.
func writeCSV(_ path: String, header: [String], rows: [[CustomStringConvertible]]) throws {
    func cell(_ value: CustomStringConvertible) -> String {
        let s = value.description
        return s.contains(",") ? "\"\(s)\"" : s
    }
    let lines = [header.joined(separator: ",")] + rows.map { $0.map(cell).joined(separator: ",") }
    try RunDirectory.writeAtomically(path: path, lines.joined(separator: "\n") + "\n")
}
