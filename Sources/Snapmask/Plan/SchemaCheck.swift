/// One disagreement between the rules and the source's real schema.
public struct CheckProblem: Sendable, CustomStringConvertible, Codable, Equatable {
    /// How the schema moved away from the rules: what the drift report groups by.
    public enum Drift: String, Sendable, Codable {
        /// A table, column or path without a rule.
        case added = "new"
        /// A rule for something the source no longer has.
        case removed
        /// A rule that no longer fits what is there (type, NULL, uniqueness, length, ...).
        case changed
    }

    public var table: String
    public var column: String?
    public var message: String
    public var drift: Drift

    public init(table: String, column: String? = nil, message: String, drift: Drift = .changed) {
        self.table = table
        self.column = column
        self.message = message
        self.drift = drift
    }

    public var description: String {
        "\(table)\(column.map { ".\($0)" } ?? ""): \(message)"
    }
}

/// Compares compiled rules with a source schema, failing closed: every table and column needs a
/// rule (unless `unlisted: keep`), every rule must name something that exists, and every
/// transformer must fit its column (type, NULL, uniqueness, length).
public enum SchemaCheck {
    public static func problems(rules: CompiledRules, schema: SchemaShape) -> [CheckProblem] {
        if rules.rules.kind == .collections { return DocumentPathCheck.problems(rules: rules, schema: schema) }
        var problems: [CheckProblem] = []
        let failUnlisted = rules.rules.unlisted == .fail
        var ruledTables = Set<String>()
        if rules.rules.foreignData == .fail {
            problems += foreignDataProblems(schema.foreignObjects ?? [], rulesPath: rules.rules.path)
        }

        for table in schema.tables {
            guard let rule = schema.rule(for: table, in: rules) else {
                if failUnlisted && table.partitionOf == nil {
                    problems.append(CheckProblem(table: table.name, message:
                        "table has no rule in \(rules.rules.path); add it under tables: with a rule per column, or { data: skip }",
                        drift: .added))
                }
                continue
            }
            ruledTables.insert(rule.name)
            problems += columnProblems(table: table, rule: rule, failUnlisted: failUnlisted, rulesPath: rules.rules.path)
        }
        for rule in rules.tables where !ruledTables.contains(rule.name) {
            let qualified = rule.name.contains(".") ? rule.name : schema.defaultSchema.map { "\($0).\(rule.name)" } ?? rule.name
            if let foreign = schema.foreignObjects?.first(where: { $0.kind == .table && $0.name == qualified }) {
                problems.append(CheckProblem(table: rule.name, message:
                    "the rule names a foreign table (on server \(foreign.server ?? "?")), a link to another database whose rows "
                        + "are never copied (\(rule.rule.location)); remove the rule and set `foreign_data: skip` at the top of "
                        + "\(rules.rules.path) to leave it out of staging"))
                continue
            }
            problems.append(CheckProblem(table: rule.name, message:
                "the rule names a table the source does not have (\(rule.rule.location)); remove the rule or fix its name",
                drift: .removed))
        }
        return problems
    }

    /// Names only: a server's or user mapping's options (hosts, passwords) are never shown.
    private static func foreignDataProblems(_ objects: [ForeignObject], rulesPath: String) -> [CheckProblem] {
        let remedy = "set `foreign_data: skip` at the top of \(rulesPath) to leave foreign servers, user mappings and "
            + "foreign tables out of staging"
        return objects.map { object in
            switch object.kind {
            case .server:
                return CheckProblem(table: "foreign server \(object.name)", message:
                    "a link from the source to another database; staging must not get it: \(remedy)")
            case .userMapping:
                return CheckProblem(table: "user mapping for \(object.name) on server \(object.server ?? "?")", message:
                    "may hold a password for that server; staging must not get it: \(remedy)")
            case .table:
                let views = object.dependents.isEmpty ? ""
                    : " (the views on it are left out too: \(object.dependents.joined(separator: ", ")))"
                return CheckProblem(table: object.name, message:
                    "a foreign table on server \(object.server ?? "?"), a live link to another database; staging must not "
                        + "get it: \(remedy)\(views)")
            }
        }
    }

    private static func columnProblems(table: TableShape, rule: CompiledTable, failUnlisted: Bool,
                                       rulesPath: String) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        func problem(_ column: String?, _ message: String, drift: CheckProblem.Drift = .changed) {
            problems.append(CheckProblem(table: table.name, column: column, message: message, drift: drift))
        }
        for column in rule.columns where table.column(named: column.name) == nil {
            problem(column.name, "the rule names a column the table does not have (\(column.rule.location)); "
                        + "remove it or fix its name", drift: .removed)
        }
        if rule.rule.skipData { return problems }
        for shape in table.columns {
            guard let column = rule.column(named: shape.name) else {
                if failUnlisted && !shape.isGenerated {
                    problem(shape.name, "column has no rule (\(shape.typeName)); add `\(shape.name): keep` if it holds no "
                                + "personal data, or a transformer", drift: .added)
                }
                continue
            }
            if shape.isGenerated && !column.isKeep {
                problem(shape.name, "a generated column is computed by the database from the masked columns; "
                            + "its rule must be keep")
                continue
            }
            if let message = typeProblem(column, shape) { problem(shape.name, message) }
            problems += jsonPathProblems(table: table, column: column, shape: shape)
            if column.transformer.isNull && !shape.nullable {
                problem(shape.name, "the null transformer cannot write NOT NULL column (\(shape.typeName)); "
                            + (shape.category == .spatial ? "use keep (a spatial column takes only keep or null)"
                                                          : "use constant or another transformer"))
            }
            // NULLs never collide in a unique index, so `null` is fine there (not in a primary key,
            // which is NOT NULL and caught above).
            if !column.transformer.isUnique, !column.transformer.isNull,
               let key = table.uniqueKeys.first(where: { $0.contains(shape.name) }) {
                let what = key == table.primaryKey ? "the primary key" : "a unique index on (\(key.joined(separator: ", ")))"
                problem(shape.name, "column is under \(what) but \(column.transformer.name) cannot promise distinct "
                            + "outputs; use a transformer that can (email, hash, uuid, username, phone, digits, ...)")
            } else if !column.transformer.isUnique,
                      let index = table.uniqueExpressionIndexes?.first(where: { $0.columns.contains(shape.name) }) {
                // An expression can make NULLs equal too (coalesce), so `null` is no exception here.
                problem(shape.name, "column is read by unique index \(index.name) on (\(index.key)) but "
                            + "\(column.transformer.name) cannot promise distinct outputs, so the index would fail after the "
                            + "copy; use a transformer that can (email, hash, uuid, username, phone, digits, ...)")
            }
            if let limit = shape.maxLength, let longest = column.transformer.maxOutputLength, longest > limit {
                problem(shape.name, "\(column.transformer.name) can write up to \(longest) characters but the column is "
                            + "\(shape.typeName); add max_length: \(limit) to the rule")
            }
        }
        return problems
    }

    /// A `json` rule against the paths found in a sample of the column's values: every path
    /// needs a rule (unless the rule says `unlisted: keep`), and each rule must fit its values.
    static func jsonPathProblems(table: TableShape, column: CompiledColumn, shape: ColumnShape) -> [CheckProblem] {
        guard let tree = column.transformer.jsonRules, let paths = shape.paths else { return [] }
        let location = column.transformer.spec.location ?? column.rule.location
        return PathCheck.problems(tree: tree, shapes: paths, keepUnruled: column.transformer.jsonKeepsUnruled) { path, message in
            CheckProblem(table: table.name, column: shape.name, message: "JSON path \(path.isEmpty ? "(top)" : path): \(message)")
        } advice: { path in
            "add `\"\(path)\": keep` (or a transformer) to the paths: of \(shape.name) (\(location))"
        }
    }

    /// The transformers that can mask values of `category`, for messages: keep, null and constant
    /// first, then the masking ones.
    static func fitting(_ category: ValueCategory) -> [String] {
        (category == .spatial ? ["keep", "null"] : ["keep", "null", "constant"])
            + TransformerCatalog.all.filter { $0.role == .masking && $0.accepts(category) }.map(\.name).sorted()
    }

    static func typeProblem(_ column: CompiledColumn, _ shape: ColumnShape) -> String? {
        let name = column.transformer.name
        // Checked before constant's pass: the server refuses text in a geometry column, so a
        // constant would pass here and fail the load.
        if shape.category == .spatial && column.transformer.role != .keep && !column.transformer.isNull {
            return "\(name) writes text, which a spatial column (\(shape.typeName)) does not accept; use keep or null"
        }
        if column.transformer.role != .masking { return nil }
        if shape.isArray && !column.rule.perElement {
            return "column is an array (\(shape.typeName)); add array: true to mask each element, or use keep/null/constant"
        }
        if !shape.isArray && column.rule.perElement {
            return "array: true is for array columns, but the column is \(shape.typeName)"
        }
        let category = shape.elementCategory ?? shape.category
        let accepted = column.transformer.descriptor.accepts
        guard !accepted.contains(category) else { return nil }
        return "\(name) writes \(accepted.map(\.rawValue).sorted().joined(separator: " or ")) values and cannot fill a "
            + "\(shape.typeName) column; use \(fitting(category).joined(separator: ", "))"
    }
}
