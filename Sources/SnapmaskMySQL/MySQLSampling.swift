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

    public func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        let database = try job.source.mysqlDatabase("source")
        let connection = try MySQLSource.connect(job.source, purpose: "snapmask check")
        return try MySQLSampling.values(on: connection, database: database, plan: plan, columns: columns, limit: limit)
    }
}

enum MySQLSampling {
    /// One random sample of rows for all of `columns` (one pass over a large table, not one per
    /// column): up to `limit` non-empty values of each, as text. `rows`: a condition that selects
    /// rows picked at random already (by key); without it they are picked here. Spatial values
    /// are left out: they are binary, and keep or null is all they can take.
    static func values(on connection: MySQLConnection, database: String, plan: TablePlan, columns: [String],
                       limit: Int, rows picked: String? = nil) throws -> [String: [String]] {
        let spatial = Set(plan.table.columns.filter { $0.category == .spatial }.map(\.name))
        let read = columns.filter { !spatial.contains($0) }
        guard limit > 0, !read.isEmpty else { return [:] }
        var select = "SELECT \(read.map(MySQLIdentifier.quoted).joined(separator: ", ")) FROM "
            + MySQLIdentifier.qualified(database, plan.name)
        let filter = try MySQLSource.whereSQL(of: plan)
        // The rows come back in key order, not in the random order of their pick.
        if let picked { return sample(try connection.query(select + " WHERE \(picked)").shuffled(), of: read, limit: limit) }
        if let filter { select += " WHERE \(filter)" }
        let estimate = plan.table.estimatedRows
        var rows: [[String?]] = []
        if estimate > limit * 8 {
            let fraction = String(format: "%.9f", Double(limit * 8) / Double(estimate))
            rows = try connection.query(select + (filter == nil ? " WHERE" : " AND") + " RAND() < \(fraction) LIMIT \(limit * 2)")
        }
        if rows.count < limit { rows = try connection.query(select + " ORDER BY RAND() LIMIT \(limit * 2)") }
        return sample(rows, of: read, limit: limit)
    }

    private static func sample(_ rows: [[String?]], of read: [String], limit: Int) -> [String: [String]] {
        var values: [String: [String]] = [:]
        for (index, column) in read.enumerated() {
            values[column] = Array(rows.compactMap { $0[index] }.filter { !$0.isEmpty }.prefix(limit))
        }
        return values
    }
}
