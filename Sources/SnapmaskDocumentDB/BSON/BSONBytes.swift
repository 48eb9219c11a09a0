/// BSON (bsonspec.org) is a length-prefixed format: a document is an int32 byte count, its
/// elements (type byte, NUL-terminated key, value) and a 0 byte. This file reads elements in
/// place without copying and writes documents with their lengths patched in at the end, so the
/// masker copies kept elements as raw bytes and decodes only the values it masks.

/// The element types of the BSON specification.
enum BSONType {
    static let double: UInt8 = 0x01
    static let string: UInt8 = 0x02
    static let document: UInt8 = 0x03
    static let array: UInt8 = 0x04
    static let binary: UInt8 = 0x05
    static let undefined: UInt8 = 0x06
    static let objectId: UInt8 = 0x07
    static let bool: UInt8 = 0x08
    static let dateTime: UInt8 = 0x09
    static let null: UInt8 = 0x0A
    static let regex: UInt8 = 0x0B
    static let dbPointer: UInt8 = 0x0C
    static let javascript: UInt8 = 0x0D
    static let symbol: UInt8 = 0x0E
    static let javascriptWithScope: UInt8 = 0x0F
    static let int32: UInt8 = 0x10
    static let timestamp: UInt8 = 0x11
    static let int64: UInt8 = 0x12
    static let decimal128: UInt8 = 0x13
    static let minKey: UInt8 = 0xFF
    static let maxKey: UInt8 = 0x7F

    /// MongoDB's `$type` alias of a type, as DBAs know them (`string`, `long`, `binData`).
    static func name(_ type: UInt8) -> String {
        switch type {
        case double: return "double"
        case string: return "string"
        case document: return "object"
        case array: return "array"
        case binary: return "binData"
        case undefined: return "undefined"
        case objectId: return "objectId"
        case bool: return "bool"
        case dateTime: return "date"
        case null: return "null"
        case regex: return "regex"
        case dbPointer: return "dbPointer"
        case javascript: return "javascript"
        case symbol: return "symbol"
        case javascriptWithScope: return "javascriptWithScope"
        case int32: return "int"
        case timestamp: return "timestamp"
        case int64: return "long"
        case decimal128: return "decimal"
        case minKey: return "minKey"
        case maxKey: return "maxKey"
        default: return "type 0x" + String(type, radix: 16)
        }
    }
}

/// Bytes that are not valid BSON. The reason never quotes the bytes: they may be personal data.
struct BSONFormatError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "malformed BSON: \(reason)" }
}

/// One element of a document, located in its buffer.
struct BSONElement {
    var type: UInt8
    /// Offset of the type byte.
    var start: Int
    /// The key's bytes are `keyStart..<keyEnd` (keyEnd is the NUL).
    var keyStart: Int
    var keyEnd: Int
    var valueStart: Int
    /// One past the element's last byte.
    var end: Int
}

/// Reads elements of documents inside one buffer, checking every length against the bounds.
struct BSONReader {
    let base: UnsafeRawPointer
    let count: Int

    init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        count = buffer.count
    }

    @inline(__always)
    func int32(at offset: Int) -> Int32 {
        Int32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: Int32.self))
    }

    @inline(__always)
    func int64(at offset: Int) -> Int64 {
        Int64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: Int64.self))
    }

    @inline(__always)
    func byte(at offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    /// The end of the document starting at `start` (checked: within `limit`, ends with 0).
    @inline(__always)
    func documentEnd(at start: Int, limit: Int) throws -> Int {
        guard start + 5 <= limit else { throw BSONFormatError(reason: "a document is cut short") }
        let length = Int(int32(at: start))
        guard length >= 5, start + length <= limit else { throw BSONFormatError(reason: "a document length is out of bounds") }
        guard byte(at: start + length - 1) == 0 else { throw BSONFormatError(reason: "a document does not end with 0") }
        return start + length
    }

    /// The element at `position` inside a document whose terminating 0 is at `limit`.
    @inline(__always)
    func element(at position: Int, limit: Int) throws -> BSONElement {
        let type = byte(at: position)
        let keyStart = position + 1
        var keyEnd = keyStart
        while keyEnd < limit && byte(at: keyEnd) != 0 { keyEnd += 1 }
        guard keyEnd < limit else { throw BSONFormatError(reason: "a key is not terminated") }
        let valueStart = keyEnd + 1
        let end = try valueEnd(type: type, at: valueStart, limit: limit)
        return BSONElement(type: type, start: position, keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, end: end)
    }

    @inline(__always)
    func valueEnd(type: UInt8, at start: Int, limit: Int) throws -> Int {
        // The common fixed-size types first, without the checks' closures.
        switch type {
        case BSONType.string:
            if start + 4 <= limit {
                let end = start + 4 + Int(int32(at: start))
                if end > start + 4 && end <= limit && byte(at: end - 1) == 0 { return end }
            }
        case BSONType.int32: if start + 4 <= limit { return start + 4 }
        case BSONType.double, BSONType.dateTime, BSONType.int64: if start + 8 <= limit { return start + 8 }
        case BSONType.objectId: if start + 12 <= limit { return start + 12 }
        case BSONType.bool: if start + 1 <= limit { return start + 1 }
        case BSONType.null: return start
        default: break
        }
        return try slowValueEnd(type: type, at: start, limit: limit)
    }

    func slowValueEnd(type: UInt8, at start: Int, limit: Int) throws -> Int {
        func fixed(_ size: Int) throws -> Int {
            guard start + size <= limit else { throw BSONFormatError(reason: "a \(BSONType.name(type)) value is cut short") }
            return start + size
        }
        func lengthPrefixed(extra: Int, minimum: Int) throws -> Int {
            guard start + 4 <= limit else { throw BSONFormatError(reason: "a \(BSONType.name(type)) length is cut short") }
            let length = Int(int32(at: start))
            guard length >= minimum, start + 4 + extra + length <= limit else {
                throw BSONFormatError(reason: "a \(BSONType.name(type)) length is out of bounds")
            }
            return start + 4 + extra + length
        }
        func cstring(from: Int) throws -> Int {
            var end = from
            while end < limit && byte(at: end) != 0 { end += 1 }
            guard end < limit else { throw BSONFormatError(reason: "a \(BSONType.name(type)) text is not terminated") }
            return end + 1
        }
        switch type {
        case BSONType.double, BSONType.dateTime, BSONType.timestamp, BSONType.int64: return try fixed(8)
        case BSONType.string, BSONType.javascript, BSONType.symbol:
            let end = try lengthPrefixed(extra: 0, minimum: 1)
            guard byte(at: end - 1) == 0 else { throw BSONFormatError(reason: "a string does not end with 0") }
            return end
        case BSONType.document, BSONType.array, BSONType.javascriptWithScope: return try documentEnd(at: start, limit: limit)
        case BSONType.binary: return try lengthPrefixed(extra: 1, minimum: 0)
        case BSONType.undefined, BSONType.null, BSONType.minKey, BSONType.maxKey: return start
        case BSONType.objectId: return try fixed(12)
        case BSONType.bool: return try fixed(1)
        case BSONType.regex: return try cstring(from: try cstring(from: start))
        case BSONType.dbPointer: return try fixed(12 + (try lengthPrefixed(extra: 0, minimum: 1) - start))
        case BSONType.int32: return try fixed(4)
        case BSONType.decimal128: return try fixed(16)
        default: throw BSONFormatError(reason: "unknown element type 0x\(String(type, radix: 16))")
        }
    }

    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: bytes(range), as: UTF8.self)
    }

    func key(_ element: BSONElement) -> String { string(element.keyStart..<element.keyEnd) }

    /// The text of a string element (without its length and NUL).
    func stringValue(_ element: BSONElement) -> String {
        string((element.valueStart + 4)..<(element.end - 1))
    }

    /// Calls `body` for each element of the document at `start`.
    func forEachElement(ofDocumentAt start: Int, _ body: (BSONElement) throws -> Void) throws {
        let end = try documentEnd(at: start, limit: count)
        var position = start + 4
        while position < end - 1 {
            let element = try element(at: position, limit: end - 1)
            try body(element)
            position = element.end
        }
    }
}

/// Builds BSON into a byte array.
struct BSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Starts a document; returns where its length goes.
    @inline(__always)
    mutating func beginDocument() -> Int {
        let start = bytes.count
        appendInt32(0)
        return start
    }

    @inline(__always)
    mutating func endDocument(_ start: Int) {
        bytes.append(0)
        let length = Int32(bytes.count - start).littleEndian
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: length, toByteOffset: start, as: Int32.self) }
    }

    /// Copies raw bytes (as a typed buffer: Array copies those with one memcpy).
    @inline(__always)
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let base = raw.baseAddress, raw.count > 0 else { return }
        bytes.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: raw.count))
    }

    @inline(__always)
    mutating func appendKey(type: UInt8, key: UnsafeRawBufferPointer) {
        bytes.append(type)
        append(key)
        bytes.append(0)
    }

    mutating func appendKey(type: UInt8, key: String) {
        bytes.append(type)
        bytes.append(contentsOf: key.utf8)
        bytes.append(0)
    }

    @inline(__always)
    mutating func appendInt32(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
    }

    @inline(__always)
    mutating func appendInt64(_ value: Int64) {
        appendInt32(Int32(truncatingIfNeeded: value))
        appendInt32(Int32(truncatingIfNeeded: value >> 32))
    }

    mutating func appendDouble(_ value: Double) {
        appendInt64(Int64(bitPattern: value.bitPattern))
    }

    /// A string value: length (with the NUL), bytes, NUL.
    @inline(__always)
    mutating func appendStringValue(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            appendInt32(Int32(utf8.count + 1))
            bytes.append(contentsOf: utf8)
        }
        bytes.append(0)
    }
}
