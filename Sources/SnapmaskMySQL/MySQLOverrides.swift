import Snapmask

/// Applies override steps on one connection (whose default database is the one to change),
/// inside one transaction: all steps or none. Declarative values are bound as parameters of a
/// prepared statement; `{ sql: expr }` values and `where:` conditions are SQL; `sql:` files run
/// statement by statement. (DDL in an SQL file commits implicitly in MySQL: keep files to DML.)
struct MySQLOverrides: OverrideExecutor {
    let connection: MySQLConnection
    let database: String

    static func apply(_ overrides: OverrideList, on connection: MySQLConnection, database: String) throws -> [OverrideOutcome] {
        try OverrideRunner.apply(overrides, with: MySQLOverrides(connection: connection, database: database))
    }

    func begin() throws { try connection.query("START TRANSACTION") }
    func commit() throws { try connection.query("COMMIT") }
    func rollback() { _ = try? connection.query("ROLLBACK") }

    func runSQL(_ sql: OverrideSQL) throws -> Int {
        try connection.executeScript(sql.text)
    }

    func update(_ update: OverrideUpdate) throws -> Int {
        var parameters: [String?] = []
        let assignments = update.assignments.map { column, value -> String in
            let target = MySQLIdentifier.quoted(column)
            if let expression = OverrideRunner.sqlExpression(value) { return "\(target) = \(expression)" }
            parameters.append(Self.text(of: value))
            return "\(target) = ?"
        }
        var sql = "UPDATE \(try Self.table(update.target, database: database)) SET \(assignments.joined(separator: ", "))"
        if let condition = update.whereClause { sql += " WHERE (\(condition))" }
        return try connection.execute(sql, parameters)
    }

    /// MySQL has no boolean type: true and false are 1 and 0 (TINYINT(1)).
    static func text(of value: ConfigValue) -> String? {
        if case let .bool(flag) = value { return flag ? "1" : "0" }
        return value.textValue
    }

    /// Tables in MySQL rules and overrides are unqualified; the database is the target URL's.
    /// `staging_db.users` is accepted for the staging database itself and means its copy.
    static func table(_ name: String, database: String) throws -> String {
        if name.hasPrefix(database + "."), !name.dropFirst(database.count + 1).isEmpty {
            return MySQLIdentifier.quoted(String(name.dropFirst(database.count + 1)))
        }
        if name.contains(".") {
            throw MySQLError("the override table '\(name)' names another database; MySQL override tables are unqualified "
                                 + "(users): the database is the target URL's")
        }
        return MySQLIdentifier.quoted(name)
    }
}
