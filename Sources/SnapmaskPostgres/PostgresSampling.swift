import Snapmask

extension PostgresEngine {
    /// Values of one column picked at random, for `check` to find the paths inside JSON columns:
    /// a Bernoulli sample sized from the row estimate on large tables (no full sort), a random
    /// order of all rows on small ones. Read-only; one statement per call.
    public func sampleValues(_ plan: TablePlan, column: String, limit: Int) throws -> [String] {
        let connection = try PostgresConnection(url: job.source, applicationName: "snapmask check", readOnly: true)
        let value = PostgresIdentifier.quoted(column)
        var condition = "\(value) IS NOT NULL"
        if let filter = plan.whereClause { condition += " AND (\(filter))" }
        let table = PostgresIdentifier.qualified(plan.name)
        let estimate = plan.table.estimatedRows
        if estimate > limit * 20 {
            let percent = min(100, max(0.0001, Double(limit) * 4 * 100 / Double(estimate)))
            let rows = try connection.execute(
                "SELECT \(value)::text FROM ONLY \(table) TABLESAMPLE BERNOULLI (\(percent)) WHERE \(condition) LIMIT \(limit)",
                []).rows
            if rows.count >= limit / 2 { return rows.compactMap { $0[0] } }
        }
        return try connection.execute(
            "SELECT \(value)::text FROM ONLY \(table) WHERE \(condition) ORDER BY random() LIMIT \(limit)", []).rows
            .compactMap { $0[0] }
    }
}
