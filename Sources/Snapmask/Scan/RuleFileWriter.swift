import Foundation

/// Writes `scan`'s suggestions as a rule file: the whole file, or with an existing rule file only
/// what it lacks (a patch to merge). Every line carries, as a comment, why: the kind found and
/// how many sampled values showed it, never a value.
public enum RuleFileWriter {
    public static func write(_ tables: [ScannedTable], kind: RuleSet.Kind, database: String, existing: RuleSet? = nil) -> String {
        var lines: [String] = []
        let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
        if let existing {
            lines.append("# What \(existing.path) lacks for database \(database), as snapmask scan found it on \(date).")
            lines.append("# Merge each block into the file; lines with review: need a decision (check refuses them as")
            lines.append("# they are).")
        } else {
            lines.append("# Rules for database \(database), suggested by snapmask scan on \(date) from a random sample of")
            lines.append("# values. Read every line: lines with review: need a decision, and check refuses them until")
            lines.append("# review: is removed.")
            lines.append("unlisted: fail")
        }
        lines.append("\(kind.rawValue):")
        var wrote = false
        for table in tables {
            let rule = existing?.table(named: table.name)
            var missing: [ScannedColumn] = []
            // JSON columns that have a rule, with the paths that rule does not cover.
            var missingPaths: [(column: ScannedColumn, rule: ColumnRule, paths: [ScannedColumn])] = []
            for column in table.columns {
                guard let rule else { missing.append(column); continue }
                if rule.skipData { continue }
                if kind == .collections {
                    if !rule.columns.contains(where: { covers($0.name, column.name) }) { missing.append(column) }
                    continue
                }
                guard let columnRule = rule.column(named: column.name) else { missing.append(column); continue }
                let lacking = uncoveredPaths(of: column, by: columnRule)
                if !lacking.isEmpty { missingPaths.append((column, columnRule, lacking)) }
            }
            if missing.isEmpty && missingPaths.isEmpty { continue }
            wrote = true
            lines.append("  \(yamlKey(table.name)):")
            lines.append("    \(kind == .tables ? "columns" : "fields"):")
            for column in missing {
                let comment = "# \(column.classification.kind.rawValue): \(column.classification.reason)"
                guard let paths = column.paths else {
                    lines.append(padded("      \(yamlKey(column.name)): \(column.rule)", comment))
                    continue
                }
                lines.append(padded("      \(yamlKey(column.name)):", comment))
                lines.append("        transform: json")
                lines.append(paths.isEmpty ? "        paths: {}" : "        paths:")
                appendPaths(paths, to: &lines)
            }
            for (column, columnRule, paths) in missingPaths {
                lines.append(padded("      \(yamlKey(column.name)):",
                                    "# add to the paths: of its rule (\(columnRule.location)): \(paths.count) new"))
                lines.append("        paths:")
                appendPaths(paths, to: &lines)
            }
        }
        if !wrote { lines.append("  {}   # nothing is missing") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func appendPaths(_ paths: [ScannedColumn], to lines: inout [String]) {
        for path in paths {
            lines.append(padded("          \(yamlKey(path.name)): \(path.rule)",
                                "# \(path.classification.kind.rawValue): \(path.classification.reason)"))
        }
    }

    /// The sampled paths of a JSON column that its `json` rule covers with no path rule (none,
    /// when the rule keeps unlisted keys or is not `json`: then the column has its one rule).
    static func uncoveredPaths(of column: ScannedColumn, by rule: ColumnRule) -> [ScannedColumn] {
        guard let scanned = column.paths, rule.spec.name == "json" else { return [] }
        if case .text("keep") = rule.spec.options["unlisted"]?.content { return [] }
        guard case let .paths(ruled)? = rule.spec.options["paths"]?.content else { return scanned }
        return scanned.filter { path in !ruled.contains { covers($0.path, path.name) } }
    }

    static func padded(_ text: String, _ comment: String) -> String {
        text + String(repeating: " ", count: max(2, 56 - text.count)) + comment
    }

    /// Whether a rule path covers a discovered path (the same, or an enclosing one).
    static func covers(_ rule: String, _ path: String) -> Bool {
        rule == path || path.hasPrefix(rule + ".") || path.hasPrefix(rule + "[]")
    }

    static func yamlKey(_ name: String) -> String {
        let plain = name.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) } && !name.isEmpty
        return plain ? name : "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
