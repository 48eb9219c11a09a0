import Foundation

/// `scan`: every table's columns (or collection's paths, or JSON column's paths) classified from
/// a random sample of their values, with the rule `scan` suggests for each.
public struct ScannedColumn: Sendable, Codable {
    public var name: String
    public var typeName: String
    public var classification: PIIClassification
    /// The rule as a rule file writes it (`email`, `{ transform: phone, keep_last: 2 }`, ...).
    public var rule: String
    /// For a JSON column: its paths, each with its own rule.
    public var paths: [ScannedColumn]?
}

public struct ScannedTable: Sendable, Codable {
    public var name: String
    public var columns: [ScannedColumn]
}

public enum Scanner {
    /// Values sampled per column or path. More than a run's coverage sample (50): scan runs when
    /// the schema changes, and a column where one value in 15 holds a name shows none in 50
    /// values one time in 25, in 200 values about once in 250,000.
    public static let defaultSample = 200

    /// `values`: a random sample of a column's (or path's) values as text.
    public static func scan(_ schema: SchemaShape, kind: RuleSet.Kind,
                            values: (TableShape, ColumnShape) throws -> [String]) rethrows -> [ScannedTable] {
        try schema.tables.filter { $0.partitionOf == nil }.map { table in
            // A partitioned table holds no rows itself: its first partition shows what it holds.
            let sampled = table.holdsRows ? table : schema.tables.first { $0.partitionOf == table.name } ?? table
            let keyColumns = Set(table.primaryKey + (kind == .collections ? ["_id"] : []))
            var columns: [ScannedColumn] = []
            let names = table.columns.map(\.name)
            for column in table.columns where !column.isGenerated && column.distinctKeys == nil {
                if kind == .collections && DocumentPathShape.holdsNothing(column) && isLedTo(column.name, by: names) { continue }
                let sample = try values(sampled, column)
                if column.category == .json && kind == .tables {
                    columns.append(scanJSON(column, sample: sample))
                    continue
                }
                let classification = PIIClassifier.classify(name: column.name.split(separator: ".").last.map(String.init) ?? column.name,
                                                             category: column.category, values: sample,
                                                             isKey: keyColumns.contains(column.name) || isForeignKeyName(column.name))
                let unique = table.uniqueKeys.contains { $0.contains(column.name) }
                columns.append(ScannedColumn(name: column.name, typeName: column.typeName, classification: classification,
                                             rule: (kind == .collections ? RuleSuggestion.emptyOnly(column) : nil)
                                                 ?? RuleSuggestion.rule(for: classification, column: column, unique: unique, kind: kind)))
            }
            if kind == .collections {
                // A map keyed by data: its field names are hashed, what is under them classified.
                for map in table.columns where map.distinctKeys != nil {
                    let classification = PIIClassification(kind: .none, matches: 0, sampled: map.distinctKeys ?? 0,
                                                           reason: "\(map.distinctKeys ?? 0) distinct field names: a map keyed by data",
                                                           needsReview: true)
                    columns.append(ScannedColumn(name: map.name, typeName: map.typeName, classification: classification,
                                                 rule: "{ keys: hash }"))
                }
            }
            return ScannedTable(name: table.name, columns: columns)
        }
    }

    /// A JSON column: its paths from the sampled values, each classified.
    static func scanJSON(_ column: ColumnShape, sample: [String]) -> ScannedColumn {
        var discovery = PathDiscovery()
        discovery.valuesPerPath = defaultSample
        for value in sample { discovery.add(json: value) }
        var paths: [ScannedColumn] = []
        let found = discovery.columnsWithValues()
        let names = found.map(\.0.name)
        for (path, values) in found where !path.name.isEmpty {
            if path.distinctKeys != nil {
                paths.append(ScannedColumn(name: path.name, typeName: path.typeName,
                                           classification: PIIClassification(kind: .none, matches: 0, sampled: path.distinctKeys ?? 0,
                                                                              reason: "a map keyed by data", needsReview: true),
                                           rule: "{ keys: hash }"))
                continue
            }
            if DocumentPathShape.holdsNothing(path) && isLedTo(path.name, by: names) { continue }
            let leaf = path.name.split(separator: ".").last.map { String($0.replacingOccurrences(of: "[]", with: "")) } ?? path.name
            let classification = PIIClassifier.classify(name: leaf, category: path.category, values: values)
            paths.append(ScannedColumn(name: path.name, typeName: path.typeName, classification: classification,
                                       rule: RuleSuggestion.emptyOnly(path)
                                           ?? RuleSuggestion.rule(for: classification, column: path, unique: false, kind: .collections)))
        }
        let personal = paths.filter(\.classification.isPersonal).count
        let classification = PIIClassification(kind: personal > 0 ? .freeText : .none, matches: personal, sampled: sample.count,
                                               reason: "\(paths.count) JSON paths in \(sample.count) sampled values, "
                                                   + "\(personal) with personal data", needsReview: paths.contains(where: \.classification.needsReview))
        return ScannedColumn(name: column.name, typeName: column.typeName, classification: classification,
                             rule: "json", paths: paths)
    }

    /// Whether a path seen only null or empty needs no line of its own: lines for paths below it
    /// (or its map's `keys:` line, under the same name) lead the rules there, and the maskers let
    /// a null or empty value through on the way to a ruled path. A `keep` of its own would keep
    /// whatever it holds later, where its new fields should come up as drift.
    static func isLedTo(_ name: String, by names: [String]) -> Bool {
        names.filter { $0 == name }.count > 1 || names.contains { $0.hasPrefix(name + ".") || $0.hasPrefix(name + "[]") }
    }

    static func isForeignKeyName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "id" || lower.hasSuffix("_id") || lower.hasSuffix("id") && lower.count <= 12 && lower.first?.isLowercase == true
    }
}

/// The rule `scan` suggests for a classification; a suggestion a person must decide on carries
/// `review:`, which `check` refuses until it is removed.
public enum RuleSuggestion {
    /// A field seen only as an empty object or array still needs a rule (its name is copied), but
    /// `keep` would also keep whatever fields it holds later, unchecked: a person decides. Nil for
    /// anything else (a field seen only null is suggested from its name, like any other).
    public static func emptyOnly(_ path: ColumnShape) -> String? {
        guard DocumentPathShape.holdsNothing(path), path.typeName.contains("empty") else { return nil }
        return #"{ transform: keep, review: "seen only empty: keep would copy whatever it holds later; decide, then remove review:" }"#
    }

    public static func rule(for classification: PIIClassification, column: ColumnShape, unique: Bool,
                            kind: RuleSet.Kind) -> String {
        let lower = column.name.lowercased()
        var transform: String
        var options = ""
        switch classification.kind {
        case .none: return "keep"
        case .email: transform = "email"
        case .phone: transform = "phone"; options = ", keep_last: 2"
        case .personName:
            transform = ["user", "login", "handle", "nick"].contains(where: lower.contains) ? "username"
                : lower.contains("first") || lower.contains("given") ? "first_name"
                : lower.contains("last") || lower.contains("family") || lower.contains("surname") ? "last_name" : "full_name"
        case .street: transform = "street"
        case .address: transform = "address"
        case .city: transform = "city"
        case .postalCode: transform = "zip"
        case .nationalID: transform = column.nullable && !unique ? "null" : "ssn"
        case .card: transform = "credit_card"; options = ", keep_last: 4"
        case .iban: transform = "iban"
        case .ip: transform = "ip"
        case .dateOfBirth: transform = "date_shift"; options = ", max_days: 180"
        case .photo, .file: transform = column.nullable ? "null" : "keep"
        case .location: transform = "coordinate"
        case .freeText: transform = "lorem"
        case .secret:
            transform = lower.contains("password") ? "constant" : "hash"
            if transform == "constant" { options = ", value: \"!masked-by-snapmask\"" }
        }
        var review = classification.needsReview
        let descriptor = TransformerCatalog.descriptor(named: transform)
        if let descriptor, descriptor.role == .masking, !descriptor.accepts(column.elementCategory ?? column.category) {
            transform = column.nullable ? "null" : "keep"
            options = ""
            review = true
        }
        if unique && !(descriptor?.uniqueness.canPromise ?? true) && transform != "null" { review = true }
        // A suggestion `check` would refuse for its length carries the cut; cutting gives up
        // distinct outputs, so under a unique index it is for a person to decide (a wider column,
        // or another transformer).
        var cut = false
        if let limit = column.maxLength, TransformerCatalog.descriptor(named: transform)?.acceptsMaxLength == true,
           let longest = TransformerCatalog.longestOutput(of: transform), longest > limit {
            options += ", max_length: \(limit)"
            cut = true
            if unique { review = true }
        }
        if unique, !cut, descriptor?.uniqueness.canPromise == true { options += ", unique: true" }
        // An array column's sample is its elements; the rule masks them one by one.
        if column.isArray, TransformerCatalog.descriptor(named: transform)?.role == .masking { options += ", array: true" }
        if review {
            return "{ transform: \(transform)\(options), review: \"\(classification.kind.rawValue): decide, then remove review:\" }"
        }
        return options.isEmpty ? transform : "{ transform: \(transform)\(options) }"
    }
}
