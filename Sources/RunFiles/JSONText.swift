import Foundation

/// Compact JSON text for `Encodable` values, byte for byte what `RunFileCoding.encoder()`'s
/// JSONEncoder writes (sorted keys, slashes unescaped, non-finite numbers as "nan", "inf", "-inf",
/// integral numbers without ".0", absent optionals left out), written straight into a byte buffer.
///
/// iterations.jsonl gets a line per iteration at every flush, and the writer thread that encodes
/// them shares the rank's core when mpirun binds ranks to cores, so encoding a line is training
/// time (measured in docs/PERFORMANCE.md). The run-file types stay the single definition of the
/// schema (their CodingKeys); only the encoding is cheaper. Tested against JSONEncoder.
package enum JSONText {
    /// One text per value. Values of one type usually present the same keys in the same order, so
    /// the sorted order of the last object's keys is kept and reused while it fits.
    package static func lines<T: Encodable>(_ values: [T]) throws -> [String] {
        let order = KeyOrder()
        var out: [UInt8] = []
        return try values.map { value in
            let root = JSONNode()
            try value.encode(to: JSONNodeEncoder(root, codingPath: []))
            out.removeAll(keepingCapacity: true)
            root.write(to: &out, order: order)
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Double or Float: its shortest round-trip text, without a trailing ".0".
    package static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ x: F) -> String {
        guard x.isFinite else { return x.isNaN ? "\"nan\"" : x > 0 ? "\"inf\"" : "\"-inf\"" }
        var text = x.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    package static func string(_ s: String) -> String {
        var out: [UInt8] = []
        append(string: s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `s` quoted and escaped: most strings (keys, source names) need no escape and are copied whole.
    package static func append(string s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var plain = true
        let start = out.count
        for byte in s.utf8 {
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { plain = false; break }
            out.append(byte)
        }
        if plain {
            out.append(UInt8(ascii: "\""))
            return
        }
        out.removeSubrange(start...)
        var text = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{8}": text += "\\b"
            case "\u{c}": text += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        out.append(contentsOf: text.utf8)
        out.append(UInt8(ascii: "\""))
    }
}

/// One value under construction: a scalar's text, an object's members or an array's elements.
private final class JSONNode {
    /// A member's or element's value: its text when it is a scalar, else its node.
    package enum Piece { case text(String), node(JSONNode) }
    package enum Content { case empty, scalar(String), object([(key: String, value: Piece)]), array([Piece]) }
    package var content = Content.empty

    package init() {}

    package func add(_ key: String, _ piece: Piece) {
        if case .object(var members) = content {
            content = .empty  // keeps the array uniquely referenced while it grows
            members.append((key, piece))
            content = .object(members)
        } else {
            content = .object([(key, piece)])
        }
    }

    package func append(_ piece: Piece) {
        if case .array(var elements) = content {
            content = .empty
            elements.append(piece)
            content = .array(elements)
        } else {
            content = .array([piece])
        }
    }

    package var count: Int {
        switch content {
        case .object(let m): m.count
        case .array(let e): e.count
        default: 0
        }
    }

    package func write(to out: inout [UInt8], order: KeyOrder) {
        switch content {
        case .empty: out.append(contentsOf: "{}".utf8)
        case .scalar(let text): out.append(contentsOf: text.utf8)
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, m) in order.sorted(members).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.append(string: members[m].key, to: &out)
                out.append(UInt8(ascii: ":"))
                Self.write(members[m].value, to: &out, order: order)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(element, to: &out, order: order)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    package static func write(_ piece: Piece, to out: inout [UInt8], order: KeyOrder) {
        switch piece {
        case .text(let text): out.append(contentsOf: text.utf8)
        case .node(let node): node.write(to: &out, order: order)
        }
    }
}

/// The sorted order of an object's members, remembered for the next object with the same keys in
/// the same order (comparing keys that come from one CodingKeys type is a pointer comparison).
private final class KeyOrder {
    private var keys: [String] = []
    private var order: [Int] = []

    package func sorted(_ members: [(key: String, value: JSONNode.Piece)]) -> [Int] {
        if members.count != keys.count || !zip(members, keys).allSatisfy({ $0.key == $1 }) {
            keys = members.map(\.key)
            order = keys.indices.sorted { keys[$0] < keys[$1] }
        }
        return order
    }
}

private struct JSONNodeEncoder: Encoder {
    package let node: JSONNode
    package let codingPath: [CodingKey]
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    package init(_ node: JSONNode, codingPath: [CodingKey]) { self.node = node; self.codingPath = codingPath }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .empty = node.content { node.content = .object([]) }
        return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }

    package func unkeyedContainer() -> UnkeyedEncodingContainer {
        if case .empty = node.content { node.content = .array([]) }
        return Unkeyed(node: node, codingPath: codingPath)
    }

    package func singleValueContainer() -> SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }

    /// A value's node: scalars directly, anything else through its own `encode(to:)`.
    package static func piece<T: Encodable>(_ value: T, codingPath: [CodingKey]) throws -> JSONNode.Piece {
        switch value {
        case let x as Double: return .text(JSONText.number(x))
        case let x as Float: return .text(JSONText.number(x))
        case let x as String: return .text(JSONText.string(x))
        case let x as Bool: return .text(x ? "true" : "false")
        case let x as any BinaryInteger: return .text("\(x)")
        default:
            let child = JSONNode()
            try value.encode(to: JSONNodeEncoder(child, codingPath: codingPath))
            if case .scalar(let text) = child.content { return .text(text) }
            return .node(child)
        }
    }

    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: JSONNode
        let codingPath: [CodingKey]

        private func put(_ text: String, _ key: Key) { node.add(key.stringValue, .text(text)) }
        mutating func encodeNil(forKey key: Key) { put("null", key) }
        mutating func encode(_ value: Bool, forKey key: Key) { put(value ? "true" : "false", key) }
        mutating func encode(_ value: String, forKey key: Key) { put(JSONText.string(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) { put(JSONText.number(value), key) }
        mutating func encode(_ value: Float, forKey key: Key) { put(JSONText.number(value), key) }
        mutating func encode(_ value: Int, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: Int8, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: Int16, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: Int32, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: Int64, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: UInt, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) { put(String(value), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) { put(String(value), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            node.add(key.stringValue, try JSONNodeEncoder.piece(value, codingPath: codingPath + [key]))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                            forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = JSONNode()
            child.content = .object([])
            node.add(key.stringValue, .node(child))
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, codingPath: codingPath + [key]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
            let child = JSONNode()
            child.content = .array([])
            node.add(key.stringValue, .node(child))
            return Unkeyed(node: child, codingPath: codingPath + [key])
        }
        mutating func superEncoder() -> Encoder { superEncoder(named: "super") }
        mutating func superEncoder(forKey key: Key) -> Encoder { superEncoder(named: key.stringValue) }
        private func superEncoder(named name: String) -> Encoder {
            let child = JSONNode()
            node.add(name, .node(child))
            return JSONNodeEncoder(child, codingPath: codingPath)
        }
    }

    private struct Unkeyed: UnkeyedEncodingContainer {
        let node: JSONNode
        let codingPath: [CodingKey]
        var count: Int { node.count }

        mutating func encodeNil() { node.append(.text("null")) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            node.append(try JSONNodeEncoder.piece(value, codingPath: codingPath))
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = JSONNode()
            child.content = .object([])
            node.append(.node(child))
            return KeyedEncodingContainer(Keyed<NestedKey>(node: child, codingPath: codingPath))
        }
        mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
            let child = JSONNode()
            child.content = .array([])
            node.append(.node(child))
            return Unkeyed(node: child, codingPath: codingPath)
        }
        mutating func superEncoder() -> Encoder {
            let child = JSONNode()
            node.append(.node(child))
            return JSONNodeEncoder(child, codingPath: codingPath)
        }
    }

    private struct Single: SingleValueEncodingContainer {
        let node: JSONNode
        let codingPath: [CodingKey]

        mutating func encodeNil() { node.content = .scalar("null") }
        mutating func encode<T: Encodable>(_ value: T) throws {
            switch try JSONNodeEncoder.piece(value, codingPath: codingPath) {
            case .text(let text): node.content = .scalar(text)
            case .node(let child): node.content = child.content
            }
        }
    }
}
