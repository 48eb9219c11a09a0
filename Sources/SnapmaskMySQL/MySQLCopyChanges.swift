import Snapmask

/// What a copy changed about each table's rows: the columns that hold transformer output and the
/// tables that lost rows. From the plan on a restore from the source; from the snapshot's record
/// of its plan on a restore from a snapshot (whose own plan masks and filters nothing).
struct MySQLCopyChanges: Sendable {
    /// Per table, its masked columns and their transformers.
    var maskedColumns: [String: [String: String]] = [:]
    /// Tables copied with `where:` or `data: skip`.
    var leftOutRows: Set<String> = []

    init() {}

    init(definition: SchemaDefinition, plan: RestorePlan) {
        for table in plan.tables {
            let masked = definition.maskedColumns(of: table.name)
            if !masked.isEmpty { maskedColumns[table.name] = masked }
            if definition.leftOutRows(of: table.name) { leftOutRows.insert(table.name) }
        }
    }

    /// Foreign keys are added while foreign_key_checks is off (no table rebuild), so nothing checks
    /// the rows then. The source enforced them on the rows of its snapshot, so a copy can only break
    /// one where it changed something: rows left out (`where:` or `data: skip` on the parent or the
    /// child) or key columns masked. Those keys are checked, all others hold by construction.
    func mayBreak(_ key: MySQLForeignKey, of table: String, plan: RestorePlan, database: String) -> Bool {
        guard key.referencedSchema == database, !key.columns.isEmpty, plan.table(named: table) != nil else { return false }
        guard plan.table(named: key.referencedTable) != nil else { return true }
        func masks(_ table: String, _ columns: [String]) -> Bool {
            columns.contains { maskedColumns[table]?[$0] != nil }
        }
        return leftOutRows.contains(table) || leftOutRows.contains(key.referencedTable)
            || masks(table, key.columns) || masks(key.referencedTable, key.referencedColumns)
    }
}
