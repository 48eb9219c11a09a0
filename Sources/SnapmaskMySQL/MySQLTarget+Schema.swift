import Foundation
import Snapmask

/// The shadow copy's schema: its database and tables before the data, then secondary indexes,
/// foreign keys (checked where the copy could have broken them), routines, views and triggers.
extension MySQLTarget {
    func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws {
        let (objects, sourceDatabase) = try MySQLSchemaObjects.from(definition)
        self.objects = objects
        self.sourceDatabase = sourceDatabase
        changes = MySQLCopyChanges(definition: definition, plan: plan)
        parallelism = max(1, ProcessInfo.processInfo.activeProcessorCount)
        try withAdmin { admin in
            if try admin.scalar("SELECT @@GLOBAL.local_infile") != "1" {
                throw MySQLError("local_infile is OFF on the staging server; " + MySQLLocalInfile.advice
                                     + ". Nothing was changed")
            }
            let missing = try Self.missingCollations(objects, on: admin)
            if !missing.isEmpty {
                throw MySQLError("the source's tables use collations the staging server (\(admin.serverVersion)) does not "
                                     + "have: " + missing.map { "\($0.collation) (\($0.users.joined(separator: ", ")))" }
                                        .joined(separator: "; ")
                                     + (missing.contains { $0.collation.contains("_0900_") }
                                        ? ". The utf8mb4_0900_* collations are MySQL 8's (Aurora MySQL 3's): restore into a "
                                            + "MySQL 8 or Aurora MySQL 3 staging server" : "")
                                     + ". Nothing was changed")
            }
            if let name = objects.tables.map(\.name).first(where: { $0.hasPrefix(MySQLSwapBatch.temporaryPrefix) }) {
                throw MySQLError("the source has a table named \(name); names starting with \(MySQLSwapBatch.temporaryPrefix) "
                                     + "are the swap's temporary names, so snapmask cannot restore this database")
            }
            // A shadow or old copy left by a run that died is ours to remove (we hold the lock),
            // unless staging is not whole: then the old copy may be the only one of some tables.
            let found = try observeTables(on: admin)
            guard found.temporaryTables.isEmpty else {
                throw MySQLError(halfSwapped(found) + "; nothing was changed by this run")
            }
            try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(shadowName))")
            try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(oldName))")
            try admin.query("CREATE DATABASE \(MySQLIdentifier.quoted(shadowName)) CHARACTER SET "
                                + "\(objects.characterSet) COLLATE \(objects.collation)")
            shadowExists = true
            shadowCreated = true
        }
        let connection = try shadowConnection("schema")
        for table in objects.tables {
            do {
                try connection.query(table.createSQL)
            } catch let error as MySQLError {
                throw error.adding(context: "creating table \(table.name) in the shadow copy")
            }
        }
    }

    /// The collations the schema names (the database's default and the tables') that `connection`'s
    /// server does not know, each with the tables (or `the database`) using it: a MySQL 8 source's
    /// utf8mb4_0900_ai_ci on a MariaDB staging server, say. Found before anything is created.
    static func missingCollations(_ objects: MySQLSchemaObjects, on connection: MySQLConnection) throws
        -> [(collation: String, users: [String])] {
        var users: [String: [String]] = [objects.collation.lowercased(): ["the database"]]
        for table in objects.tables {
            for collation in MySQLCreateTableText.collations(table.createSQL) { users[collation, default: []].append(table.name) }
        }
        let names = users.keys.sorted()
        let known = Set(try connection.query("SELECT LOWER(COLLATION_NAME) FROM information_schema.COLLATIONS WHERE "
                                                 + "COLLATION_NAME IN (\(names.map(connection.literal).joined(separator: ", ")))")
            .compactMap { $0[0] })
        return names.filter { !known.contains($0) }.map { ($0, users[$0] ?? []) }
    }

    /// With `innodb_autoinc_lock_mode` 0 or 1 (MariaDB's default, and MySQL 5.7's), a LOAD DATA
    /// into a table with an AUTO_INCREMENT column holds the table's AUTO-INC lock to its end, even
    /// with every key given: a second load into the table waits for the first. Nil when the
    /// server cannot say (the slices are then read as asked).
    func serializedLoads(_ table: TablePlan) -> String? {
        let found = try? withAdmin { connection -> String? in
            guard let mode = try connection.scalar("SELECT @@innodb_autoinc_lock_mode").flatMap({ Int($0) }), mode < 2,
                  let column = try connection.scalar(
                      "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \(connection.literal(shadowName)) "
                          + "AND TABLE_NAME = \(connection.literal(table.name)) AND EXTRA LIKE '%auto_increment%'")
            else { return nil }
            return "its AUTO_INCREMENT column \(column) makes each LOAD DATA hold the table's AUTO-INC lock to its end "
                + "(innodb_autoinc_lock_mode = \(mode); 2, MySQL 8's default, lets loads run side by side)"
        }
        return found ?? nil
    }

    /// A loaded table's secondary indexes are built at once, in the background (`MySQLIndexBuilds`).
    func tableLoaded(_ table: String) throws {
        guard let definition = objects?.table(named: table), !definition.deferredIndexes.isEmpty else { return }
        let sql = Self.addIndexes(definition)
        try indexBuilds.start(table, slots: parallelism) { [self] in
            do {
                try shadowConnection("index \(table)").query(sql)
            } catch let error as MySQLError {
                throw error.adding(context: "adding the indexes of \(table) in the shadow copy")
            }
        }
    }

    /// LOCK=SHARED: nothing writes a loaded shadow table, so the server need not log concurrent
    /// changes for the build to apply afterwards (which LOCK=NONE, the default, does).
    static func addIndexes(_ table: MySQLTableDefinition) -> String {
        "ALTER TABLE \(MySQLIdentifier.quoted(table.name)) " + table.deferredIndexes.map { "ADD \($0)" }.joined(separator: ", ")
            + ", LOCK=SHARED"
    }

    /// Secondary indexes (those not built yet as their table finished loading: in parallel, one
    /// table per connection, largest first), then foreign keys (checked against the rows where
    /// they could have broken); then routines, views and triggers, so overrides run with them as
    /// they would in staging; then fresh statistics.
    func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws {
        guard let objects else { throw MySQLError("the shadow copy was not prepared") }
        let built = try indexBuilds.finish()
        let order = Dictionary(plan.tables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let indexed = objects.tables.filter { !$0.deferredIndexes.isEmpty && !built.contains($0.name) }
            .sorted { order[$0.name, default: .max] < order[$1.name, default: .max] }
        try runInParallel(indexed.map { table in
            let sql = Self.addIndexes(table)
            return ("adding the indexes of \(table.name)", { connection in try connection.query(sql) })
        })
        let connection = try verifierConnection()
        var checks: [(String, @Sendable (MySQLConnection) throws -> Void)] = []
        for table in objects.tables where !table.foreignKeys.isEmpty {
            do {
                try connection.query("ALTER TABLE \(MySQLIdentifier.quoted(table.name)) "
                                         + table.foreignKeys.map { "ADD \($0.clause)" }.joined(separator: ", "))
            } catch let error as MySQLError {
                throw error.adding(context: "adding the foreign keys of \(table.name) in the shadow copy")
            }
            for key in table.foreignKeys where changes.mayBreak(key, of: table.name, plan: plan, database: sourceDatabase) {
                let name = table.name
                checks.append(("checking foreign key \(key.name) of \(name)", { try Self.checkForeignKey(key, of: name, $0) }))
            }
        }
        try runInParallel(checks)
        try createStoredObjects(objects, connection)
        try connection.query("ANALYZE TABLE " + objects.tables.map { MySQLIdentifier.quoted($0.name) }.joined(separator: ", "))
    }

    /// Every non-NULL reference must find its parent row. (An anti-join over the child's key index:
    /// the parent is probed in key order, which a small buffer pool handles well.)
    static func checkForeignKey(_ key: MySQLForeignKey, of table: String, _ connection: MySQLConnection) throws {
        let child = key.columns.map { "c.\(MySQLIdentifier.quoted($0))" }
        let parent = key.referencedColumns.map { "p.\(MySQLIdentifier.quoted($0))" }
        let sql = "SELECT COUNT(*) FROM \(MySQLIdentifier.quoted(table)) c LEFT JOIN \(MySQLIdentifier.quoted(key.referencedTable)) p ON "
            + zip(parent, child).map { "\($0) = \($1)" }.joined(separator: " AND ")
            + " WHERE \(parent[0]) IS NULL AND " + child.map { "\($0) IS NOT NULL" }.joined(separator: " AND ")
        let orphans = Int(try connection.scalar(sql) ?? "0") ?? 0
        if orphans > 0 {
            throw MySQLError("foreign key \(key.name) of \(table): \(orphans) rows refer to \(key.referencedTable) rows that "
                                 + "were not copied; copy those parent rows (check the where: or data: skip of "
                                 + "\(key.referencedTable)) or narrow \(table)'s where: to match")
        }
    }

    /// Routines, then views (in an order that works: a view on a view waits for it), then triggers.
    private func createStoredObjects(_ objects: MySQLSchemaObjects, _ connection: MySQLConnection) throws {
        for routine in objects.routines {
            try create(routine, connection)
        }
        var pending = objects.views
        var created: [MySQLStoredObject] = []
        while !pending.isEmpty {
            var failed: [(MySQLStoredObject, MySQLError)] = []
            for view in pending {
                do {
                    try create(view, connection)
                    created.append(view)
                } catch let error as MySQLError {
                    failed.append((view, error))
                }
            }
            if failed.count == pending.count { throw failed[0].1 }
            pending = failed.map(\.0)
        }
        viewOrder = created
        for trigger in objects.triggers {
            try create(trigger, connection)
        }
    }

    private func create(_ object: MySQLStoredObject, _ connection: MySQLConnection) throws {
        do {
            try connection.query("SET SESSION sql_mode = \(connection.literal(object.sqlMode ?? Self.loadSQLMode))")
            defer { _ = try? connection.query("SET SESSION sql_mode = '\(Self.loadSQLMode)'") }
            try connection.query(object.sql)
        } catch let error as MySQLError {
            throw error.adding(context: "creating \(object.kind.rawValue.lowercased()) \(object.name)")
        }
    }

    /// Runs work on up to `parallelism` shadow connections at once.
    private func runInParallel(_ items: [(what: String, work: @Sendable (MySQLConnection) throws -> Void)]) throws {
        try BlockingThreads.forEach(items, threads: parallelism, name: "schema", makeContext: {
            try self.shadowConnection("schema")
        }) { item, connection in
            do {
                try item.work(connection)
            } catch let error as MySQLError {
                throw error.adding(context: "\(item.what) in the shadow copy")
            }
        }
    }
}
