import Snapmask

/// `check`'s foresight of CHECK constraints (MySQL 8.0.16+ and MariaDB enforce them): each one
/// that names a masked column is evaluated by the source server (read-only, on a derived table,
/// nothing written) on the first rows as they are and as the restore would mask them.
extension MySQLEngine {
    public func constraintBreaks(_ plan: TablePlan, limit: Int) throws -> [ConstraintBreak] {
        let masked = plan.maskedColumns.map(\.name)
        guard !masked.isEmpty else { return [] }
        let database = try job.source.mysqlDatabase("source")
        let connection = try MySQLSource.connect(job.source, purpose: "snapmask check")
        let schema = connection.literal(database), table = connection.literal(plan.name)
        // MariaDB names a column's constraint after the column, unique per table only; MySQL's
        // names are unique in the schema and its CHECK_CONSTRAINTS has no table.
        let listed: [[String?]]
        do {
            listed = try connection.query(connection.isMariaDB
                ? "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                    + "WHERE CONSTRAINT_SCHEMA = \(schema) AND TABLE_NAME = \(table)"
                : "SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS tc "
                    + "JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA "
                    + "AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME WHERE tc.TABLE_SCHEMA = \(schema) "
                    + "AND tc.TABLE_NAME = \(table) AND tc.CONSTRAINT_TYPE = 'CHECK' AND tc.ENFORCED = 'YES'")
        } catch let error as MySQLError where [1054, 1109].contains(error.code) {
            // MySQL before 8.0.16 parses CHECK constraints but neither enforces nor lists them.
            return []
        }
        let constraints = listed.compactMap { row -> (name: String, clause: String, columns: [String])? in
            guard let name = row[0], let clause = row[1] else { return nil }
            let columns = ConstraintBreak.columns(named: clause, among: masked)
            return columns.isEmpty ? nil : (name, clause, columns)
        }
        guard !constraints.isEmpty else { return [] }
        let rows = try preview(plan, limit: limit)
        guard !rows.isEmpty else { return [] }

        // A derived table of the sampled rows as they are and as masked; bytes the preview shows
        // as hex (a kept binary column's) go back to bytes.
        func literal(_ value: String?, _ position: Int, masked: Bool) -> String {
            guard let value else { return "NULL" }
            if !masked, MySQLValueTransport.of(plan.columns[position], masked: false) == .hex, value.hasPrefix("0x") {
                return "UNHEX(\(connection.literal(String(value.dropFirst(2)))))"
            }
            return connection.literal(value)
        }
        let selects = rows.enumerated().flatMap { index, row in
            [(false, row.original), (true, row.masked)].map { isMasked, values in
                "SELECT \(index) AS snapmask_row, \(isMasked ? 1 : 0) AS snapmask_masked, " + plan.columns.indices.map { position in
                    let value = position < values.count ? values[position] : nil
                    return "\(literal(value, position, masked: plan.masks[position] != nil)) AS "
                        + MySQLIdentifier.quoted(plan.columns[position].name)
                }.joined(separator: ", ")
            }
        }.joined(separator: " UNION ALL ")
        var breaks: [ConstraintBreak] = []
        for constraint in constraints {
            let verdicts = try connection.query("SELECT snapmask_row, snapmask_masked, COALESCE((\(constraint.clause)), 1) <> 0 "
                                                  + "FROM (\(selects)) AS t").compactMap { result in
                result[0].map { (row: $0, masked: result[1] == "1", holds: result[2] == "1") }
            }
            if let found = ConstraintBreak.judged(verdicts, table: plan.name, constraint: constraint.name, columns: constraint.columns) {
                breaks.append(found)
            }
        }
        return breaks
    }
}
