import Snapmask

/// Applies override steps on one connection, inside one transaction: all steps or none.
enum PostgresOverrides {
    static func apply(_ overrides: OverrideList, on connection: PostgresConnection) throws -> [OverrideOutcome] {
        guard !overrides.steps.isEmpty else { return [] }
        try connection.execute("BEGIN")
        var outcomes: [OverrideOutcome] = []
        do {
            for step in overrides.steps {
                do {
                    outcomes.append(try apply(step, on: connection))
                } catch let error as PostgresError {
                    throw error.adding(context: "override '\(step.title)' (\(step.location))")
                }
            }
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
        return outcomes
    }

    private static func apply(_ step: OverrideStep, on connection: PostgresConnection) throws -> OverrideOutcome {
        switch step {
        case let .sql(sql):
            let result = try connection.execute(sql.text)
            return OverrideOutcome(step: step.title, rowsAffected: result.affectedRows)
        case let .update(update):
            var parameters: [String?] = []
            let assignments = update.assignments.map { column, value -> String in
                let target = PostgresIdentifier.quoted(column)
                if case let .object(pairs) = value, pairs.count == 1, pairs[0].0 == "sql", case let .string(expression) = pairs[0].1 {
                    return "\(target) = \(expression)"
                }
                parameters.append(value.textValue)
                return "\(target) = $\(parameters.count)"
            }
            var sql = "UPDATE \(PostgresIdentifier.qualified(update.target)) SET \(assignments.joined(separator: ", "))"
            if let condition = update.whereClause { sql += " WHERE (\(condition))" }
            let result = try connection.execute(sql, parameters)
            return OverrideOutcome(step: step.title, rowsAffected: result.affectedRows)
        }
    }
}
