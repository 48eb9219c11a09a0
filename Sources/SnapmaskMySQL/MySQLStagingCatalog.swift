/// A trigger as information_schema describes it, rebuilt as a CREATE TRIGGER on any table.
struct MySQLTrigger: Sendable {
    var name: String
    var timing: String
    var event: String
    var table: String
    var body: String
    var sqlMode: String?

    /// Triggers of a database in the order they fire (so recreating them in this order keeps it).
    static func read(_ connection: MySQLConnection, database: String) throws -> [MySQLTrigger] {
        try connection.query("""
            SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_STATEMENT, SQL_MODE
              FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \(connection.literal(database))
             ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER
            """).map { row in
            let trigger = MySQLTrigger(name: row[0] ?? "", timing: (row[1] ?? "").uppercased(), event: (row[2] ?? "").uppercased(),
                                       table: row[3] ?? "", body: row[4] ?? "", sqlMode: row[5])
            // Timing and event go into the statement as words: only these may.
            guard ["BEFORE", "AFTER"].contains(trigger.timing), ["INSERT", "UPDATE", "DELETE"].contains(trigger.event),
                  !trigger.body.isEmpty else {
                throw MySQLError("trigger \(trigger.name) of \(database) is described as \(trigger.timing) \(trigger.event) "
                                     + "with an empty or unknown body; snapmask cannot recreate it")
            }
            return trigger
        }
    }

    func createSQL(on table: String) -> String {
        "CREATE TRIGGER \(MySQLIdentifier.quoted(name)) \(timing) \(event) ON \(MySQLIdentifier.quoted(table)) "
            + "FOR EACH ROW \(body)"
    }
}

/// What a database holds that the swap moves or replaces.
struct MySQLStagingCatalog {
    var tables: [String] = []
    var views: [String] = []
    var triggers: [MySQLTrigger] = []
    var routines: [(kind: String, name: String)] = []

    static func read(_ connection: MySQLConnection, database: String) throws -> MySQLStagingCatalog {
        let db = connection.literal(database)
        var catalog = MySQLStagingCatalog()
        for row in try connection.query("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(db)") {
            guard let name = row[0] else { continue }
            if row[1] == "VIEW" { catalog.views.append(name) } else { catalog.tables.append(name) }
        }
        catalog.triggers = try MySQLTrigger.read(connection, database: database)
        catalog.routines = try connection.query("""
            SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES
             WHERE ROUTINE_SCHEMA = \(db) AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
            """).map { (($0[0] ?? "") == "FUNCTION" ? "FUNCTION" : "PROCEDURE", $0[1] ?? "") }
        return catalog
    }

    /// Base tables of a database, or nil when it does not exist.
    static func tables(_ connection: MySQLConnection, database: String) throws -> [String]? {
        let db = connection.literal(database)
        guard try connection.scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = \(db)") != "0" else {
            return nil
        }
        return try connection.query("""
            SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(db) AND TABLE_TYPE <> 'VIEW'
            """).compactMap { $0[0] }.sorted()
    }
}

/// What the server shows of a swap after a failure: where the run's tables are.
struct MySQLSwapObservation: Sendable {
    /// Staging's base tables, and those of them under a temporary swap name.
    var stagingTables: [String]
    var temporaryTables: [String] { stagingTables.filter { $0.hasPrefix(MySQLSwapBatch.temporaryPrefix) } }
    /// Tables of the shadow and old databases (nil: the database does not exist).
    var shadowTables: [String]?
    var oldTables: [String]?

    static func observe(_ connection: MySQLConnection, database: String, shadow: String, old: String) throws -> MySQLSwapObservation {
        MySQLSwapObservation(stagingTables: try MySQLStagingCatalog.tables(connection, database: database) ?? [],
                             shadowTables: try MySQLStagingCatalog.tables(connection, database: shadow),
                             oldTables: try MySQLStagingCatalog.tables(connection, database: old))
    }
}
