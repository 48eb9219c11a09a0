/// A plain value read from YAML (filters, override values), kept with its YAML type so engines
/// can turn it into SQL literals or BSON values without guessing.
public indirect enum ConfigValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([ConfigValue])
    /// Keys in file order: a MongoDB filter or update document is order-sensitive.
    case object([(String, ConfigValue)])

    public static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case let .bool(v): hasher.combine(v)
        case let .int(v): hasher.combine(v)
        case let .double(v): hasher.combine(v)
        case let .string(v): hasher.combine(v)
        case let .array(v): hasher.combine(v)
        case let .object(pairs):
            for (key, value) in pairs {
                hasher.combine(key)
                hasher.combine(value)
            }
        }
    }

    /// The value as text, for engines that bind every parameter as text (NULL is nil).
    public var textValue: String? {
        switch self {
        case .null: return nil
        case let .bool(v): return v ? "true" : "false"
        case let .int(v): return String(v)
        case let .double(v): return String(v)
        case let .string(v): return v
        case .array, .object: return jsonText
        }
    }

    /// Compact JSON, for JSON columns and for showing a filter in messages.
    public var jsonText: String {
        switch self {
        case .null: return "null"
        case let .bool(v): return v ? "true" : "false"
        case let .int(v): return String(v)
        case let .double(v): return v.isFinite ? String(v) : "null"
        case let .string(v): return JSONText.quoted(v)
        case let .array(items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case let .object(pairs):
            return "{" + pairs.map { JSONText.quoted($0.0) + ":" + $0.1.jsonText }.joined(separator: ",") + "}"
        }
    }
}
