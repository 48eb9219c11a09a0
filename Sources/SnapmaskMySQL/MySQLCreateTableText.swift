import Snapmask

/// Reads SHOW CREATE TABLE's text (one clause per line) as MySQL 8 and MariaDB print it, for what
/// information_schema says in different ways on each (or not at all): the expressions of MySQL
/// 8's functional key parts, `UNIQUE KEY u ((lower(`email`)))`, and the generation expressions
/// of columns under unique keys (`GENERATED ALWAYS AS (...)` on MySQL 8, `AS (...)` on MariaDB).
enum MySQLCreateTableText {
    /// The clauses between the table's parentheses, trailing commas removed.
    static func clauses(_ create: String) -> [String] {
        let lines = create.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let open = lines.firstIndex(where: { $0.hasSuffix("(") }),
              let close = lines.lastIndex(where: { $0.hasPrefix(")") }), open < close else { return [] }
        return lines[(open + 1)..<close].map { line in
            var clause = line.trimmingCharacters(in: .whitespaces)
            if clause.hasSuffix(",") { clause.removeLast() }
            return clause
        }
    }

    /// Unique keys whose key holds an expression or a generated column, with the stored columns
    /// they read (through generated columns too): masked values of those columns can collide in
    /// the key although each column is masked to distinct values, or not masked at all.
    static func uniqueExpressionIndexes(_ create: String, columns: [String]) -> [UniqueExpressionIndex] {
        let clauses = clauses(create)
        let known = Set(columns)
        var generated: [String: String] = [:]
        for clause in clauses {
            if let (column, expression) = generationExpression(clause) { generated[column] = expression }
        }
        /// The stored columns an expression reads; one naming none (or `*`) is taken to read all.
        func reads(_ expression: String, seen: Set<String> = []) -> [String] {
            let names = MySQLSchemaObjects.quotedNames(in: expression).intersection(known)
            guard !names.isEmpty else { return columns.filter { generated[$0] == nil } }
            var stored = Set<String>()
            for name in names {
                if let inner = generated[name], !seen.contains(name) {
                    stored.formUnion(reads(inner, seen: seen.union([name])))
                } else if generated[name] == nil {
                    stored.insert(name)
                }
            }
            return columns.filter { stored.contains($0) }
        }
        var indexes: [UniqueExpressionIndex] = []
        for clause in clauses {
            guard let (name, parts) = uniqueKey(clause) else { continue }
            var plain: [String] = []
            var read: [String] = []
            var hasExpression = false
            for part in parts {
                if part.hasPrefix("(") {
                    hasExpression = true
                    read += reads(part)
                } else if let column = leadingName(part) {
                    if let expression = generated[column] {
                        hasExpression = true
                        read += reads(expression)
                    } else {
                        plain.append(column)
                    }
                }
            }
            guard hasExpression else { continue }
            let involved = plain + columns.filter { read.contains($0) && !plain.contains($0) }
            indexes.append(UniqueExpressionIndex(name: name, key: parts.joined(separator: ", "), columns: involved))
        }
        return indexes
    }

    /// `UNIQUE KEY `name` (part, ...)` (or UNIQUE INDEX): the name and the key parts as printed.
    static func uniqueKey(_ clause: String) -> (name: String, parts: [String])? {
        guard clause.hasPrefix("UNIQUE KEY ") || clause.hasPrefix("UNIQUE INDEX ") else { return nil }
        guard let name = leadingName(String(clause.drop { $0 != "`" })) else { return nil }
        let afterName = clause.index(clause.firstIndex(of: "`")!, offsetBy: name.replacingOccurrences(of: "`", with: "``").count + 2)
        guard let open = clause[afterName...].firstIndex(of: "("),
              let inside = balanced(clause, from: open) else { return nil }
        return (name, splitTopLevel(inside))
    }

    /// A column clause's name and generation expression: `GENERATED ALWAYS AS (expr)` (MySQL 8)
    /// or `AS (expr)` (MariaDB), found outside quotes.
    static func generationExpression(_ clause: String) -> (column: String, expression: String)? {
        guard clause.hasPrefix("`"), let column = leadingName(clause) else { return nil }
        var index = clause.index(clause.startIndex, offsetBy: column.replacingOccurrences(of: "`", with: "``").count + 2)
        var quote: Character?
        while index < clause.endIndex {
            let character = clause[index]
            if let open = quote {
                if character == "\\" && open != "`" {
                    index = clause.index(after: index)
                } else if character == open {
                    quote = nil
                }
            } else if character == "'" || character == "\"" || character == "`" {
                quote = character
            } else if clause[index...].hasPrefix(" AS ("), let inside = balanced(clause, from: clause.index(index, offsetBy: 4)) {
                return (column, inside)
            }
            if index < clause.endIndex { index = clause.index(after: index) }
        }
        return nil
    }

    /// The text inside the parentheses opening at `open`, quotes respected; nil when they do not close.
    static func balanced(_ text: String, from open: String.Index) -> String? {
        var depth = 0
        var quote: Character?
        var index = open
        while index < text.endIndex {
            let character = text[index]
            if let current = quote {
                if character == "\\" && current != "`" {
                    index = text.index(after: index)
                } else if character == current {
                    quote = nil
                }
            } else if character == "'" || character == "\"" || character == "`" {
                quote = character
            } else if character == "(" {
                depth += 1
            } else if character == ")" {
                depth -= 1
                if depth == 0 { return String(text[text.index(after: open)..<index]) }
            }
            if index < text.endIndex { index = text.index(after: index) }
        }
        return nil
    }

    /// The comma-separated items of a list, commas inside parentheses and quotes left alone.
    static func splitTopLevel(_ text: String) -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                escaped = false
            } else if let open = quote {
                if character == "\\" && open != "`" { escaped = true } else if character == open { quote = nil }
            } else if character == "'" || character == "\"" || character == "`" {
                quote = character
            } else if character == "(" {
                depth += 1
            } else if character == ")" {
                depth -= 1
            } else if character == ",", depth == 0 {
                items.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            current.append(character)
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { items.append(current.trimmingCharacters(in: .whitespaces)) }
        return items
    }

    /// The back-quoted name the text starts with (a doubled back quote is one in the name).
    static func leadingName(_ text: String) -> String? {
        guard text.hasPrefix("`") else { return nil }
        var name = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            if text[index] == "`" {
                let next = text.index(after: index)
                guard next < text.endIndex, text[next] == "`" else { return name }
                name.append("`")
                index = text.index(after: next)
                continue
            }
            name.append(text[index])
            index = text.index(after: index)
        }
        return nil
    }

    /// The collations the text names (`COLLATE utf8mb4_0900_ai_ci`, `COLLATE=...`). Quotes are not
    /// looked at: a comment naming a collation can only make the check that uses this stricter.
    static func collations(_ text: String) -> Set<String> {
        var found = Set<String>()
        var rest = Substring(text)
        while let range = rest.range(of: "COLLATE") {
            var after = rest[range.upperBound...].drop { $0 == " " || $0 == "=" }
            if after.hasPrefix("'") { after = after.dropFirst() }
            let name = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty { found.insert(name.lowercased()) }
            rest = rest[range.upperBound...]
        }
        return found
    }
}
