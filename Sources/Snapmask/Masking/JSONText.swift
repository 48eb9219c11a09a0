/// JSON string escaping, shared by the JSON masker and the report writers.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var output = [UInt8]()
        output.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): output.append(contentsOf: [92, 92])
            case 0x0a: output.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0d: output.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0c: output.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0..<0x20:
                output.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// Walks JSON text and replaces only the values at the rule paths: every other byte (spacing,
/// key order, number spelling) is copied as it was.
struct JSONMasker: Sendable {
    struct Rule: Sendable {
        var path: FieldPath
        var transformer: CompiledTransformer
        /// Each segment's key as UTF-8 (nil for `[]`), compared with keys in place.
        let keys: [[UInt8]?]

        init(path: FieldPath, transformer: CompiledTransformer) {
            self.path = path
            self.transformer = transformer
            keys = path.segments.map { segment in
                if case let .key(name) = segment { return Array(name.utf8) }
                return nil
            }
        }
    }

    struct Failure: Error {
        var reason: String
    }

    let rules: [Rule]

    func mask(_ text: String) throws(MaskingError) -> String {
        var input = Array(text.utf8)
        return try input.withUnsafeMutableBufferPointer { buffer throws(MaskingError) in
            var walker = Walker(bytes: UnsafeBufferPointer(buffer), rules: rules)
            do {
                walker.skipSpace()
                try walker.value(active: Array(rules.indices.map { ($0, 0) }))
                walker.skipSpace()
                guard walker.position == buffer.count else { throw Failure(reason: "unexpected text after the JSON value") }
            } catch let failure as Failure {
                throw MaskingError("json", "\(shape(of: text)) is not valid JSON (\(failure.reason) at byte \(walker.position))")
            } catch let error as MaskingError {
                throw error
            } catch {
                throw MaskingError("json", "\(error)")
            }
            return walker.finish()
        }
    }

    private struct Walker {
        let bytes: UnsafeBufferPointer<UInt8>
        let rules: [Rule]
        var position = 0
        var output: [UInt8] = []
        /// Bytes before this index are already in `output`.
        var copied = 0

        init(bytes: UnsafeBufferPointer<UInt8>, rules: [Rule]) {
            self.bytes = bytes
            self.rules = rules
        }

        mutating func finish() -> String {
            if copied == 0 && output.isEmpty { return String(decoding: bytes, as: UTF8.self) }
            output.append(contentsOf: bytes[copied...])
            return String(decoding: output, as: UTF8.self)
        }

        mutating func skipSpace() {
            while position < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[position]) { position += 1 }
        }

        /// Parses the value at `position`. `active` holds (rule, segments matched so far) for the
        /// rules whose path leads here; a rule matched to its end masks this value. Only values on
        /// a rule's path are visited; everything else is skipped without recursion.
        mutating func value(active: [(Int, Int)]) throws {
            guard position < bytes.count else { throw Failure(reason: "unexpected end") }
            if let done = active.first(where: { rules[$0.0].path.segments.count == $0.1 }) {
                try replaceValue(with: rules[done.0].transformer)
                return
            }
            switch bytes[position] {
            case UInt8(ascii: "{"):
                position += 1
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return }
                try refuseMismatch(active, expecting: .elements, found: "an object")
                while true {
                    skipSpace()
                    let key = try keyBytes()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    skipSpace()
                    var next: [(Int, Int)] = []
                    for entry in active {
                        guard let wanted = rules[entry.0].keys[entry.1] else { continue }
                        let matches: Bool
                        switch key {
                        case let .inPlace(range): matches = wanted.elementsEqual(bytes[range])
                        case let .decoded(decoded): matches = wanted == decoded
                        }
                        if matches { next.append((entry.0, entry.1 + 1)) }
                    }
                    if next.isEmpty { try skipValue() } else { try value(active: next) }
                    skipSpace()
                    guard position < bytes.count else { throw Failure(reason: "unexpected end inside an object") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return
                }
            case UInt8(ascii: "["):
                let next = active.compactMap { entry -> (Int, Int)? in
                    rules[entry.0].path.segments[entry.1] == .elements ? (entry.0, entry.1 + 1) : nil
                }
                position += 1
                skipSpace()
                if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return }
                try refuseMismatch(active.filter { rules[$0.0].path.segments[$0.1] != .elements }, expecting: nil,
                                   found: "an array")
                while true {
                    skipSpace()
                    if next.isEmpty { try skipValue() } else { try value(active: next) }
                    skipSpace()
                    guard position < bytes.count else { throw Failure(reason: "unexpected end inside an array") }
                    if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return
                }
            case UInt8(ascii: "n"):
                try literal("null")
            default:
                // A single value where the rule expects an array of them (`phones[]` holding one
                // string) is masked with that rule; any other shape stops the run rather than copy
                // a value that sits on a masked path.
                if let single = active.first(where: { entry in
                    rules[entry.0].path.segments[entry.1...].allSatisfy { $0 == .elements }
                }) {
                    try replaceValue(with: rules[single.0].transformer)
                    return
                }
                try refuseMismatch(active, expecting: nil, found: "a single value")
                try skipValue()
            }
        }

        /// Fails when a rule's path continues through a value of another shape (empty objects and
        /// arrays hold nothing and pass).
        func refuseMismatch(_ active: [(Int, Int)], expecting allowed: FieldPath.Segment?, found: String) throws {
            for entry in active {
                let segment = rules[entry.0].path.segments[entry.1]
                if let allowed, segment != allowed { continue }
                let expected: String
                switch segment {
                case .key: expected = "an object"
                case .elements: expected = "an array"
                }
                throw MaskingError("json", "path \(rules[entry.0].path) expects \(expected) there, found \(found); "
                                       + "fix the rule's path so no value on it is copied unmasked")
            }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard position < bytes.count, bytes[position] == byte else {
                throw Failure(reason: "expected '\(Character(Unicode.Scalar(byte)))'")
            }
            position += 1
        }

        /// Masks the value at `position`: strings as their text, numbers and booleans as their
        /// spelling, objects and arrays as their JSON text; null goes through as NULL.
        mutating func replaceValue(with transformer: CompiledTransformer) throws {
            let start = position
            let first = bytes[position]
            var wasString = false
            let input: String?
            if first == UInt8(ascii: "\"") {
                input = try string()
                wasString = true
            } else {
                try skipValue()
                let raw = String(decoding: bytes[start..<position], as: UTF8.self)
                input = raw == "null" ? nil : raw
            }
            let masked = try transformer.mask(input)
            output.append(contentsOf: bytes[copied..<start])
            if let masked {
                if !wasString, input != nil, Self.isJSONNumber(masked), Self.isJSONNumber(input!) {
                    output.append(contentsOf: masked.utf8)
                } else {
                    JSONText.appendQuoted(masked, to: &output)
                }
            } else {
                output.append(contentsOf: "null".utf8)
            }
            copied = position
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

        mutating func skipValue() throws {
            guard position < bytes.count else { throw Failure(reason: "unexpected end") }
            switch bytes[position] {
            case UInt8(ascii: "\""):
                try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                try skipContainer()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), 48...57:
                let start = position
                while position < bytes.count, Self.numberBytes.contains(bytes[position]) { position += 1 }
                guard position > start else { throw Failure(reason: "invalid number") }
            default:
                throw Failure(reason: "unexpected character")
            }
        }

        static let numberBytes: Set<UInt8> = Set("0123456789+-.eE".utf8)

        /// Skips an object or array by matching brackets outside strings, without recursion, so
        /// deeply nested documents cannot exhaust the stack.
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

        mutating func literal(_ word: String) throws {
            for byte in word.utf8 { try expect(byte) }
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

        enum Key {
            /// The key's bytes in the input (no escapes).
            case inPlace(Range<Int>)
            case decoded([UInt8])
        }

        /// A key without copying it when it has no escapes (nearly always).
        mutating func keyBytes() throws -> Key {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw Failure(reason: "expected a string") }
            let start = position + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                position = end + 1
                return .inPlace(start..<end)
            }
            return .decoded(Array(try string().utf8))
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
    }
}
