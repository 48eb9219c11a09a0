import Snapmask

/// A decoded BSON value, for the control plane only: commands, replies, index specifications,
/// collection options, filters. Values the driver never interprets (regex, timestamp, code, ...)
/// are kept as their raw bytes, so a document decoded and encoded again is byte-identical.
/// Documents on the data path are never decoded into this form.
indirect enum BSONValue: Equatable {
    case double(Double)
    case string(String)
    case document(BSONDoc)
    case array([BSONValue])
    case binary(subtype: UInt8, bytes: [UInt8])
    case objectId([UInt8])
    case bool(Bool)
    case date(Int64)
    case null
    case int32(Int32)
    case int64(Int64)
    /// Any other type, as (type byte, value bytes).
    case raw(type: UInt8, bytes: [UInt8])

    var type: UInt8 {
        switch self {
        case .double: return BSONType.double
        case .string: return BSONType.string
        case .document: return BSONType.document
        case .array: return BSONType.array
        case .binary: return BSONType.binary
        case .objectId: return BSONType.objectId
        case .bool: return BSONType.bool
        case .date: return BSONType.dateTime
        case .null: return BSONType.null
        case .int32: return BSONType.int32
        case .int64: return BSONType.int64
        case let .raw(type, _): return type
        }
    }

    var document: BSONDoc? {
        if case let .document(document) = self { return document }
        return nil
    }

    var array: [BSONValue]? {
        if case let .array(items) = self { return items }
        return nil
    }

    var string: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    var bool: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    /// Any numeric value as an integer (server replies mix int32, int64 and double).
    var int: Int? {
        switch self {
        case let .int32(value): return Int(value)
        case let .int64(value): return Int(value)
        case let .double(value) where value.isFinite && value == value.rounded(): return Int(value)
        default: return nil
        }
    }

    /// A YAML value from a rule or override file. Strings stay strings; a mapping that is one
    /// extended-JSON wrapper (`{ $date: "2024-01-01T00:00:00Z" }`, `{ $oid: ... }`,
    /// `{ $numberLong: ... }`, `{ $numberDecimal: ... }`) becomes that BSON type.
    static func from(_ value: ConfigValue) throws -> BSONValue {
        switch value {
        case .null: return .null
        case let .bool(flag): return .bool(flag)
        case let .int(number):
            if let small = Int32(exactly: number) { return .int32(small) }
            return .int64(number)
        case let .double(number): return .double(number)
        case let .string(text): return .string(text)
        case let .array(items): return .array(try items.map(from))
        case let .object(pairs):
            if pairs.count == 1, pairs[0].0.hasPrefix("$"), ["$date", "$oid", "$numberLong", "$numberDecimal",
                                                             "$numberInt", "$numberDouble", "$binary", "$uuid"]
                .contains(pairs[0].0) {
                // libbson parses the extended JSON wrapper into the exact type.
                let parsed = try BSONDocument(json: "{\"v\": \(value.jsonText)}")
                guard let decoded = try BSONDoc(bytes: parsed.bytes)["v"] else {
                    throw DocumentDBError("\(pairs[0].0) could not be read as extended JSON")
                }
                return decoded
            }
            return .document(BSONDoc(try pairs.map { ($0.0, try from($0.1)) }))
        }
    }
}

/// A decoded document: fields in order (order matters to commands and index keys).
struct BSONDoc: Equatable, ExpressibleByDictionaryLiteral {
    var fields: [(key: String, value: BSONValue)]

    init(_ fields: [(String, BSONValue)] = []) {
        self.fields = fields.map { (key: $0.0, value: $0.1) }
    }

    init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.init(elements)
    }

    static func == (lhs: BSONDoc, rhs: BSONDoc) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    subscript(key: String) -> BSONValue? {
        get { fields.first { $0.key == key }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append((key: key, value: newValue))
            }
        }
    }

    var keys: [String] { fields.map(\.key) }

    /// Decodes the document starting at `start` of `bytes`.
    init(bytes: [UInt8], at start: Int = 0) throws {
        self = try bytes.withUnsafeBytes { raw in try BSONDoc.decode(BSONReader(raw), at: start) }
    }

    static func decode(_ reader: BSONReader, at start: Int) throws -> BSONDoc {
        var fields: [(String, BSONValue)] = []
        try reader.forEachElement(ofDocumentAt: start) { element in
            fields.append((reader.key(element), try decodeValue(reader, element)))
        }
        return BSONDoc(fields)
    }

    static func decodeValue(_ reader: BSONReader, _ element: BSONElement) throws -> BSONValue {
        let start = element.valueStart
        switch element.type {
        case BSONType.double: return .double(Double(bitPattern: UInt64(bitPattern: reader.int64(at: start))))
        case BSONType.string: return .string(reader.stringValue(element))
        case BSONType.document: return .document(try decode(reader, at: start))
        case BSONType.array:
            return .array(try decode(reader, at: start).fields.map(\.value))
        case BSONType.binary:
            return .binary(subtype: reader.byte(at: start + 4), bytes: Array(reader.bytes((start + 5)..<element.end)))
        case BSONType.objectId: return .objectId(Array(reader.bytes(start..<element.end)))
        case BSONType.bool: return .bool(reader.byte(at: start) != 0)
        case BSONType.dateTime: return .date(reader.int64(at: start))
        case BSONType.null: return .null
        case BSONType.int32: return .int32(reader.int32(at: start))
        case BSONType.int64: return .int64(reader.int64(at: start))
        default: return .raw(type: element.type, bytes: Array(reader.bytes(start..<element.end)))
        }
    }

    /// The document as BSON.
    var bytes: [UInt8] {
        var writer = BSONWriter(capacity: 64)
        Self.encode(self, into: &writer)
        return writer.bytes
    }

    static func encode(_ document: BSONDoc, into writer: inout BSONWriter) {
        let start = writer.beginDocument()
        for (key, value) in document.fields { encode(key, value, into: &writer) }
        writer.endDocument(start)
    }

    static func encode(_ key: String, _ value: BSONValue, into writer: inout BSONWriter) {
        writer.appendKey(type: value.type, key: key)
        switch value {
        case let .double(number): writer.appendDouble(number)
        case let .string(text): writer.appendStringValue(text)
        case let .document(document): encode(document, into: &writer)
        case let .array(items):
            encode(BSONDoc(items.enumerated().map { (String($0.offset), $0.element) }), into: &writer)
        case let .binary(subtype, bytes):
            writer.appendInt32(Int32(bytes.count))
            writer.bytes.append(subtype)
            writer.bytes.append(contentsOf: bytes)
        case let .objectId(bytes): writer.bytes.append(contentsOf: bytes)
        case let .bool(flag): writer.bytes.append(flag ? 1 : 0)
        case let .date(millis): writer.appendInt64(millis)
        case .null: break
        case let .int32(number): writer.appendInt32(number)
        case let .int64(number): writer.appendInt64(number)
        case let .raw(_, bytes): writer.bytes.append(contentsOf: bytes)
        }
    }

    /// Relaxed extended JSON, for messages (libbson's rendering).
    var json: String {
        (try? BSONDocument(bytes: bytes).json) ?? "{}"
    }
}
