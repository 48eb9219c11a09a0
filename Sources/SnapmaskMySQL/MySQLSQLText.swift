/// Rewrites of the SQL text MySQL gives back for views, routines and triggers (SHOW CREATE ...),
/// so the definitions work in another database and under another account: the source
/// database's name is taken out of qualified names, and the `DEFINER=` clause is dropped (the
/// object then belongs to the account snapmask restores with). String literals and comments
/// are never touched.
enum MySQLSQLText {
    private enum Token {
        case identifier(String, range: Range<Int>)
        case other(range: Range<Int>)
    }

    /// Splits the text into identifiers (bare or back-quoted) and everything else; literals and
    /// comments are single `other` tokens.
    private static func tokens(_ bytes: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        let count = bytes.count
        func isWordByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x5f || byte == 0x24 || byte >= 0x80
        }
        while index < count {
            let start = index
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                index += 1
                while index < count {
                    if bytes[index] == UInt8(ascii: "\\") { index += 2; continue }
                    if bytes[index] == byte {
                        if index + 1 < count && bytes[index + 1] == byte { index += 2; continue }
                        index += 1
                        break
                    }
                    index += 1
                }
                tokens.append(.other(range: start..<min(index, count)))
            case UInt8(ascii: "`"):
                index += 1
                var name: [UInt8] = []
                while index < count {
                    if bytes[index] == UInt8(ascii: "`") {
                        if index + 1 < count && bytes[index + 1] == UInt8(ascii: "`") {
                            name.append(UInt8(ascii: "`"))
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    name.append(bytes[index])
                    index += 1
                }
                tokens.append(.identifier(String(decoding: name, as: UTF8.self), range: start..<min(index, count)))
            case UInt8(ascii: "#"):
                while index < count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                tokens.append(.other(range: start..<index))
            case UInt8(ascii: "-") where index + 2 < count && bytes[index + 1] == UInt8(ascii: "-")
                && (bytes[index + 2] == UInt8(ascii: " ") || bytes[index + 2] == UInt8(ascii: "\t") || bytes[index + 2] == UInt8(ascii: "\n")):
                while index < count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
                tokens.append(.other(range: start..<index))
            case UInt8(ascii: "/") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "*")
                && !(index + 2 < count && bytes[index + 2] == UInt8(ascii: "!")):
                index += 2
                while index + 1 < count && !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) { index += 1 }
                index = min(index + 2, count)
                tokens.append(.other(range: start..<index))
            default:
                if isWordByte(byte) {
                    while index < count && isWordByte(bytes[index]) { index += 1 }
                    let word = String(decoding: bytes[start..<index], as: UTF8.self)
                    // A number such as 1.5 or 1e3 is not a name.
                    if byte >= 0x30 && byte <= 0x39 {
                        tokens.append(.other(range: start..<index))
                    } else {
                        tokens.append(.identifier(word, range: start..<index))
                    }
                } else {
                    index += 1
                    tokens.append(.other(range: start..<index))
                }
            }
        }
        return tokens
    }

    /// Drops `database.` wherever the database qualifies a name (`` `app`.`users` `` → `` `users` ``).
    static func withoutQualifier(_ sql: String, database: String) -> String {
        let bytes = Array(sql.utf8)
        let tokens = tokens(bytes)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var skipUntil = 0
        for (position, token) in tokens.enumerated() {
            switch token {
            case let .identifier(name, range):
                if range.lowerBound < skipUntil { continue }
                let previousIsDot: Bool = {
                    guard position > 0, case let .other(previous) = tokens[position - 1] else { return false }
                    return bytes[previous.lowerBound] == UInt8(ascii: ".") && previous.count == 1
                }()
                if name == database, !previousIsDot, position + 1 < tokens.count, case let .other(next) = tokens[position + 1],
                   next.count == 1, bytes[next.lowerBound] == UInt8(ascii: "."), position + 2 < tokens.count,
                   case .identifier = tokens[position + 2] {
                    skipUntil = next.upperBound
                    continue
                }
                output.append(contentsOf: bytes[range])
            case let .other(range):
                if range.lowerBound < skipUntil { continue }
                output.append(contentsOf: bytes[range])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Drops the `DEFINER=user@host` clause of a CREATE statement's header.
    static func withoutDefiner(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        let tokens = tokens(bytes)
        func isSpace(_ token: Token) -> Bool {
            guard case let .other(range) = token else { return false }
            return range.allSatisfy { [0x20, 0x09, 0x0a, 0x0d].contains(bytes[$0]) }
        }
        func isByte(_ token: Token, _ char: Character) -> Bool {
            guard case let .other(range) = token, range.count == 1 else { return false }
            return bytes[range.lowerBound] == char.asciiValue!
        }
        func range(_ token: Token) -> Range<Int> {
            switch token {
            case let .identifier(_, range), let .other(range): return range
            }
        }
        for (position, token) in tokens.enumerated() {
            guard case let .identifier(word, _) = token else { continue }
            let upper = word.uppercased()
            if ["VIEW", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "AS"].contains(upper) { break }
            guard upper == "DEFINER" else { continue }
            var next = position + 1
            while next < tokens.count && isSpace(tokens[next]) { next += 1 }
            guard next < tokens.count, isByte(tokens[next], "=") else { continue }
            next += 1
            while next < tokens.count && isSpace(tokens[next]) { next += 1 }
            // The account: a name (quoted or not, or CURRENT_USER[()]), then optionally @ and a host.
            guard next < tokens.count else { break }
            var end = range(tokens[next]).upperBound
            next += 1
            if next + 1 < tokens.count, isByte(tokens[next], "("), isByte(tokens[next + 1], ")") {
                end = range(tokens[next + 1]).upperBound
                next += 2
            }
            if next < tokens.count, isByte(tokens[next], "@"), next + 1 < tokens.count {
                end = range(tokens[next + 1]).upperBound
                next += 2
            }
            while next < tokens.count && isSpace(tokens[next]) {
                end = range(tokens[next]).upperBound
                next += 1
            }
            let start = range(token).lowerBound
            return String(decoding: bytes[..<start] + bytes[end...], as: UTF8.self)
        }
        return sql
    }

    /// A script split into statements the way the mysql command-line client splits it: at `;`, or
    /// at the delimiter a `DELIMITER` line sets (for bodies with `BEGIN ... END`), outside strings,
    /// quoted names and comments. Statements holding nothing but comments are left out. `line` is
    /// where a statement's text starts, for error messages.
    static func statements(_ sql: String) -> [(text: String, line: Int)] {
        let bytes = Array(sql.utf8)
        let count = bytes.count
        var statements: [(text: String, line: Int)] = []
        var delimiter = Array(";".utf8)
        var contentStart: Int?
        var index = 0
        func isSpace(_ byte: UInt8) -> Bool { byte <= 0x20 }
        func line(at offset: Int) -> Int { 1 + bytes[..<offset].lazy.filter { $0 == 0x0a }.count }
        func finish(at end: Int) {
            if let first = contentStart {
                statements.append((String(decoding: bytes[first..<end], as: UTF8.self)
                                       .trimmingCharacters(in: .whitespacesAndNewlines), line(at: first)))
            }
            contentStart = nil
        }
        /// Past the end of the quoted text that opens at `index` (backslash escapes and doubled quotes).
        func skipQuoted(_ index: Int) -> Int {
            let quote = bytes[index]
            var next = index + 1
            while next < count {
                if bytes[next] == UInt8(ascii: "\\") && quote != UInt8(ascii: "`") { next += 2; continue }
                if bytes[next] == quote {
                    if next + 1 < count && bytes[next + 1] == quote { next += 2; continue }
                    return next + 1
                }
                next += 1
            }
            return count
        }
        func skipLine(_ index: Int) -> Int {
            var next = index
            while next < count && bytes[next] != 0x0a { next += 1 }
            return next
        }
        while index < count {
            let byte = bytes[index]
            if contentStart == nil, !isSpace(byte), count - index > 10,
               String(decoding: bytes[index..<index + 9], as: UTF8.self).uppercased() == "DELIMITER", isSpace(bytes[index + 9]) {
                let end = skipLine(index)
                let word = bytes[(index + 9)..<end].split(whereSeparator: isSpace).first.map(Array.init) ?? []
                if !word.isEmpty { delimiter = word }
                index = end
                continue
            }
            if bytes[index...].starts(with: delimiter) {
                finish(at: index)
                index += delimiter.count
                continue
            }
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                if contentStart == nil { contentStart = index }
                index = skipQuoted(index)
            case UInt8(ascii: "#"):
                index = skipLine(index)
            case UInt8(ascii: "-") where index + 2 < count && bytes[index + 1] == UInt8(ascii: "-") && isSpace(bytes[index + 2]):
                index = skipLine(index)
            case UInt8(ascii: "/") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "*"):
                // /*! ... */ and MariaDB's /*M! ... */ are run by the server: they are content.
                if contentStart == nil, isExecutableComment(bytes, at: index) {
                    contentStart = index
                }
                var next = index + 2
                while next + 1 < count && !(bytes[next] == UInt8(ascii: "*") && bytes[next + 1] == UInt8(ascii: "/")) { next += 1 }
                index = min(next + 2, count)
            default:
                if contentStart == nil && !isSpace(byte) { contentStart = index }
                index += 1
            }
        }
        finish(at: count)
        return statements
    }

    /// Why a `where:` condition is not one condition that stays inside the parentheses it is put
    /// in, or nil when it is. A condition that closes a parenthesis it did not open could end the
    /// WHERE and append rows of any other table (`...) UNION SELECT ...`) under the columns of a
    /// table whose rules keep them. Backslashes in strings mean something else under
    /// NO_BACKSLASH_ESCAPES and ANSI_QUOTES, so the condition must be safe read every way.
    static func conditionProblem(_ condition: String) -> String? {
        let bytes = Array(condition.utf8)
        for escapesInSingle in [true, false] {
            for escapesInDouble in [true, false] {
                if let problem = conditionProblem(bytes, escapesInSingle: escapesInSingle, escapesInDouble: escapesInDouble) {
                    return problem
                }
            }
        }
        return nil
    }

    private static func conditionProblem(_ bytes: [UInt8], escapesInSingle: Bool, escapesInDouble: Bool) -> String? {
        let count = bytes.count
        var depth = 0
        var index = 0
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"):
                let escapes = byte == UInt8(ascii: "'") ? escapesInSingle : byte == UInt8(ascii: "\"") ? escapesInDouble : false
                var next = index + 1
                var closed = false
                while next < count {
                    if escapes && bytes[next] == UInt8(ascii: "\\") { next += 2; continue }
                    if bytes[next] == byte {
                        if next + 1 < count && bytes[next + 1] == byte { next += 2; continue }
                        closed = true
                        break
                    }
                    next += 1
                }
                if !closed { return "it leaves a string or quoted name open" }
                index = next + 1
            case UInt8(ascii: "#"):
                while index < count && bytes[index] != 0x0a { index += 1 }
            case UInt8(ascii: "-") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "-")
                && (index + 2 == count || bytes[index + 2] <= 0x20):
                while index < count && bytes[index] != 0x0a { index += 1 }
            case UInt8(ascii: "/") where index + 1 < count && bytes[index + 1] == UInt8(ascii: "*"):
                if isExecutableComment(bytes, at: index) { return "it holds a /*! ... */ comment, which the server runs" }
                var next = index + 2
                while next + 1 < count && !(bytes[next] == UInt8(ascii: "*") && bytes[next + 1] == UInt8(ascii: "/")) { next += 1 }
                if next + 1 >= count { return "it leaves a comment open" }
                index = next + 2
            case UInt8(ascii: "("):
                depth += 1
                index += 1
            case UInt8(ascii: ")"):
                depth -= 1
                if depth < 0 { return "it closes a parenthesis it did not open" }
                index += 1
            case UInt8(ascii: ";"):
                return "it holds a ; (a second statement)"
            default:
                index += 1
            }
        }
        return depth > 0 ? "it leaves a parenthesis open" : nil
    }

    /// Whether the comment opening at `index` is `/*!` or `/*M!`, whose text the server runs.
    static func isExecutableComment(_ bytes: [UInt8], at index: Int) -> Bool {
        let rest = bytes[(index + 2)...]
        return rest.starts(with: Array("!".utf8)) || rest.starts(with: Array("M!".utf8))
    }
}
