/// What an engine does with each kind of override step; the runner does the rest (order,
/// transaction, outcomes, messages), the same way on every engine.
public protocol OverrideExecutor {
    /// Starts the transaction that makes the steps all-or-nothing (a no-op where there is none).
    func begin() throws
    func commit() throws
    /// Must not throw: it runs after another error.
    func rollback()
    /// A `set:` step; returns the rows (documents) it matched.
    func update(_ update: OverrideUpdate) throws -> Int
    /// An `sql:` file; returns the rows it changed.
    func runSQL(_ sql: OverrideSQL) throws -> Int
}

/// Applies override steps in order through an engine's executor, inside its transaction.
public enum OverrideRunner {
    public static func apply(_ overrides: OverrideList, with executor: some OverrideExecutor) throws -> [OverrideOutcome] {
        guard !overrides.steps.isEmpty else { return [] }
        try executor.begin()
        do {
            var outcomes: [OverrideOutcome] = []
            for step in overrides.steps {
                do {
                    let rows: Int
                    switch step {
                    case let .sql(sql): rows = try executor.runSQL(sql)
                    case let .update(update): rows = try executor.update(update)
                    }
                    outcomes.append(OverrideOutcome(step: step.title, rowsAffected: rows))
                } catch let error as any ContextualError {
                    throw error.adding(context: "override '\(step.title)' (\(step.location))")
                }
            }
            try executor.commit()
            return outcomes
        } catch {
            executor.rollback()
            throw error
        }
    }

    /// The expression of a `{ sql: "now()" }` value (nil for a literal).
    public static func sqlExpression(_ value: ConfigValue) -> String? {
        if case let .object(pairs) = value, pairs.count == 1, pairs[0].0 == "sql", case let .string(expression) = pairs[0].1 {
            return expression
        }
        return nil
    }
}
