/// Tab-separated rows with backslash escapes and `\N` for NULL: PostgreSQL's COPY text format
/// and MySQL's LOAD DATA default. Only masked fields are ever decoded; the rest of a row is
/// copied as the bytes the source sent.
public enum DelimitedText {
    public enum Dialect: Sendable {
        case postgres
        case mysql
    }

    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let backslash = UInt8(ascii: "\\")

    /// The position of the first tab or newline at or after `start`, or `input.count`. Eight
    /// bytes at a time: most of a row is fields copied as they came, which are only looked
    /// through for their end.
    @inline(__always)
    static func fieldEnd(_ input: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var position = start
        if let base = input.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            while position + 8 <= input.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
                // A byte of `x` is zero where the word holds a tab (newline); the lowest byte
                // flagged by (x - 1) & ~x & 0x80 is the first zero byte.
                let tabs = word ^ (ones &* UInt64(tab)), newlines = word ^ (ones &* UInt64(newline))
                let found = ((tabs &- ones) & ~tabs | (newlines &- ones) & ~newlines) & highs
                if found != 0 { return position + found.trailingZeroBitCount / 8 }
                position += 8
            }
        }
        while position < input.count, input[position] != tab, input[position] != newline { position += 1 }
        return position
    }

    /// Whether any of the eight bytes at `position` may need an escape (no false negatives).
    @inline(__always)
    static func mayNeedEscape(_ base: UnsafePointer<UInt8>, at position: Int, dialect: Dialect) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
        @inline(__always) func zeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x }
        var found = zeroByte(word ^ (ones &* UInt64(backslash))) | zeroByte(word ^ (ones &* UInt64(tab)))
            | zeroByte(word ^ (ones &* UInt64(newline))) | zeroByte(word ^ (ones &* 0x0d))
        if dialect == .mysql { found |= zeroByte(word) }
        return found & 0x8080_8080_8080_8080 != 0
    }

    /// Appends a value escaped for the dialect. Stretches of eight bytes that need no escape
    /// (most values, whole) are skipped a word at a time.
    @inline(__always)
    public static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8], dialect: Dialect) {
        var start = 0
        var index = 0
        while index < bytes.count {
            if index + 8 <= bytes.count, !mayNeedEscape(bytes.baseAddress!, at: index, dialect: dialect) {
                index += 8
                continue
            }
            let byte = bytes[index]
            index += 1
            let escape: UInt8
            switch byte {
            case backslash: escape = backslash
            case tab: escape = UInt8(ascii: "t")
            case newline: escape = UInt8(ascii: "n")
            case 0x0d: escape = UInt8(ascii: "r")
            case 0 where dialect == .mysql: escape = UInt8(ascii: "0")
            default: continue
            }
            if start < index - 1 { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])) }
            output.append(backslash)
            output.append(escape)
            start = index
        }
        if start < bytes.count { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...])) }
    }

    public static func appendEscaped(_ text: String, to output: inout [UInt8], dialect: Dialect) {
        var text = text
        text.withUTF8 { appendEscaped($0, to: &output, dialect: dialect) }
    }

    public static func appendNull(to output: inout [UInt8]) {
        output.append(backslash)
        output.append(UInt8(ascii: "N"))
    }

    /// Whether a raw field is `\N`.
    @inline(__always)
    static func isNull(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        field.count == 2 && field[0] == backslash && field[1] == UInt8(ascii: "N")
    }

    /// The value of a raw field as text, or nil for NULL.
    public static func decode(_ field: UnsafeBufferPointer<UInt8>, dialect: Dialect) -> String? {
        if isNull(field) { return nil }
        guard field.contains(backslash) else { return String(decoding: field, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.count)
        var index = 0
        while index < field.count {
            let byte = field[index]
            index += 1
            guard byte == backslash, index < field.count else {
                bytes.append(byte)
                continue
            }
            let code = field[index]
            index += 1
            switch code {
            case UInt8(ascii: "n"): bytes.append(newline)
            case UInt8(ascii: "t"): bytes.append(tab)
            case UInt8(ascii: "r"): bytes.append(0x0d)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0c)
            case UInt8(ascii: "v"): bytes.append(0x0b)
            case UInt8(ascii: "Z") where dialect == .mysql: bytes.append(26)
            case UInt8(ascii: "0") where dialect == .mysql: bytes.append(0)
            case UInt8(ascii: "0")...UInt8(ascii: "7") where dialect == .postgres:
                var value = Int(code - 48)
                for _ in 0..<2 where index < field.count && (48...55).contains(field[index]) {
                    value = value * 8 + Int(field[index] - 48)
                    index += 1
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x") where dialect == .postgres:
                var value = 0, digits = 0
                while digits < 2, index < field.count, let digit = hexValue(field[index]) {
                    value = value * 16 + digit
                    index += 1
                    digits += 1
                }
                bytes.append(digits == 0 ? UInt8(ascii: "x") : UInt8(value))
            default: bytes.append(code)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Every row of a batch as decoded fields (for previews and tests; the copy never does this).
    public static func rows(of data: [UInt8], dialect: Dialect) -> [[String?]] {
        data.withUnsafeBufferPointer { buffer in
            buffer.split(separator: newline, omittingEmptySubsequences: false).dropLast(data.last == newline ? 1 : 0).map { line in
                line.split(separator: tab, omittingEmptySubsequences: false).map { field in
                    decode(UnsafeBufferPointer(rebasing: field), dialect: dialect)
                }
            }
        }
    }

    /// The non-null values of `columns` in a batch, each with its row's `keyColumns` (the
    /// fields as the reader sent them), decoding the batch once.
    public static func keyedValues(of data: [UInt8], dialect: Dialect, plan: TablePlan, keyColumns: [String],
                                   columns: [String]) -> [String: [SampledRow]] {
        func positions(_ names: [String]) -> [Int] {
            names.compactMap { name in plan.columns.firstIndex { $0.name == name } }
        }
        let keyPositions = positions(keyColumns)
        let wanted = columns.compactMap { name in plan.columns.firstIndex { $0.name == name }.map { (name, $0) } }
        var result: [String: [SampledRow]] = [:]
        for row in rows(of: data, dialect: dialect) {
            let key = keyPositions.map { $0 < row.count ? row[$0] : nil }
            for (name, position) in wanted where position < row.count {
                if let value = row[position] { result[name, default: []].append(SampledRow(key: key, value: value)) }
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }
}
