import Foundation

/// A JSON value, for the tests to read run files as any JSON reader would (independently of the
/// `Codable` types that write them), and to write small inputs such as a fit file.
indirect enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case int(Int)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    static func == (a: JSON, b: JSON) -> Bool { a.serialized() == b.serialized() }

    func serialized(pretty: Bool = false, indent: String = "") -> String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .number(d):
            guard d.isFinite else { return "null" }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return "\(d)"
        case let .string(s): return JSON.quote(s)
        case let .array(items):
            if !pretty || items.allSatisfy({ if case .object = $0 { false } else if case .array = $0 { false } else { true } }) {
                return "[" + items.map { $0.serialized() }.joined(separator: pretty ? ", " : ",") + "]"
            }
            let inner = indent + "  "
            return "[\n" + items.map { inner + $0.serialized(pretty: true, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case let .object(pairs):
            if !pretty {
                return "{" + pairs.map { JSON.quote($0.0) + ":" + $0.1.serialized() }.joined(separator: ",") + "}"
            }
            let inner = indent + "  "
            return "{\n" + pairs.map { inner + JSON.quote($0.0) + ": " + $0.1.serialized(pretty: true, indent: inner) }
                .joined(separator: ",\n") + "\n" + indent + "}"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// A Float as the shortest decimal that reads back as the same Float (0.1, not 0.10000000149).
    static func float(_ f: Float) -> JSON { .number(Double("\(f)") ?? Double(f)) }

    /// Equal, with numbers compared to 1e-12 relative (JSON parsers may round the last digit).
    func closelyEquals(_ other: JSON) -> Bool {
        switch (self, other) {
        case let (.array(a), .array(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.closelyEquals($1) }
        case let (.object(a), .object(b)):
            return a.count == b.count && a.allSatisfy { key, value in other[key].map { value.closelyEquals($0) } ?? false }
        default:
            if let x = double, let y = other.double { return x == y || abs(x - y) <= 1e-12 * max(abs(x), abs(y)) }
            return self == other
        }
    }

    subscript(key: String) -> JSON? {
        if case let .object(pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }

    var double: Double? {
        switch self {
        case let .number(d): return d
        case let .int(i): return Double(i)
        default: return nil
        }
    }

    var string: String? { if case let .string(s) = self { return s } else { return nil } }
    var array: [JSON]? { if case let .array(a) = self { return a } else { return nil } }
    var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }

    /// Parses JSON text (through Foundation; object key order is not preserved).
    static func parse(_ text: String) throws -> JSON {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return from(object)
    }

    static func from(_ any: Any) -> JSON {
        switch any {
        case is NSNull: return .null
        case let b as Bool where type(of: any) == Bool.self: return .bool(b)
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .number(n.doubleValue)
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map(from))
        case let d as [String: Any]: return .object(d.keys.sorted().map { ($0, from(d[$0]!)) })
        default: return .null
        }
    }
}
