import DAELayers
import Foundation

/// The package's one JSON policy: Foundation's `JSONDecoder` and
/// `JSONEncoder`, configured here and nowhere else, used by the safetensors
/// header, the checkpoint metadata and the command-line tool's `--json`.
///
/// What the decoder accepts, decided deliberately:
/// - Syntax is RFC 8259; data after the value (other than whitespace) and
///   nesting deeper than Foundation's limit (512) are errors, never a crash.
///   A trailing comma is accepted (Foundation's leniency, harmless).
/// - Integers must have an integral value that fits `Int`: `2.9`, `true`,
///   `"3"` and `1e30` are refused, while `3.0` and `3e0` read as 3 (the
///   value is exact; readers that need exactly an integer literal would
///   need their own tokenizer, and no layout check depends on the spelling).
/// - A key given twice in one object keeps one of its values, as Python's
///   `json` and Rust's `serde_json` maps (the safetensors reference) do.
///   The safetensors reader does not rely on key uniqueness: every byte of
///   the data section must belong to exactly one surviving entry, so an
///   entry dropped by a duplicate name shows up as a gap or trailing bytes.
package enum JSONCoding {
    /// The decoder of the policy above.
    package static func decoder() -> JSONDecoder { JSONDecoder() }

    /// An encoder writing one line with sorted keys and unescaped slashes,
    /// so equal values give equal bytes.
    package static func encoder(sortedKeys: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = sortedKeys ? [.sortedKeys, .withoutEscapingSlashes] : [.withoutEscapingSlashes]
        return encoder
    }

    /// `value` as one line of UTF-8 JSON text.
    package static func string(_ value: some Encodable, sortedKeys: Bool = true) throws -> String {
        String(decoding: try encoder(sortedKeys: sortedKeys).encode(value), as: UTF8.self)
    }

    /// Decodes `T` from UTF-8 JSON text.
    package static func decode<T: Decodable>(_ type: T.Type, from text: some StringProtocol) throws -> T {
        try decoder().decode(type, from: Data(text.utf8))
    }
}

/// Any JSON value, for input whose structure is checked field by field
/// (the safetensors header) so that each problem gets its own message.
package enum JSONValue: Codable, Sendable, Equatable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    /// A number with an integral value that fits `Int` (see ``JSONCoding`` for `3.0`).
    case integer(Int)
    /// Any other number.
    case number(Double)
    case bool(Bool)
    case null

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .object(members): try container.encode(members)
        case let .array(values): try container.encode(values)
        case let .string(text): try container.encode(text)
        case let .integer(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .bool(value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// A short description for error messages: the literal for scalars, the kind otherwise.
    package var summary: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string(let text): return "the string \"\(text.prefix(40))\""
        case .integer(let value): return String(value)
        case .number(let value): return String(String(value).prefix(40))
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        }
    }
}
