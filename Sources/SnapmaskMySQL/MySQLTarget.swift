import Foundation
import Snapmask

/// The staging server. The restore builds a shadow database (`<db>_snapmask_shadow`) next to the
/// staging database, complete with indexes, foreign keys, routines, views and triggers (so the
/// overrides run as they would in staging). The swap (MySQLSwapBatch) then replaces staging's
/// tables, triggers, views and routines in one batch the server runs to its end: staging holds
/// the old tables with the old triggers, or the new ones with the new triggers, whatever happens
/// to this process. The previous tables stay in `<db>_snapmask_old` until staging is complete.
///
/// Administrative statements run on a connection without a default database that also holds
/// `GET_LOCK('snapmask:<db>')`, which keeps a second restore of the same target out. The swap
/// batch runs on a connection of its own holding `GET_LOCK('snapmask:swap:<db>')` until the
/// server has finished it, so that whoever looks at staging afterwards (this run after a lost
/// connection, or the next run after a kill) first waits for the batch to end.
final class MySQLTarget: TargetSession, @unchecked Sendable {
    /// Session settings of connections that load and change the shadow copy. Strict, so a value
    /// that does not fit is an error; zero dates allowed (they came from the source).
    static let loadSQLMode = "STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
    /// How long the next run (or an inspection) waits for a swap batch still running on the server.
    static let swapSettleSeconds = 30

    private let mutex = NSLock()
    let url: ConnectionString
    let database: String
    let shadowName: String
    let oldName: String
    let lockName: String
    let swapLockName: String
    let tuning: MySQLSwapTuning
    private let admin: MySQLConnection
    private var verifier: MySQLConnection?
    private var locked = false
    private var shadowExists = false
    private var shadowCreated = false
    private var objects: MySQLSchemaObjects?
    /// Views in an order that creates them (a view on a view after it), as found in the shadow.
    private var viewOrder: [MySQLStoredObject] = []
    private var sourceDatabase = ""
    private var changes = MySQLCopyChanges()
    private var parallelism = 2
    /// Connections that run long statements (loads, index builds, checks): interrupt() stops them.
    private let busy = ConnectionIDs()
    /// What the swap did, as far as this process knows; and what the server showed after a failure.
    private var swapOutcome: SwapOutcome = .notStarted
    private var observation: MySQLSwapObservation?

    enum SwapOutcome {
        case notStarted
        /// Stopped before staging changed (the batch failed at its first step, or was put back).
        case unchanged
        /// The new tables and triggers are in staging; `problem`: what failed after that.
        case swapped(problem: String?)
        /// The batch failed half-way and could not be put back, or the connection was lost
        /// while the server ran it: only the server can tell.
        case unknown(String)
    }

    init(url: ConnectionString, tuning: MySQLSwapTuning = MySQLSwapTuning()) throws {
        guard let database = url.database else {
            throw MySQLError("the target URL \(url) names no database; end it with /DATABASE")
        }
        self.url = url
        self.database = database
        self.tuning = tuning
        shadowName = MySQLIdentifier.derived(database, suffix: "_snapmask_shadow")
        oldName = MySQLIdentifier.derived(database, suffix: "_snapmask_old")
        lockName = Self.lockName(for: database)
        swapLockName = Self.lockName(for: database, kind: "swap:")
        admin = try MySQLConnection(url: url, database: .none, purpose: Self.purpose(database))
    }

    static func purpose(_ database: String) -> String {
        "snapmask restore \(database) from \(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }

    /// User lock names are at most 64 characters (MySQL 5.7+).
    static func lockName(for database: String, kind: String = "") -> String {
        let name = "snapmask:" + kind + database
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
            // A run that died during its swap released the lock at once, but the server may still
            // be finishing that run's swap batch (milliseconds): wait for it before looking.
            guard try admin.scalar("SELECT GET_LOCK(\(admin.literal(swapLockName)), \(Self.swapSettleSeconds))") == "1" else {
                let holder = Self.holder(of: swapLockName, admin)
                _ = try? admin.query("SELECT RELEASE_LOCK(\(admin.literal(lockName)))")
                locked = false
                throw TargetLocked(target: "\(database) on \(url.primaryHost.host)",
                                   holder: "the swap of an earlier run is still running on the server after "
                                       + "\(Self.swapSettleSeconds) s: \(holder)")
            }
            try admin.query("SELECT RELEASE_LOCK(\(admin.literal(swapLockName)))")
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
        busy.insert(connection.connectionID)
        return connection
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
            if let name = objects.tables.map(\.name).first(where: { $0.hasPrefix(MySQLSwapBatch.temporaryPrefix) }) {
                throw MySQLError("the source has a table named \(name); names starting with \(MySQLSwapBatch.temporaryPrefix) "
                                     + "are the swap's temporary names, so snapmask cannot restore this database")
            }
            // A shadow or old copy left by a run that died is ours to remove (we hold the lock),
            // unless staging is not whole: then the old copy may be the only one of some tables.
            let found = try MySQLSwapObservation.observe(admin, database: database, shadow: shadowName, old: oldName)
            guard found.temporaryTables.isEmpty else {
                throw MySQLError(Self.halfSwapped(found, database: database, old: oldName, shadow: shadowName)
                                     + "; nothing was changed by this run")
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
        let url = self.url, shadow = shadowName, database = self.database, busy = self.busy
        try BlockingThreads.forEach(items, threads: parallelism, name: "schema", makeContext: {
            let connection = try MySQLConnection(url: url, database: .named(shadow), purpose: "snapmask schema \(database)")
            try connection.query("SET SESSION foreign_key_checks = 0, SESSION sql_mode = '\(Self.loadSQLMode)'")
            busy.insert(connection.connectionID)
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

    /// Replaces staging's tables, triggers, routines and views with the shadow's in one batch
    /// (MySQLSwapBatch explains the order). Before it, the shadow's triggers are read back and
    /// dropped (a table with triggers cannot leave its database); nothing in staging changes
    /// until the batch runs. The batch's first statement waits at most `lock_wait_timeout` for
    /// sessions using staging's tables; it is tried `attempts` times (fewer once a signal asked
    /// the run to stop), then the swap gives up, naming who held the tables, with staging as it was.
    func swap() throws {
        guard let objects else { throw MySQLError("the shadow copy was not prepared") }
        mutex.lock()
        verifier = nil
        mutex.unlock()
        let triggers = try withAdmin { admin -> [MySQLTrigger] in
            let exists = try admin.scalar("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = "
                                              + admin.literal(database)) != "0"
            if !exists {
                try admin.query("CREATE DATABASE \(MySQLIdentifier.quoted(database)) CHARACTER SET \(objects.characterSet) "
                                    + "COLLATE \(objects.collation)")
            }
            try admin.query("CREATE DATABASE IF NOT EXISTS \(MySQLIdentifier.quoted(oldName))")
            if let left = try MySQLStagingCatalog.tables(admin, database: oldName), !left.isEmpty {
                throw MySQLError("\(oldName) already holds tables (\(left.prefix(5).joined(separator: ", "))); it is where "
                                     + "the swap keeps staging's previous tables, so nothing was changed. Drop it once you "
                                     + "no longer need them, then run the restore again")
            }
            let triggers = try MySQLTrigger.read(admin, database: shadowName)
            for trigger in triggers {
                try admin.query("DROP TRIGGER \(MySQLIdentifier.qualified(shadowName, trigger.name))")
            }
            return triggers
        }
        let connection = try MySQLConnection(url: url, database: .named(database), purpose: "snapmask swap \(database)")
        try connection.query("SET SESSION lock_wait_timeout = \(tuning.lockWaitSeconds), SESSION foreign_key_checks = 0")
        guard try connection.scalar("SELECT GET_LOCK(\(connection.literal(swapLockName)), 0)") == "1" else {
            throw MySQLError("another session holds the swap lock of \(database) (\(swapLockName)); nothing was changed")
        }
        swapOutcome = .unchanged
        let ours = [adminConnectionID, connection.connectionID]
        for attempt in 1...max(1, tuning.attempts) {
            let batch = try withAdmin { admin -> MySQLSwapBatch in
                endSessions(admin, sparing: ours)
                let current = try MySQLStagingCatalog.read(admin, database: database)
                if current.tables.contains(where: { $0.hasPrefix(MySQLSwapBatch.temporaryPrefix) }) {
                    let found = try MySQLSwapObservation.observe(admin, database: database, shadow: shadowName, old: oldName)
                    throw MySQLError(Self.halfSwapped(found, database: database, old: oldName, shadow: shadowName))
                }
                return MySQLSwapBatch(database: database, shadow: shadowName, old: oldName, current: current,
                                      newTables: objects.tables.map(\.name), triggers: triggers, routines: objects.routines,
                                      views: viewOrder, loadSQLMode: Self.loadSQLMode, literal: admin.literal)
            }
            let outcome = connection.runBatch(batch.statements.map(\.sql))
            guard let error = outcome.error else {
                swapOutcome = .swapped(problem: nil)
                break
            }
            if outcome.connectionLost {
                swapOutcome = .unknown("the connection was lost while the server ran the swap (\(error))")
                throw error.adding(context: "swapping the shadow copy into \(database)")
            }
            switch batch.step(at: outcome.completed) {
            case .prelude, .aside:
                guard error.isLockTimeout else {
                    throw error.adding(context: "moving staging's tables aside (nothing was changed)")
                }
                let blockers = (try? withAdmin { MySQLBlockers.describe($0, database: database, excluding: ours) })
                    ?? "a session that could not be listed"
                let stopping = RunInterruption.shared.signal != nil
                if attempt < tuning.attempts && !stopping { continue }
                throw MySQLError("the swap waited \(attempt == 1 ? "" : "\(attempt) times ")\(tuning.lockWaitSeconds) s for "
                                     + "staging's tables, which are in use by \(blockers)"
                                     + (stopping ? "; it stopped waiting because the run was asked to stop" : "")
                                     + ". Nothing was changed: commit or end that session (KILL <connection>), then run "
                                     + "the restore again", context: "swapping the shadow copy into \(database)")
            case .objects:
                swapOutcome = .swapped(problem: "recreating its routines and views failed: \(error)")
                throw error.adding(context: "staging \(database) holds the new tables with their triggers, but recreating its "
                                       + "routines and views failed; the previous tables are kept in \(oldName)")
            case .dropOldTriggers, .move, .createTriggers, .name:
                // Half-way: the statements that ran are undone, in one batch as well.
                let undo = connection.runBatch(batch.undo(completed: outcome.completed))
                if let failed = undo.error {
                    swapOutcome = .unknown("the swap failed half-way (\(error)) and putting staging back failed too (\(failed))")
                    throw error.adding(context: "swapping the shadow copy into \(database) failed half-way, and putting "
                                           + "staging back failed too (\(failed))")
                }
                swapOutcome = .unchanged
                throw error.adding(context: "swapping the shadow copy into \(database) (staging was put back as it was)")
            }
        }
        _ = try? connection.query("SELECT RELEASE_LOCK(\(connection.literal(swapLockName)))")
        // Staging is whole and new: the previous tables and the empty shadow database can go
        // (what this fails to drop, the next run drops).
        _ = try? withAdmin { admin in
            try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(oldName))")
            try admin.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(shadowName))")
            shadowExists = false
        }
    }

    /// Ends the other sessions whose default database is staging (as the PostgreSQL swap does), so
    /// they do not hold the rename up. Sessions this account may not end, and sessions that reach
    /// staging without USE, are waited for up to lock_wait_timeout.
    private func endSessions(_ admin: MySQLConnection, sparing ours: [UInt]) {
        let ids = (try? admin.query("""
            SELECT ID FROM information_schema.PROCESSLIST
             WHERE DB = \(admin.literal(database)) AND ID NOT IN (\(ours.map(String.init).joined(separator: ", ")))
            """))?.compactMap { $0[0] } ?? []
        for id in ids { _ = try? admin.query("KILL CONNECTION \(id)") }
    }

    /// What a DBA finds after a swap the server could not finish, and how to get out of it.
    static func halfSwapped(_ found: MySQLSwapObservation, database: String, old: String, shadow: String) -> String {
        func list(_ names: [String]?) -> String {
            guard let names, !names.isEmpty else { return "none" }
            return names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", … (\(names.count) in all)" : "")
        }
        return "staging \(database) was left half-swapped (the server stopped in the middle of a swap): tables under "
            + "temporary names in staging: \(list(found.temporaryTables)) (\(MySQLSwapBatch.temporaryPrefix)old_* hold "
            + "previous data, \(MySQLSwapBatch.temporaryPrefix)new_* new data); previous tables in \(old): "
            + "\(list(found.oldTables)); new tables still in \(shadow): \(list(found.shadowTables)). Rename the tables "
            + "you want back into place (RENAME TABLE), or drop the temporary ones, then run the restore again"
    }

    /// A connection to look at the server after a failure: the admin connection if it still
    /// works, else a new one (the lost one may be why we are here). nil and why when the server
    /// cannot be reached.
    private func inspectionConnection() -> (MySQLConnection?, String?) {
        if (try? admin.query("SELECT 1")) != nil { return (admin, nil) }
        do {
            return (try MySQLConnection(url: url, database: .none, connectTimeout: 10, purpose: Self.purpose(database)), nil)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Waits until no swap batch runs on the server any more (one may go on after its client was
    /// killed or lost its connection). False when one still runs after the wait.
    private func settle(_ connection: MySQLConnection) -> Bool {
        let name = connection.literal(swapLockName)
        guard (try? connection.scalar("SELECT GET_LOCK(\(name), \(Self.swapSettleSeconds))")) == "1" else { return false }
        _ = try? connection.query("SELECT RELEASE_LOCK(\(name))")
        return true
    }

    /// Removes the shadow database, and the old copy once staging is whole again (all old, or all
    /// new with its triggers). After a half-finished swap everything is left as it is, for a DBA.
    func discardShadow() {
        mutex.lock()
        verifier = nil
        defer { mutex.unlock() }
        guard shadowExists else { return }
        let (found, _) = inspectionConnection()
        guard let connection = found, settle(connection),
              let seen = try? MySQLSwapObservation.observe(connection, database: database, shadow: shadowName, old: oldName)
        else { return }
        observation = seen
        guard seen.temporaryTables.isEmpty else { return }
        if case .swapped(problem: .some) = swapOutcome {
            // New tables, but views or routines are missing: keep the previous tables for now.
        } else {
            _ = try? connection.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(oldName))")
        }
        if (try? connection.query("DROP DATABASE IF EXISTS \(MySQLIdentifier.quoted(shadowName))")) != nil {
            shadowExists = false
        }
    }

    /// What staging holds now, from what this run did and what the server shows: the shadow
    /// database still holding the run's tables means the swap never happened; the shadow empty
    /// (or gone) with the tables in staging means it did; tables under temporary names mean the
    /// server stopped inside the swap.
    func inspectStaging(swapStarted: Bool) -> StagingState {
        mutex.lock()
        defer { mutex.unlock() }
        let tables = objects?.tables.map(\.name) ?? []
        let (found, unreachable) = inspectionConnection()
        let settled = found.map(settle) ?? false
        let now = found.flatMap { try? MySQLSwapObservation.observe($0, database: database, shadow: shadowName, old: oldName) }
        let shadow: StagingState.Shadow
        if let now {
            shadow = now.shadowTables == nil ? (shadowCreated ? .removed : .none) : .left
        } else {
            shadow = shadowCreated ? .unknown : .none
        }
        guard swapStarted else { return StagingState(data: .previous, shadow: shadow) }
        switch swapOutcome {
        case .notStarted, .unchanged:
            return StagingState(data: .previous, shadow: shadow)
        case let .swapped(problem):
            return StagingState(data: .new, shadow: shadow, detail: problem.map { "but \($0); the previous tables are in \(oldName)" })
        case let .unknown(why):
            // What discardShadow saw before it removed anything, else what is there now.
            guard let seen = observation ?? now else {
                return StagingState(data: .unknown, shadow: shadow,
                                    detail: "\(why); the server cannot be reached now: \(unreachable ?? "no answer")")
            }
            if !seen.temporaryTables.isEmpty {
                return StagingState(data: .partlyReplaced, shadow: shadow,
                                    detail: Self.halfSwapped(seen, database: database, old: oldName, shadow: shadowName))
            }
            if !settled {
                return StagingState(data: .unknown, shadow: shadow,
                                    detail: "\(why); the server was still running the swap \(Self.swapSettleSeconds) s later")
            }
            if let inShadow = seen.shadowTables, !tables.isEmpty, Set(tables).isSubset(of: inShadow) {
                return StagingState(data: .previous, shadow: shadow, detail: "\(why); the server did not run the swap")
            }
            if Set(tables).isSubset(of: seen.stagingTables) {
                return StagingState(data: .new, shadow: shadow, detail: "\(why); the server finished the swap")
            }
            return StagingState(data: .unknown, shadow: shadow,
                                detail: "\(why); staging holds \(seen.stagingTables.count) tables, the shadow "
                                    + "\(seen.shadowTables?.count ?? 0), \(oldName) \(seen.oldTables?.count ?? 0)")
        }
    }

    /// Stops the statements running on the loading and schema connections (LOAD DATA, index
    /// builds, foreign key checks) with KILL QUERY from a connection of its own, on a thread of its
    /// own: returns at once. The administrative connection, and the lock it holds, are spared.
    func interrupt() {
        let ids = busy.all
        guard !ids.isEmpty else { return }
        let url = self.url, database = self.database
        let thread = Thread {
            guard let connection = try? MySQLConnection(url: url, database: .none, connectTimeout: 5,
                                                        purpose: "snapmask interrupt \(database)") else { return }
            for id in ids { _ = try? connection.query("KILL QUERY \(id)") }
        }
        thread.name = "interrupt-\(database)"
        thread.start()
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

/// Connection ids, shared between the threads that open connections and interrupt().
final class ConnectionIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<UInt> = []

    func insert(_ id: UInt) {
        lock.lock()
        ids.insert(id)
        lock.unlock()
    }

    var all: [UInt] {
        lock.lock()
        defer { lock.unlock() }
        return ids.sorted()
    }
}
