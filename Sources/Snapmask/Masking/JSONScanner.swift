/// Reads JSON text in place, byte by byte: the primitives the JSON masker and the JSON path
/// discovery share. Nothing is decoded unless asked for (a key without escapes is compared where
/// it lies), and containers that are only skipped are matched bracket by bracket without
/// recursion, so deeply nested values cannot exhaust the stack.
struct JSONScanner {
    struct Failure: Error {
        var reason: String
    }

    enum Kind {
        case object, array, string, number, bool, null

        /// As messages name it.
        var name: String {
            switch self {
            case .object: return "an object"
            case .array: return "an array"
            case .string: return "a string"
            case .number: return "a number"
            case .bool: return "a boolean"
            case .null: return "null"
            }
        }
    }

    enum Key {
        /// The key's bytes in the input (no escapes).
        case inPlace(Range<Int>)
        case decoded(String)
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0a, 0x0d, 0x09: position += 1
            default: return
            }
        }
    }

    /// The kind of the value at `position` (after spaces), without moving.
    func kind() throws -> Kind {
        guard position < bytes.count else { throw Failure(reason: "unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), 48...57: return .number
        default: throw Failure(reason: "unexpected character")
        }
    }

    /// Whether the value at `position` holds nothing: null, `{}` or `[]` (with spaces inside).
    func holdsNothing() -> Bool {
        guard position < bytes.count else { return false }
        let open = bytes[position]
        if open == UInt8(ascii: "n") { return true }
        guard open == UInt8(ascii: "{") || open == UInt8(ascii: "[") else { return false }
        var index = position + 1
        while index < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[index]) { index += 1 }
        return index < bytes.count && bytes[index] == (open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]"))
    }

    mutating func expect(_ byte: UInt8) throws {
        guard position < bytes.count, bytes[position] == byte else {
            throw Failure(reason: "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    mutating func literal(_ word: String) throws {
        for byte in word.utf8 { try expect(byte) }
    }

    /// After an element of an object or array: true when another follows (the comma is
    /// consumed), false at the closing bracket (consumed too).
    mutating func next(closing: UInt8) throws -> Bool {
        skipSpace()
        guard position < bytes.count else { throw Failure(reason: "unexpected end inside a container") }
        if bytes[position] == UInt8(ascii: ",") {
            position += 1
            skipSpace()
            return true
        }
        try expect(closing)
        return false
    }

    /// Consumes `{` or `[` and reports whether the container is empty (its end consumed too).
    mutating func open(_ bracket: UInt8, closing: UInt8) throws -> Bool {
        try expect(bracket)
        skipSpace()
        if position < bytes.count, bytes[position] == closing {
            position += 1
            return true
        }
        return false
    }

    mutating func skipValue() throws {
        switch try kind() {
        case .string: try skipString()
        case .object, .array: try skipContainer()
        case .bool: try literal(bytes[position] == UInt8(ascii: "t") ? "true" : "false")
        case .null: try literal("null")
        case .number: _ = try number()
        }
    }

    /// The span of a number at `position`.
    mutating func number() throws -> Range<Int> {
        let start = position
        while position < bytes.count, Self.numberBytes.contains(bytes[position]) { position += 1 }
        guard position > start else { throw Failure(reason: "invalid number") }
        return start..<position
    }

    static let numberBytes: Set<UInt8> = Set("0123456789+-.eE".utf8)

    /// Skips an object or array by matching brackets outside strings.
    mutating func skipContainer() throws {
        var depth = 0
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                try skipString()
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 {
                    position += 1
                    return
                }
            default: break
            }
            position += 1
        }
        throw Failure(reason: "unexpected end inside a container")
    }

    mutating func skipString() throws {
        try expect(UInt8(ascii: "\""))
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\\") { position += 1 } else if byte == UInt8(ascii: "\"") { return }
        }
        throw Failure(reason: "unterminated string")
    }

    /// An object's key and the colon after it.
    mutating func key() throws -> Key {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw Failure(reason: "expected a string") }
        let start = position + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
        let key: Key
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            position = end + 1
            key = .inPlace(start..<end)
        } else {
            key = .decoded(try string())
        }
        skipSpace()
        try expect(UInt8(ascii: ":"))
        skipSpace()
        return key
    }

    func text(of key: Key) -> String {
        switch key {
        case let .inPlace(range): return String(decoding: bytes[range], as: UTF8.self)
        case let .decoded(text): return text
        }
    }

    /// The bytes of the string here when it is ASCII with no escape (the position then moves
    /// past it); nil, with the position unchanged, for any other string.
    mutating func plainASCIIString() -> Range<Int>? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        var end = position + 1
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                defer { position = end + 1 }
                return (position + 1)..<end
            }
            if byte == UInt8(ascii: "\\") || byte >= 0x80 { return nil }
            end += 1
        }
        return nil
    }

    /// Reads a string and resolves its escapes.
    mutating func string() throws -> String {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw Failure(reason: "expected a string") }
        position += 1
        let start = position
        var plain = true
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                if plain { return String(decoding: bytes[start..<position], as: UTF8.self) }
                return try Self.unescape(bytes[start..<position])
            }
            if byte == UInt8(ascii: "\\") { plain = false; position += 1 }
            position += 1
        }
        throw Failure(reason: "unterminated string")
    }

    static func unescape(_ raw: Slice<UnsafeBufferPointer<UInt8>>) throws -> String {
        var scalars = String.UnicodeScalarView()
        var utf8 = [UInt8]()
        var index = raw.startIndex
        func flush() {
            scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
        }
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= raw.endIndex, let value = UInt32(String(decoding: raw[at..<(at + 4)], as: UTF8.self), radix: 16) else {
                throw Failure(reason: "invalid \\u escape")
            }
            return value
        }
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < raw.endIndex else {
                utf8.append(byte)
                index += 1
                continue
            }
            let escape = raw[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): utf8.append(0x0a)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "r"): utf8.append(0x0d)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0c)
            case UInt8(ascii: "u"):
                flush()
                var code = try hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(code), index + 6 <= raw.endIndex, raw[index] == UInt8(ascii: "\\"),
                   raw[index + 1] == UInt8(ascii: "u") {
                    let low = try hex4(index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: utf8.append(escape)
            }
        }
        flush()
        return String(scalars)
    }

    static func isJSONNumber(_ text: String) -> Bool {
        var sawDigit = false
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case 48...57: sawDigit = true
            case UInt8(ascii: "-") where index == 0: continue
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): continue
            default: return false
            }
        }
        return sawDigit && text.utf8.first != UInt8(ascii: ".")
    }
}
