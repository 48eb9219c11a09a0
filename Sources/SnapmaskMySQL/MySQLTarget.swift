import CMySQL
import Foundation
import Snapmask

/// The staging server. The restore builds a shadow database (`<db>_snapmask_shadow`) next to the
/// staging database; the swap is ONE `RENAME TABLE` statement that moves every staging table out
/// (to `<db>_snapmask_old`, dropped afterwards) and every shadow table in: MySQL renames all of
/// them atomically, so staging's tables are either all old or all new. Views, routines and
/// triggers belong to a database and cannot be renamed across databases: they are recreated in
/// staging right after the rename (triggers are absent for those milliseconds).
///
/// Administrative statements run on a connection without a default database that also holds
/// `GET_LOCK('snapmask:<db>')`, which keeps a second restore of the same target out.
final class MySQLTarget: TargetSession, @unchecked Sendable {
    /// How long the swap waits for sessions still using staging's tables before giving up.
    static let swapLockWaitSeconds = 30
    /// Session settings of connections that load and change the shadow copy. Strict, so a value
    /// that does not fit is an error; zero dates allowed (they came from the source).
    static let loadSQLMode = "STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

    private let mutex = NSLock()
    let url: ConnectionString
    let database: String
    let shadowName: String
    let oldName: String
    let lockName: String
    private let admin: MySQLConnection
    private var verifier: MySQLConnection?
    private var locked = false
    private var shadowExists = false
    private var renamed = false
    private var objects: MySQLSchemaObjects?
    private var sourceDatabase = ""
    private var changes = MySQLCopyChanges()
    private var parallelism = 2

    init(url: ConnectionString) throws {
        guard let database = url.database else {
            throw MySQLError("the target URL \(url) names no database; end it with /DATABASE")
        }
        self.url = url
        self.database = database
        shadowName = MySQLIdentifier.derived(database, suffix: "_snapmask_shadow")
        oldName = MySQLIdentifier.derived(database, suffix: "_snapmask_old")
        lockName = Self.lockName(for: database)
        admin = try MySQLConnection(url: url, database: .none, purpose: Self.purpose(database))
    }

    static func purpose(_ database: String) -> String {
        "snapmask restore \(database) from \(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }

    /// User lock names are at most 64 characters (MySQL 5.7+).
    static func lockName(for database: String) -> String {
        let name = "snapmask:" + database
        if name.count <= 64 { return name }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in database.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(name.prefix(47)) + ":" + String(hash, radix: 16)
    }

    private func withAdmin<T>(_ body: (MySQLConnection) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(admin)
    }

    /// The connection that holds the lock (shown to a second run that is refused).
    var adminConnectionID: UInt { admin.connectionID }

    /// Which server this is and the staging database's name.
    func serverIdentity() throws -> String {
        try withAdmin { try MySQLServerIdentity.of($0, database: database) }
    }

    // MARK: Lock

    func lock() throws {
        try withAdmin { admin in
            guard try admin.scalar("SELECT GET_LOCK(\(admin.literal(lockName)), 0)") == "1" else {
                throw TargetLocked(target: "\(database) on \(url.primaryHost.host)", holder: Self.holder(of: lockName, admin))
            }
            locked = true
        }
    }

    /// Who holds a user lock: the connection (IS_USED_LOCK), its account, client and idle time from
    /// the process list, and snapmask's own description where performance_schema keeps it.
    static func holder(of lockName: String, _ admin: MySQLConnection) -> String {
        guard let id = (try? admin.scalar("SELECT IS_USED_LOCK(\(admin.literal(lockName)))")) ?? nil else {
            return "another session (it ended meanwhile: try again)"
        }
        var text = "connection \(id)"
        if let row = (try? admin.query("""
            SELECT USER, HOST, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = \(id)
            """))?.first {
            text += " (user \(row[0] ?? "?"), client \(row[1] ?? "?"), \(row[2] ?? "?") for \(row[3] ?? "?") s)"
        } else {
            text += " (not in the process list this account can see: the PROCESS privilege shows it)"
        }
        if let purpose = (try? admin.scalar("""
            SELECT ATTR_VALUE FROM performance_schema.session_connect_attrs
             WHERE PROCESSLIST_ID = \(id) AND ATTR_NAME = 'snapmask_purpose'
            """)) ?? nil {
            text = "\(purpose), " + text
        }
        return text
    }

    func unlock() {
        _ = try? withAdmin { admin in
            if locked { try admin.query("SELECT RELEASE_LOCK(\(admin.literal(lockName)))") }
            locked = false
        }
    }

    // MARK: Shadow

    /// A connection whose default database is the shadow copy, set up for loading.
    func shadowConnection(_ purpose: String, localInfile: Bool = false) throws -> MySQLConnection {
        let connection = try MySQLConnection(url: url, database: .named(shadowName), localInfile: localInfile,
                                             purpose: "snapmask \(purpose) \(database)")
        try connection.query("SET SESSION foreign_key_checks = 0, SESSION sql_mode = '\(Self.loadSQLMode)'")
        return connection
    }

    func prepareShadow(source: any SourceSession, plan: RestorePlan) throws {
        guard let source = source as? MySQLSource else { throw MySQLError("a MySQL target needs a MySQL source") }
        try prepareShadow(source.objects, sourceDatabase: source.database, changes: MySQLCopyChanges(plan: plan),
                          parallelism: source.snapshotConnections)
    }

    func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws {
        let (objects, sourceDatabase) = try MySQLSchemaObjects.from(definition)
        try prepareShadow(objects, sourceDatabase: sourceDatabase, changes: MySQLCopyChanges(definition: definition, plan: plan),
                          parallelism: ProcessInfo.processInfo.activeProcessorCount)
    }

    private func prepareShadow(_ objects: MySQLSchemaObjects, sourceDatabase: String, changes: MySQLCopyChanges,
                               parallelism: Int) throws {
        self.objects = objects
        self.sourceDatabase = sourceDatabase
        self.changes = changes
        self.parallelism = max(1, parallelism)
        try withAdmin { admin in
            if try admin.scalar("SELECT @@local_infile") != "1" {
                throw MySQLError("the target server does not accept LOAD DATA LOCAL INFILE, which snapmask loads with; "
                                     + "enable it with SET PERSIST local_infile = 1 (MySQL) or local_infile=1 in the server's "
                                     + "configuration (MariaDB)")
            }
            // A shadow or old copy left by a run that died is ours to remove: we hold the lock.
            try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(shadowName))")
            try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(oldName))")
            try admin.query("CREATE DATABASE \(MySQLIdentifier.quoted(shadowName)) CHARACTER SET "
                                + "\(objects.characterSet) COLLATE \(objects.collation)")
            shadowExists = true
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

    /// A LOAD DATA writer on a connection of its own. unique_checks stays on: with it off, MariaDB
    /// takes its bulk-insert path for empty tables, which measured 1.6x slower here (server CPU
    /// 41 s instead of 23 s for the 3,000,000 rows of Benchmarks/mysql).
    func makeWriter(for plan: TablePlan) throws -> any BatchWriter {
        let connection = try shadowConnection("load \(plan.name)", localInfile: true)
        guard let table = objects?.table(named: plan.name) else { throw MySQLError("the shadow copy was not prepared") }
        // MariaDB evaluates CHECK constraints (json_valid for its JSON type among them) for every
        // row; where the copied rows satisfy them by construction, that work is skipped.
        let masked = changes.maskedColumns[plan.name] ?? [:]
        if connection.isMariaDB, !table.checks.isEmpty, table.checks.allSatisfy({ $0.holds(maskedColumns: masked) }) {
            try connection.query("SET SESSION check_constraint_checks = 0")
        }
        return try MySQLLoadWriter(connection: connection, plan: plan, maskedColumns: Set(masked.keys))
    }

    /// Secondary indexes (in parallel, one table per connection, largest first), then foreign keys
    /// (checked against the rows where they could have broken); then routines, views and triggers,
    /// so overrides run with them as they would in staging; then fresh statistics.
    func finishSchema(source: any SourceSession, plan: RestorePlan) throws {
        try finishSchema(plan: plan)
    }

    func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws {
        try finishSchema(plan: plan)
    }

    private func finishSchema(plan: RestorePlan) throws {
        guard let objects else { throw MySQLError("the shadow copy was not prepared") }
        let order = Dictionary(plan.tables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        let indexed = objects.tables.filter { !$0.deferredIndexes.isEmpty }
            .sorted { order[$0.name, default: .max] < order[$1.name, default: .max] }
        try runInParallel(indexed.map { table in
            let sql = "ALTER TABLE \(MySQLIdentifier.quoted(table.name)) "
                + table.deferredIndexes.map { "ADD \($0)" }.joined(separator: ", ")
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
        try createStoredObjects(objects, connection, replacing: false)
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
    private func createStoredObjects(_ objects: MySQLSchemaObjects, _ connection: MySQLConnection, replacing: Bool) throws {
        for routine in objects.routines {
            try create(routine, connection)
        }
        var pending = objects.views
        while !pending.isEmpty {
            var failed: [(MySQLStoredObject, MySQLError)] = []
            for view in pending {
                var replaced = view
                if replacing { replaced.sql = MySQLSQLText.orReplace(view.sql) }
                do {
                    try create(replaced, connection)
                } catch let error as MySQLError {
                    failed.append((view, error))
                }
            }
            if failed.count == pending.count { throw failed[0].1 }
            pending = failed.map(\.0)
        }
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
        let url = self.url, shadow = shadowName, database = self.database
        try BlockingThreads.forEach(items, threads: parallelism, name: "schema", makeContext: {
            let connection = try MySQLConnection(url: url, database: .named(shadow), purpose: "snapmask schema \(database)")
            try connection.query("SET SESSION foreign_key_checks = 0, SESSION sql_mode = '\(Self.loadSQLMode)'")
            return connection
        }) { item, connection in
            do {
                try item.work(connection)
            } catch let error as MySQLError {
                throw error.adding(context: "\(item.what) in the shadow copy")
            }
        }
    }

    private func verifierConnection() throws -> MySQLConnection {
        mutex.lock()
        defer { mutex.unlock() }
        if let verifier { return verifier }
        let connection = try shadowConnection("verify")
        verifier = connection
        return connection
    }

    func countRows(_ plan: TablePlan) throws -> Int {
        Int(try verifierConnection().scalar("SELECT COUNT(*) FROM \(MySQLIdentifier.quoted(plan.name))") ?? "0") ?? 0
    }

    func applyOverrides(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        try MySQLOverrides.apply(overrides, on: try verifierConnection(), database: database)
    }

    /// How a key column is selected and compared as text (binary keys as hex).
    static func keyExpression(_ column: String, plan: TablePlan) -> String {
        guard let shape = plan.columns.first(where: { $0.name == column }),
              MySQLValueTransport.of(shape, masked: false) == .hex else { return MySQLIdentifier.quoted(column) }
        return "HEX(\(MySQLIdentifier.quoted(column)))"
    }

    func values(_ plan: TablePlan, keyColumns: [String], column: String, keys: [[String?]]) throws -> [[String?]: String?] {
        guard !keys.isEmpty, !keyColumns.isEmpty else { return [:] }
        let connection = try verifierConnection()
        let keyExpressions = keyColumns.map { Self.keyExpression($0, plan: plan) }
        let wanted = keys.map { key in
            "(" + key.map { $0.map { connection.literal($0) } ?? "NULL" }.joined(separator: ", ") + ")"
        }
        let sql = "SELECT \((keyExpressions + [MySQLIdentifier.quoted(column)]).joined(separator: ", ")) "
            + "FROM \(MySQLIdentifier.quoted(plan.name)) "
            + "WHERE (\(keyExpressions.joined(separator: ", "))) IN (\(wanted.joined(separator: ", ")))"
        var result: [[String?]: String?] = [:]
        for row in try connection.query(sql) {
            result[Array(row.dropLast())] = row.last!
        }
        return result
    }

    func occurrences(_ plan: TablePlan, column: String, of values: [String]) throws -> Set<String> {
        guard !values.isEmpty else { return [] }
        let connection = try verifierConnection()
        let text = "CONVERT(\(MySQLIdentifier.quoted(column)) USING utf8mb4)"
        let sql = "SELECT DISTINCT \(text) FROM \(MySQLIdentifier.quoted(plan.name)) "
            + "WHERE \(text) COLLATE utf8mb4_bin IN (\(values.map { connection.literal($0) }.joined(separator: ", ")))"
        return Set(try connection.query(sql).compactMap { $0[0] })
    }

    // MARK: Swap

    /// Staging's tables out and the shadow's in with one RENAME TABLE; then routines, views and
    /// triggers recreated in staging, and the old tables dropped.
    func swap() throws {
        guard let objects else { throw MySQLError("the shadow copy was not prepared") }
        mutex.lock()
        verifier = nil
        mutex.unlock()
        try withAdmin { admin in
            let staging = MySQLIdentifier.quoted(database), shadow = MySQLIdentifier.quoted(shadowName)
            let old = MySQLIdentifier.quoted(oldName)
            try admin.query("SET SESSION lock_wait_timeout = \(Self.swapLockWaitSeconds), SESSION foreign_key_checks = 0")
            let exists = try admin.scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "
                                              + admin.literal(database)) != "0"
            if !exists {
                try admin.query("CREATE DATABASE \(staging) CHARACTER SET \(objects.characterSet) COLLATE \(objects.collation)")
            }
            let db = admin.literal(database)
            let oldTables = try admin.query("""
                SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(db) AND TABLE_TYPE <> 'VIEW'
                """).compactMap { $0[0] }
            let oldViews = try admin.query("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = \(db)")
                .compactMap { $0[0] }
            let oldTriggers = try admin.query("""
                SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = \(db)
                 ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER
                """).compactMap { $0[0] }
            let oldRoutines = try admin.query("""
                SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES
                 WHERE ROUTINE_SCHEMA = \(db) AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
                """).map { ($0[0] ?? "PROCEDURE", $0[1] ?? "") }
            // What is dropped before the rename is put back if the rename fails.
            var restore: [(sql: String, sqlMode: String?)] = []
            let newTables = objects.tables.map(\.name)
            for name in oldViews where newTables.contains(name) {
                if let sql = try admin.query("SHOW CREATE VIEW \(MySQLIdentifier.qualified(database, name))").first?[1] {
                    restore.append((MySQLSQLText.withoutDefiner(sql), nil))
                }
            }
            for name in oldTriggers {
                if let row = try admin.query("SHOW CREATE TRIGGER \(MySQLIdentifier.qualified(database, name))").first,
                   row.count > 2, let sql = row[2] {
                    restore.append((MySQLSQLText.withoutDefiner(sql), row[1]))
                }
            }
            try admin.query("CREATE DATABASE \(old)")
            // Triggers cannot leave their database with RENAME TABLE: the shadow's were for the overrides.
            for trigger in objects.triggers {
                try admin.query("DROP TRIGGER IF EXISTS \(shadow).\(MySQLIdentifier.quoted(trigger.name))")
            }
            endSessions(admin)
            try admin.query("USE \(staging)")
            do {
                for name in oldTriggers { try admin.query("DROP TRIGGER IF EXISTS \(MySQLIdentifier.quoted(name))") }
                for name in oldViews where newTables.contains(name) {
                    try admin.query("DROP VIEW IF EXISTS \(MySQLIdentifier.quoted(name))")
                }
                let moves = oldTables.map { "\(staging).\(MySQLIdentifier.quoted($0)) TO \(old).\(MySQLIdentifier.quoted($0))" }
                    + newTables.map { "\(shadow).\(MySQLIdentifier.quoted($0)) TO \(staging).\(MySQLIdentifier.quoted($0))" }
                try admin.query("RENAME TABLE " + moves.joined(separator: ", "))
            } catch let error as MySQLError {
                for (sql, sqlMode) in restore {
                    _ = try? admin.query("SET SESSION sql_mode = \(admin.literal(sqlMode ?? ""))")
                    _ = try? admin.query(sql)
                }
                _ = try? admin.query("USE information_schema")
                _ = try? admin.query("DROP DATABASE IF EXISTS \(old)")
                throw error.adding(context: "moving the shadow copy's tables into \(database) (nothing was changed)")
            }
            renamed = true
            // From here on staging holds the new rows; every definition below was already created
            // once in the shadow copy, so these statements are known to work.
            do {
                for (kind, name) in oldRoutines {
                    try admin.query("DROP \(kind) IF EXISTS \(MySQLIdentifier.quoted(name))")
                }
                try createStoredObjects(objects, admin, replacing: true)
                for name in oldViews where !objects.views.contains(where: { $0.name == name }) && !newTables.contains(name) {
                    try admin.query("DROP VIEW IF EXISTS \(MySQLIdentifier.quoted(name))")
                }
            } catch let error as MySQLError {
                let context = "staging \(database) already holds the new tables, but recreating its views, routines and "
                    + "triggers failed; the previous tables are kept in \(oldName)"
                throw SwapInterrupted("\(error.adding(context: context))")
            }
            try admin.query("USE information_schema")
            try admin.query("DROP DATABASE \(old)")
            try admin.query("DROP DATABASE \(shadow)")
            shadowExists = false
        }
    }

    /// Ends the other sessions whose default database is staging (as the PostgreSQL swap does), so
    /// they do not hold the rename up. Sessions this account may not end, and sessions that reach
    /// staging without USE, are waited for up to lock_wait_timeout.
    private func endSessions(_ admin: MySQLConnection) {
        let ids = (try? admin.query("""
            SELECT ID FROM information_schema.PROCESSLIST WHERE DB = \(admin.literal(database)) AND ID <> CONNECTION_ID()
            """))?.compactMap { $0[0] } ?? []
        for id in ids { _ = try? admin.query("KILL CONNECTION \(id)") }
    }

    func discardShadow() {
        mutex.lock()
        verifier = nil
        mutex.unlock()
        _ = try? withAdmin { admin in
            if shadowExists {
                _ = try? admin.query("USE information_schema")
                try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(shadowName))")
                if !renamed { try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(oldName))") }
                shadowExists = false
            }
        }
    }

    func close() {
        mutex.lock()
        verifier = nil
        mutex.unlock()
    }
}

/// What identifies a server, to tell whether two URLs reach the same one: @@server_uuid where the
/// server has it (MySQL), else host name, port and data directory (MariaDB).
enum MySQLServerIdentity {
    static func of(_ connection: MySQLConnection, database: String) throws -> String {
        let variables = Dictionary(try connection.query("""
            SHOW GLOBAL VARIABLES WHERE Variable_name IN ('server_uuid', 'hostname', 'port', 'datadir', 'lower_case_table_names')
            """).map { ($0[0] ?? "", $0[1] ?? "") }, uniquingKeysWith: { first, _ in first })
        let server = variables["server_uuid"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "\(variables["hostname"] ?? "?"):\(variables["port"] ?? "?"):\(variables["datadir"] ?? "?")"
        let name = (variables["lower_case_table_names"] ?? "0") == "0" ? database : database.lowercased()
        return server + "/" + name
    }
}
