import RunFiles

/// A CSV file (RFC 4180 cells), written atomically.
func writeCSV(_ path: String, header: [String], rows: [[CustomStringConvertible]]) throws {
    try RunDirectory.writeAtomically(path: path, CSVText.render(header: header, rows: rows))
}
