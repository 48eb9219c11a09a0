import Snapmask

/// `check`'s foresight of CHECK constraints: the table's own and its columns' domains', evaluated
/// by the source server (read-only, nothing written) on the first rows as they are and as the
/// restore would mask them.
extension PostgresEngine {
    public func constraintBreaks(_ plan: TablePlan, limit: Int) throws -> [ConstraintBreak] {
        let masked = plan.maskedColumns.map(\.name)
        guard !masked.isEmpty else { return [] }
        let connection = try PostgresConnection(url: job.source, applicationName: "snapmask check", readOnly: true)
        let table = [PostgresIdentifier.qualified(plan.name)]
        // (name, expression, the column of a domain constraint); a domain's expression says VALUE.
        let constraints = try connection.execute("""
            SELECT c.conname, pg_get_expr(c.conbin, c.conrelid), NULL FROM pg_constraint c
             WHERE c.conrelid = $1::regclass AND c.contype = 'c' AND c.convalidated
            UNION ALL
            SELECT c.conname, pg_get_expr(c.conbin, 0), a.attname FROM pg_attribute a
              JOIN pg_type t ON t.oid = a.atttypid JOIN pg_constraint c ON c.contypid = t.oid AND c.contype = 'c'
             WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND c.convalidated
            """, table).rows.compactMap { row -> (name: String, expression: String, column: String?)? in
            guard let name = row[0], let expression = row[1] else { return nil }
            return (name, expression, row[2])
        }
        let relevant = constraints.filter { $0.column.map(masked.contains) ?? !ConstraintBreak.columns(named: $0.expression, among: masked).isEmpty }
        guard !relevant.isEmpty else { return [] }
        // A domain column is given its base type: casting to the domain would apply its check.
        let types = Dictionary(try connection.execute("""
            SELECT a.attname, format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
                                          CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END)
              FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
            """, table).rows.compactMap { row in row[0].flatMap { name in row[1].map { (name, $0) } } }, uniquingKeysWith: { first, _ in first })
        // Each row goes in twice, a parameter per column, within the protocol's 65,535 parameters.
        let rows = try preview(plan, limit: max(1, min(limit, 60_000 / (2 * max(1, plan.columns.count)))))
        guard !rows.isEmpty else { return [] }

        // One VALUES row per sampled row as it is and as masked, every value a parameter.
        let columns = plan.columns.map(\.name)
        var parameters: [String?] = [], tuples: [String] = []
        for (index, row) in rows.enumerated() {
            for (isMasked, values) in [(false, row.original), (true, row.masked)] {
                var items = ["\(index)", isMasked ? "true" : "false"]
                for (position, column) in columns.enumerated() {
                    parameters.append(position < values.count ? values[position] : nil)
                    items.append("$\(parameters.count)::text::\(types[column] ?? "text")")
                }
                tuples.append("(" + items.joined(separator: ", ") + ")")
            }
        }
        let names = (["snapmask_row", "snapmask_masked"] + columns.map(PostgresIdentifier.quoted)).joined(separator: ", ")
        var breaks: [ConstraintBreak] = []
        for constraint in relevant {
            let test = constraint.column.map { column in
                "(SELECT \(constraint.expression) FROM (SELECT t.\(PostgresIdentifier.quoted(column)) AS value) AS d)"
            } ?? "(\(constraint.expression))"
            let sql = "SELECT snapmask_row, snapmask_masked, coalesce(\(test), true) FROM (VALUES \(tuples.joined(separator: ", "))) "
                + "AS t(\(names))"
            let verdicts = try connection.execute(sql, parameters).rows.compactMap { result in
                result[0].map { (row: $0, masked: result[1] == "t", holds: result[2] == "t") }
            }
            let columns = constraint.column.map { [$0] } ?? ConstraintBreak.columns(named: constraint.expression, among: masked)
            if let found = ConstraintBreak.judged(verdicts, table: plan.name, constraint: constraint.name, columns: columns) {
                breaks.append(found)
            }
        }
        return breaks
    }
}
