import Foundation

/// CSV text (RFC 4180): a cell holding a comma, a quote or a line break is quoted, its quotes doubled.
public enum CSVText {
    public static func render(header: [String], rows: [[CustomStringConvertible]]) -> String {
        func cell(_ value: CustomStringConvertible) -> String {
            let s = value.description
            guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([header.joined(separator: ",")] + rows.map { $0.map(cell).joined(separator: ",") }).joined(separator: "\n") + "\n"
    }
}
