/// Row counts in the shadow copy differ from what was read from the source.
public struct CountMismatch: Error, Sendable, CustomStringConvertible {
    public var mismatches: [(table: String, read: Int, written: Int)]

    public var description: String {
        "row counts differ between source and shadow copy: "
            + mismatches.map { "\($0.table) read \($0.read), shadow has \($0.written)" }.joined(separator: "; ")
    }

    /// Each table's rows in the shadow copy against the rows read from the source.
    static func verify(_ plan: RestorePlan, _ tables: [RestoreReport.Table], target: any TargetSession) throws {
        var mismatches: [(String, Int, Int)] = []
        for table in plan.tables where !table.skipData {
            let read = tables.first { $0.name == table.name }?.rowsRead ?? 0
            let counted = try target.countRows(table)
            if counted != read { mismatches.append((table.name, read, counted)) }
        }
        if !mismatches.isEmpty { throw CountMismatch(mismatches: mismatches) }
    }
}
