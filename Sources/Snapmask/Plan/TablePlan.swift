/// What happens to one source table: which columns are copied, which are masked and how.
public struct TablePlan: Sendable {
    public let table: TableShape
    /// The rule the table follows (its own or its partitioned parent's); nil under `unlisted: keep`.
    public let rule: CompiledTable?
    /// The columns read and written, in order (generated columns are computed by the target).
    /// For a collection: the field paths found in the sample.
    public private(set) var columns: [ColumnShape]
    /// Position in `columns` → the rule that masks it (`keep` columns are absent). For a
    /// collection, a path's rule may be the one on an enclosing path.
    public private(set) var masks: [Int: CompiledColumn]
    /// Every rule that changes data: masked columns, or for a collection every non-`keep` path
    /// rule (rules on subtrees and `keys:` rules included), whether or not the sample showed
    /// values there.
    public let maskedColumns: [CompiledColumn]
    /// Set when this plan reads and loads one part of the table (see `TableSlice`).
    public private(set) var slice: TableSlice?

    public init(table: TableShape, rule: CompiledTable?) {
        self.table = table
        self.rule = rule
        columns = table.copiedColumns
        var masks: [Int: CompiledColumn] = [:]
        if let rule, rule.kind == .collections {
            let tree = FieldPathRules(rule)
            for (index, column) in columns.enumerated() {
                guard let path = try? FieldPath(column.name),
                      case let .rule(covering) = tree.coverage(of: path, holdsNothing: DocumentPathShape.holdsNothing(column)),
                      !covering.isKeep else { continue }
                masks[index] = covering
            }
            maskedColumns = rule.columns.filter { !$0.isKeep }
        } else {
            for (index, column) in columns.enumerated() {
                if let compiled = rule?.column(named: column.name), !compiled.isKeep { masks[index] = compiled }
            }
            maskedColumns = masks.sorted { $0.key < $1.key }.map(\.value)
        }
        self.masks = masks
    }

    public var name: String { table.name }
    public var skipData: Bool { rule?.rule.skipData ?? false }
    public var whereClause: String? { rule?.rule.whereClause }

    /// Set when this plan reads only a subset's key columns (see `KeyScan`); nothing is masked
    /// or written from such a read.
    public private(set) var keyScan: KeyScan?

    /// The same table, read for a subset's keys: `columns` are the scan's columns (or paths).
    public func scanningKeys(_ scan: KeyScan) -> TablePlan {
        var keys = self
        keys.keyScan = scan
        keys.columns = scan.columns.map { name in
            table.columns.first { $0.name == name } ?? ColumnShape(name: name, typeName: "", category: .text)
        }
        // The same masks by name, so an engine reads each column as the copy does (MySQL picks a
        // column's transport by whether it is masked) and the keys' text is the copy's.
        keys.masks = [:]
        for (index, name) in scan.columns.enumerated() {
            if let original = columns.firstIndex(where: { $0.name == name }), let mask = masks[original] { keys.masks[index] = mask }
        }
        return keys
    }

    /// The same table, limited to one slice of its rows.
    public func sliced(_ slice: TableSlice) -> TablePlan {
        var part = self
        part.slice = slice
        return part
    }
}

/// Every table of a restore, after the rules passed the check against the source's schema.
public struct RestorePlan: Sendable {
    public let schema: SchemaShape
    public let rules: CompiledRules
    /// The tables that hold rows (partitions rather than their partitioned parents), largest first.
    public let tables: [TablePlan]

    /// Checks the rules against the schema and builds the plan; any problem stops here, before
    /// anything is written.
    public static func make(rules: CompiledRules, schema: SchemaShape) throws -> RestorePlan {
        let problems = SchemaCheck.problems(rules: rules, schema: schema)
        guard problems.isEmpty else { throw CheckFailed(problems: problems) }
        let tables = schema.tables.filter(\.holdsRows).map { TablePlan(table: $0, rule: schema.rule(for: $0, in: rules)) }
        return RestorePlan(schema: schema, rules: rules,
                           tables: tables.sorted { $0.table.estimatedRows > $1.table.estimatedRows })
    }

    /// The plan for a source session: the values of its JSON columns are sampled first so the
    /// check sees the paths inside them.
    public static func make(rules: CompiledRules, source: any SourceSession) throws -> RestorePlan {
        var schema = source.schema
        try JSONColumnSampling.discover(in: &schema, rules: rules) { plan, column, limit in
            try source.sampleRows(plan, keyColumns: [], column: column, limit: limit).map(\.value)
        }
        return try make(rules: rules, schema: schema)
    }

    /// For rows masked already (a sanitized snapshot): every table copied as it is stored.
    public static func masked(schema: SchemaShape, rules: CompiledRules) -> RestorePlan {
        let tables = schema.tables.filter(\.holdsRows).map { TablePlan(table: $0, rule: nil) }
        return RestorePlan(schema: schema, rules: rules, tables: tables.sorted { $0.table.estimatedRows > $1.table.estimatedRows })
    }

    public func table(named name: String) -> TablePlan? {
        tables.first { $0.name == name } ?? schema.defaultSchema.flatMap { schema in tables.first { $0.name == "\(schema).\(name)" } }
    }
}

/// The rules do not fit the source: nothing was written.
public struct CheckFailed: Error, Sendable, CustomStringConvertible {
    public var problems: [CheckProblem]

    public var description: String {
        "the rules do not match the source schema (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
