import Snapmask

extension MySQLEngine {
    /// Values of one column picked at random, for `check` to find the paths inside JSON columns:
    /// on large tables each row is kept with a probability sized from the row estimate (no full
    /// sort of the table), on small ones all rows are shuffled. Read-only.
    public func sampleValues(_ plan: TablePlan, column: String, limit: Int) throws -> [String] {
        let database = try job.source.mysqlDatabase("source")
        let connection = try MySQLSource.connect(job.source, purpose: "snapmask check")
        let value = MySQLIdentifier.quoted(column)
        var condition = "\(value) IS NOT NULL"
        if let filter = plan.whereClause { condition += " AND (\(filter))" }
        let table = MySQLIdentifier.qualified(database, plan.name)
        let estimate = plan.table.estimatedRows
        if estimate > limit * 20 {
            let share = min(1, Double(limit) * 4 / Double(estimate))
            let rows = try connection.query(
                "SELECT CAST(\(value) AS CHAR) FROM \(table) WHERE \(condition) AND RAND() < \(share) LIMIT \(limit)")
            if rows.count >= limit / 2 { return rows.compactMap { $0[0] } }
        }
        return try connection.query("SELECT CAST(\(value) AS CHAR) FROM \(table) WHERE \(condition) ORDER BY RAND() LIMIT \(limit)")
            .compactMap { $0[0] }
    }
}
