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

    public func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        let connection = try PostgresConnection(url: job.source, applicationName: "snapmask check", readOnly: true)
        return try PostgresSampling.values(on: connection, plan: plan, columns: columns, limit: limit)
    }
}

enum PostgresSampling {
    /// One random sample of rows for all of `columns` (one scan of a large table, not one per
    /// column): up to `limit` non-empty values of each, as text. Twice the rows wanted are read so
    /// that sparse columns still get values.
    static func values(on connection: PostgresConnection, plan: TablePlan, columns: [String],
                       limit: Int) throws -> [String: [String]] {
        guard limit > 0, !columns.isEmpty else { return [:] }
        let list = columns.map { "\(PostgresIdentifier.quoted($0))::text" }.joined(separator: ", ")
        let condition = plan.whereClause.map { " WHERE (\n\($0)\n)" } ?? ""
        func sample(_ tablesample: String, _ parameters: [String?]) throws -> [[String?]] {
            try connection.execute("SELECT \(list) FROM ONLY \(PostgresIdentifier.qualified(plan.name))\(tablesample)"
                                       + "\(condition) ORDER BY random() LIMIT \(limit * 2)", parameters).rows
        }
        var rows: [[String?]] = []
        let estimate = plan.table.estimatedRows
        if estimate > limit * 20 {
            rows = try sample(" TABLESAMPLE BERNOULLI ($1::float8)", [String(min(100, 800 * Double(limit) / Double(estimate)))])
        }
        if rows.count < limit { rows = try sample("", []) }
        var values: [String: [String]] = [:]
        let arrays = Set(plan.table.columns.filter(\.isArray).map(\.name))
        for (index, column) in columns.enumerated() {
            let found = rows.compactMap { $0[index] }
            // An array column is judged by its elements, as `array: true` masks them.
            let sampled = arrays.contains(column) ? found.flatMap(elements) : found
            values[column] = Array(sampled.filter { !$0.isEmpty }.prefix(limit))
        }
        return values
    }

    /// The elements of a one-dimensional array literal; the literal itself when it is not one.
    static func elements(_ literal: String) -> [String] {
        guard let elements = try? PostgresArrayCodec().elements(of: literal) else { return [literal] }
        return elements.compactMap { $0 }
    }
}
