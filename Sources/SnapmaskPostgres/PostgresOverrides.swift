import Snapmask

/// Override steps on one connection, in one transaction (all steps or none): a `set:` is one
/// UPDATE with the literal values as parameters, an `sql:` file runs as it is.
struct PostgresOverrides: OverrideExecutor {
    let connection: PostgresConnection

    static func apply(_ overrides: OverrideList, on connection: PostgresConnection) throws -> [OverrideOutcome] {
        try OverrideRunner.apply(overrides, with: PostgresOverrides(connection: connection))
    }

    func begin() throws { try connection.execute("BEGIN") }
    func commit() throws { try connection.execute("COMMIT") }
    func rollback() { _ = try? connection.execute("ROLLBACK") }

    func runSQL(_ sql: OverrideSQL) throws -> Int {
        try connection.execute(sql.text).affectedRows
    }

    func update(_ update: OverrideUpdate) throws -> Int {
        var parameters: [String?] = []
        let assignments = update.assignments.map { column, value -> String in
            let target = PostgresIdentifier.quoted(column)
            if let expression = OverrideRunner.sqlExpression(value) { return "\(target) = \(expression)" }
            parameters.append(value.textValue)
            return "\(target) = $\(parameters.count)"
        }
        var sql = "UPDATE \(PostgresIdentifier.qualified(update.target)) SET \(assignments.joined(separator: ", "))"
        if let condition = update.whereClause { sql += " WHERE (\(condition))" }
        return try connection.execute(sql, parameters).affectedRows
    }
}
