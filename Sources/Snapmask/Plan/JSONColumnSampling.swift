/// JSON columns have no schema of their own: `check` reads a sample of the values of every
/// column a `json` rule masks and records the paths found in them (`ColumnShape.paths`), so the
/// rules can be compared with them before anything is copied, as for document collections. The
/// masker still checks every value while streaming: a sample can miss a rare key.
public enum JSONColumnSampling {
    /// Values read per JSON column.
    public static let defaultValues = 500

    /// Fills in the paths of each JSON column that a `json` rule masks. `sample` gives up to
    /// `limit` values of a column (table plan, column name).
    public static func discover(in schema: inout SchemaShape, rules: CompiledRules, limit: Int = defaultValues,
                                sample: (TablePlan, String, Int) throws -> [String]) throws {
        guard rules.rules.kind == .tables else { return }
        for tableIndex in schema.tables.indices {
            let table = schema.tables[tableIndex]
            guard table.holdsRows, let rule = schema.rule(for: table, in: rules), !rule.rule.skipData else { continue }
            let plan = TablePlan(table: table, rule: rule)
            for columnIndex in table.columns.indices {
                let column = table.columns[columnIndex]
                guard rule.column(named: column.name)?.transformer.jsonRules != nil else { continue }
                var discovery = PathDiscovery()
                for value in try sample(plan, column.name, limit) { discovery.add(json: value) }
                schema.tables[tableIndex].columns[columnIndex].paths = discovery.columns()
            }
        }
    }
}
