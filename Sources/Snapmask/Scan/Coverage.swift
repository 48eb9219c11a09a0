import Foundation

/// What a run did to every column and path, as evidence for an audit: the rule that covered it,
/// what a sample of its values looked like, and the outcome. `keep` columns whose sample looks
/// personal are what a person should look at: `check` and `run` warn about them (or fail, with
/// `strict_keep: true` in the rule file).
public struct CoverageEntry: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case masked
        case keptClean = "kept, looks clean"
        case keptPersonal = "kept, looks personal"
        /// Computed by the staging database from the masked columns.
        case generated
        case skipped
    }

    public var table: String
    /// A column, `column.path` inside a JSON column, or a document path; `*` for a whole table.
    public var column: String
    /// As the rule file says it (`email`, `keep`, `keep (unlisted: keep)`, `data: skip`).
    public var rule: String
    public var classification: PIIClassification.Kind
    /// Why it was classified so, without any value ("48 of 50 sampled values are email addresses").
    public var reason: String
    public var status: Status
}

public struct CoverageReport: Codable, Sendable {
    public var database: String
    public var engine: String
    public var rulesFile: String
    /// SHA-256 of the rule and override files the run used.
    public var rulesDigest: String?
    public var createdAt: Date
    /// Values sampled per column or path to classify it.
    public var sampleSize: Int
    public var entries: [CoverageEntry]

    public init(database: String, engine: String, rulesFile: String, rulesDigest: String?, sampleSize: Int,
                entries: [CoverageEntry], createdAt: Date = Date()) {
        self.database = database
        self.engine = engine
        self.rulesFile = rulesFile
        self.rulesDigest = rulesDigest
        self.sampleSize = sampleSize
        self.entries = entries
        self.createdAt = createdAt
    }

    public var keptPersonal: [CoverageEntry] { entries.filter { $0.status == .keptPersonal } }

    public func count(_ status: CoverageEntry.Status) -> Int { entries.filter { $0.status == status }.count }

    /// One line per column or path.
    public func table() -> String {
        let header = ["TABLE", "COLUMN / PATH", "RULE", "STATUS", "LOOKS LIKE"]
        let rows: [[String]] = [header] + entries.map {
            [$0.table, $0.column, $0.rule, $0.status.rawValue, $0.classification.rawValue]
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                line += index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            return line
        }.joined(separator: "\n")
    }

    /// A page an auditor reads: what was masked, by which rules, when, and what was kept though
    /// it looks personal.
    public func summary() -> String {
        let date = ISO8601DateFormatter().string(from: createdAt)
        var lines = [
            "Masking coverage of database \(database) (\(engine)), \(date)",
            "Rules: \(rulesFile)" + (rulesDigest.map { " (sha256 \($0))" } ?? ""),
            "Every column and path is copied only through a rule; a value without one stops the run.",
            "",
            "  \(count(.masked)) masked",
            "  \(count(.keptClean)) kept, no personal data in a sample of up to \(sampleSize) values",
            "  \(count(.keptPersonal)) kept although the sample looks personal",
            "  \(count(.generated)) computed by staging from masked columns",
            "  \(count(.skipped)) tables whose rows are not copied",
        ]
        var byRule: [String: Int] = [:]
        for entry in entries where entry.status == .masked {
            // "phone (rule on contact.phones[])" counts as phone.
            byRule[String(entry.rule.prefix { $0 != " " }), default: 0] += 1
        }
        if !byRule.isEmpty {
            lines.append("")
            lines.append("Masked by:")
            for (rule, count) in byRule.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                lines.append("  \(rule): \(count)")
            }
        }
        let review = keptPersonal
        if !review.isEmpty {
            lines.append("")
            lines.append("Kept although it looks personal (decide, and mask it or note why it is not):")
            for entry in review {
                lines.append("  \(entry.table).\(entry.column): \(entry.classification.rawValue); \(entry.reason)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Builds the coverage of one database from its schema, its rules and a sample of values.
public enum CoverageAudit {
    /// Values sampled per column or path.
    public static let defaultSample = 50

    /// `sample`: up to `limit` non-empty values of each of `columns` of a table, as text.
    public static func entries(schema: SchemaShape, rules: CompiledRules, limit: Int = defaultSample,
                               sample: (TablePlan, [String], Int) throws -> [String: [String]]) throws -> [CoverageEntry] {
        var entries: [CoverageEntry] = []
        let kind = rules.rules.kind
        let keepUnlisted = rules.rules.unlisted == .keep
        for table in schema.tables where table.holdsRows {
            let rule = schema.rule(for: table, in: rules)
            if rule?.rule.skipData == true {
                entries.append(CoverageEntry(table: table.name, column: "*", rule: "data: skip", classification: .none,
                                             reason: "rows are not copied", status: .skipped))
                continue
            }
            // No rule and unlisted: fail never gets here (the check stops the run first).
            guard rule != nil || keepUnlisted else { continue }
            // What a column holds does not depend on which rows are copied: sampling every row
            // runs no `where:` twice (the copy reports a broken one, with its file:line).
            let plan = TablePlan(table: table, rule: rule?.overAllRows)
            let columns = table.columns.filter { !$0.isGenerated && !DocumentPathShape.holdsNothing($0) }
            let values = try sample(plan, columns.map(\.name), limit)
            let keyColumns = Set(table.primaryKey + (kind == .collections ? ["_id"] : []))
            for shape in table.columns {
                if shape.isGenerated {
                    entries.append(CoverageEntry(table: table.name, column: shape.name, rule: "keep (generated)",
                                                 classification: .none, reason: "computed by the database",
                                                 status: .generated))
                    continue
                }
                let found = values[shape.name] ?? []
                if kind == .collections {
                    entries += pathEntry(table: table.name, shape: shape, rules: FieldPathRules(rule), keepUnlisted: keepUnlisted,
                                         values: found, isKey: keyColumns.contains(shape.name))
                    continue
                }
                let column = rule?.column(named: shape.name)
                // A column without a rule under unlisted: fail is drift, which the check reports.
                if column == nil && !keepUnlisted { continue }
                if let column, let tree = column.transformer.jsonRules {
                    entries += jsonEntries(table: table.name, column: shape, tree: tree,
                                           keepUnruled: column.transformer.jsonKeepsUnruled, values: found)
                    continue
                }
                let isKeep = column?.isKeep ?? true
                let name = column.map { $0.transformer.name } ?? "keep (unlisted: keep)"
                entries.append(entry(table: table.name, column: shape.name, rule: name, isKeep: isKeep,
                                     name: shape.name, category: shape.category, values: found,
                                     isKey: keyColumns.contains(shape.name) || Scanner.isForeignKeyName(shape.name)))
            }
        }
        return entries
    }

    static func entry(table: String, column: String, rule: String, isKeep: Bool, name: String, category: ValueCategory,
                      values: [String], isKey: Bool) -> CoverageEntry {
        let classification = PIIClassifier.classify(name: name, category: category, values: values, isKey: isKey)
        let status: CoverageEntry.Status = !isKeep ? .masked
            // A name alone is a hint, not evidence: only sampled values make a kept column "personal",
            // except where values cannot show it (a date of birth is a date, a photo is bytes).
            : classification.isPersonal && (classification.matches > 0 || [.dateOfBirth, .photo].contains(classification.kind))
                ? .keptPersonal
            : .keptClean
        return CoverageEntry(table: table, column: column, rule: rule, classification: classification.kind,
                             reason: classification.reason, status: status)
    }

    /// A document path: the rule covering it (on the path or an enclosing one).
    static func pathEntry(table: String, shape: ColumnShape, rules: FieldPathRules, keepUnlisted: Bool, values: [String],
                          isKey: Bool) -> [CoverageEntry] {
        let path = shape.name.isEmpty ? FieldPath.of(rule: "") : try? FieldPath(shape.name)
        if shape.distinctKeys != nil {
            let keys = path.flatMap { rules.keysRule(at: $0) }
            return [CoverageEntry(table: table, column: shape.name.isEmpty ? "(field names)" : "\(shape.name) (field names)",
                                  rule: keys.map { "keys: \($0.transformer.name)" } ?? "keys: keep (unlisted: keep)",
                                  classification: .none, reason: "\(shape.distinctKeys ?? 0) distinct field names",
                                  status: keys.map { $0.isKeep ? .keptClean : .masked } ?? .keptClean)]
        }
        guard let path else {
            return [entry(table: table, column: shape.name, rule: "keep (unlisted: keep)", isKeep: true, name: shape.name,
                          category: shape.category, values: values, isKey: isKey)]
        }
        switch rules.coverage(of: path, holdsNothing: DocumentPathShape.holdsNothing(shape)) {
        case .holdsNothing:
            return []
        case .unruled:
            guard keepUnlisted else { return [] }
            return [entry(table: table, column: shape.name, rule: "keep (unlisted: keep)", isKeep: true, name: leaf(of: shape.name),
                          category: shape.category, values: values, isKey: isKey)]
        case let .rule(column):
            let via = column.name == shape.name ? "" : " (rule on \(column.name.isEmpty ? "(top)" : column.name))"
            return [entry(table: table, column: shape.name, rule: column.transformer.name + via, isKeep: column.isKeep,
                          name: leaf(of: shape.name), category: shape.category, values: values, isKey: isKey)]
        }
    }

    /// A JSON column: each path found in the sampled values, with the rule covering it.
    static func jsonEntries(table: String, column: ColumnShape, tree: FieldPathRules, keepUnruled: Bool,
                            values: [String]) -> [CoverageEntry] {
        var discovery = PathDiscovery()
        discovery.valuesPerPath = defaultSample
        for value in values { discovery.add(json: value) }
        var entries: [CoverageEntry] = []
        for (shape, found) in discovery.columnsWithValues() {
            for var entry in pathEntry(table: table, shape: shape, rules: tree, keepUnlisted: keepUnruled, values: found,
                                       isKey: false) {
                entry.column = shape.name.isEmpty ? column.name : "\(column.name).\(entry.column)"
                if entry.rule == "keep (unlisted: keep)" { entry.rule = "keep (json unlisted: keep)" }
                entries.append(entry)
            }
        }
        if entries.isEmpty {
            entries.append(CoverageEntry(table: table, column: column.name, rule: "json", classification: .none,
                                         reason: "no values in the sample", status: .keptClean))
        }
        return entries
    }

    static func leaf(of path: String) -> String {
        path.split(separator: ".").last.map { String($0.replacingOccurrences(of: "[]", with: "")) } ?? path
    }
}

/// `strict_keep: true`: a `keep` column whose sampled values look personal stops the run before
/// anything is written.
public struct KeptPersonalData: Error, CustomStringConvertible, Sendable {
    public var database: String
    public var rulesFile: String
    public var entries: [CoverageEntry]

    public var description: String {
        "\(entries.count) kept column\(entries.count == 1 ? " or path" : "s or paths") of database \(database) "
            + (entries.count == 1 ? "looks" : "look") + " like personal data, and \(rulesFile) says strict_keep: true; nothing was written. Give "
            + "each a transformer, or remove strict_keep: true if a person has decided the sample misleads:\n"
            + entries.map { "  \($0.table).\($0.column) (\($0.rule)): \($0.classification.rawValue); \($0.reason)" }
                .joined(separator: "\n")
    }
}

extension CoverageAudit {
    /// The coverage of a run from a source: every table sampled once inside the run's snapshot.
    /// Kept columns that look personal are reported to `warn`, or stop the run under strict_keep.
    public static func report(for database: DatabaseJob, plan: RestorePlan, source: any SourceSession,
                              warn: (String) -> Void) throws -> CoverageReport {
        let entries = try entries(schema: plan.schema, rules: plan.rules) { table, columns, limit in
            try source.sampleColumns(table, columns: columns, limit: limit)
        }
        let report = CoverageReport(database: database.name, engine: database.engine.rawValue, rulesFile: database.rules.path,
                                    rulesDigest: try? RulesDigest.of(rulesFile: database.rules.path,
                                                                     overridesFile: database.overrides.path),
                                    sampleSize: defaultSample, entries: entries)
        try report.enforce(strict: database.rules.strictKeep, warn: warn)
        return report
    }
}

extension CoverageReport {
    /// Warns about each kept column that looks personal; with `strict`, refuses them all at once.
    public func enforce(strict: Bool, warn: (String) -> Void) throws {
        let review = keptPersonal
        if strict && !review.isEmpty {
            throw KeptPersonalData(database: database, rulesFile: rulesFile, entries: review)
        }
        for entry in review {
            warn("\(entry.table).\(entry.column) is kept (\(entry.rule)) but looks like \(entry.classification.rawValue): "
                     + "\(entry.reason); mask it in \(rulesFile), or set strict_keep: true there to make this an error")
        }
    }
}
