/// A `where:` condition is pasted into the statement that reads its table, so it must stay one
/// SQL expression: a `;` outside string literals, quoted identifiers and comments would end that
/// statement and start another. The text is scanned as a server would read it both with
/// `standard_conforming_strings` on and off (`'a\'…'` ends at the second quote in one reading and
/// not in the other), so neither reading can hide a `;`. Unterminated literals and comments are
/// left to the server, which rejects the whole statement.
enum SQLCondition {
    static func hasStatementSeparator(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return separatorOutsideLiterals(bytes, backslashEscapes: false)
            || separatorOutsideLiterals(bytes, backslashEscapes: true)
    }

    private static func separatorOutsideLiterals(_ text: [UInt8], backslashEscapes: Bool) -> Bool {
        var index = 0
        while index < text.count {
            let byte = text[index]
            let next = index + 1 < text.count ? text[index + 1] : 0
            switch byte {
            case UInt8(ascii: ";"):
                return true
            case UInt8(ascii: "'"):
                index = end(of: text, from: index + 1, quote: byte, backslash: backslashEscapes)
            case UInt8(ascii: "\""):
                index = end(of: text, from: index + 1, quote: byte, backslash: false)
            case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
                while index < text.count && text[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                index = endOfComment(text, from: index + 2)
            case UInt8(ascii: "$"):
                index = endOfDollarQuote(text, from: index)
            case _ where isIdentifierStart(byte):
                // A whole identifier (it may hold `$`); E'…' takes backslash escapes whatever the
                // server's setting.
                let start = index
                while index < text.count && (isIdentifierStart(text[index]) || isDigit(text[index])
                                             || text[index] == UInt8(ascii: "$")) {
                    index += 1
                }
                if index - start == 1, byte | 0x20 == UInt8(ascii: "e"), index < text.count, text[index] == UInt8(ascii: "'") {
                    index = end(of: text, from: index + 1, quote: UInt8(ascii: "'"), backslash: true)
                }
            default:
                index += 1
            }
        }
        return false
    }

    /// The index after the closing quote (a doubled quote stays inside).
    private static func end(of text: [UInt8], from start: Int, quote: UInt8, backslash: Bool) -> Int {
        var index = start
        while index < text.count {
            if backslash && text[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if text[index] == quote {
                if index + 1 < text.count && text[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return text.count
    }

    /// Block comments nest in PostgreSQL.
    private static func endOfComment(_ text: [UInt8], from start: Int) -> Int {
        var depth = 1, index = start
        while index < text.count && depth > 0 {
            if text[index] == UInt8(ascii: "/") && index + 1 < text.count && text[index + 1] == UInt8(ascii: "*") {
                depth += 1
                index += 2
            } else if text[index] == UInt8(ascii: "*") && index + 1 < text.count && text[index + 1] == UInt8(ascii: "/") {
                depth -= 1
                index += 2
            } else {
                index += 1
            }
        }
        return index
    }

    /// `$tag$…$tag$`; a `$` that does not open one (`$1`) is skipped.
    private static func endOfDollarQuote(_ text: [UInt8], from start: Int) -> Int {
        var index = start + 1
        while index < text.count && (isIdentifierStart(text[index]) || (index > start + 1 && isDigit(text[index]))) {
            index += 1
        }
        guard index < text.count, text[index] == UInt8(ascii: "$") else { return start + 1 }
        let tag = Array(text[start...index])
        var search = index + 1
        while search + tag.count <= text.count {
            if Array(text[search..<search + tag.count]) == tag { return search + tag.count }
            search += 1
        }
        return text.count
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        byte >= 0x80 || byte == UInt8(ascii: "_") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
