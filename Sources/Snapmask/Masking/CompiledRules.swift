/// A column's rule with its transformer built.
///
/// A class, not a struct: the JSON and document walks hand a column's rule down at every level of
/// every value, and one reference costs a retain where the struct's copy retained each of its
/// strings, options and descriptor.
public final class CompiledColumn: Sendable {
    public let rule: ColumnRule
    public let transformer: CompiledTransformer

    public init(rule: ColumnRule, transformer: CompiledTransformer) {
        self.rule = rule
        self.transformer = transformer
    }

    public var name: String { rule.name }
    /// `keep` columns pass through as raw bytes, never decoded.
    public var isKeep: Bool { transformer.isKeep }
    /// A map rule's `keys:` part: it masks the field names at its path, not the values.
    public var masksFieldNames: Bool { transformer.spec.appliesToKeys }
    /// As reports and messages name it: `read_by (field names)` for a `keys:` rule.
    public var displayName: String { masksFieldNames ? "\(name.isEmpty ? "(top)" : name) (field names)" : name }
}

/// A table's rules with every transformer built once, shared by every batch of the table.
public struct CompiledTable: Sendable {
    public let rule: TableRule
    public let columns: [CompiledColumn]
    /// Collections name field paths (a rule covers everything below its path); tables name columns.
    public let kind: RuleSet.Kind

    public var name: String { rule.name }

    public func column(named name: String) -> CompiledColumn? { columns.first { $0.name == name } }

    /// The same rule over every row of the table (its `where:` left out).
    public var overAllRows: CompiledTable {
        var whole = rule
        whole.whereClause = nil
        return CompiledTable(rule: whole, columns: columns, kind: kind)
    }
}

/// A rule file with every transformer built: what `check` validates and the pipeline runs.
public struct CompiledRules: Sendable {
    public let rules: RuleSet
    public let tables: [CompiledTable]

    public func table(named name: String) -> CompiledTable? { tables.first { $0.name == name } }

    /// Builds every transformer of the rule file; all problems are reported together.
    public static func compile(_ rules: RuleSet, key: MaskingKey) throws -> CompiledRules {
        var errors = ConfigErrors()
        var tables: [CompiledTable] = []
        for table in rules.tables {
            var columns: [CompiledColumn] = []
            for column in table.columns {
                errors.collect {
                    columns.append(CompiledColumn(rule: column, transformer: try TransformerCatalog.compile(column.spec, key: key)))
                }
            }
            if rules.kind == .collections {
                let entries = columns.compactMap { column in
                    (try? FieldPath(column.name)).map { PathRuleCheck.Entry(path: $0, column: column) }
                }
                for problem in PathRuleCheck.problems(entries, owner: "collection '\(table.name)'") { errors.append(problem) }
            }
            tables.append(CompiledTable(rule: table, columns: columns, kind: rules.kind))
        }
        try errors.throwIfAny()
        return CompiledRules(rules: rules, tables: tables)
    }
}
