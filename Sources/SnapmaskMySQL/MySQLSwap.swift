import Snapmask

/// How long the swap may wait for sessions that still use staging's tables.
struct MySQLSwapTuning: Sendable {
    /// The rename waits at most this long for a metadata lock (`lock_wait_timeout`)...
    var lockWaitSeconds = 10
    /// ...this many times, ending the sessions on staging before each attempt.
    var attempts = 3
}

extension MySQLTarget {
    /// What the swap did, as far as this process knows.
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

    /// Replaces staging's tables, triggers, routines and views with the shadow's in one batch
    /// (MySQLSwapBatch explains the order). Before it, the shadow's triggers are read back and
    /// dropped (a table with triggers cannot leave its database); nothing in staging changes
    /// until the batch runs. The batch's first statement waits at most `lock_wait_timeout` for
    /// sessions using staging's tables; it is tried `attempts` times (fewer once a signal asked
    /// the run to stop), then the swap gives up, naming who held the tables, with staging as it was.
    func swap() throws {
        guard let objects else { throw MySQLError("the shadow copy was not prepared") }
        verifier.drop()
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
                    let found = try observeTables(on: admin)
                    throw MySQLError(halfSwapped(found))
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
    func halfSwapped(_ found: MySQLSwapObservation) -> String {
        func list(_ names: [String]?) -> String {
            guard let names, !names.isEmpty else { return "none" }
            return names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", … (\(names.count) in all)" : "")
        }
        return "staging \(database) was left half-swapped (the server stopped in the middle of a swap): tables under "
            + "temporary names in staging: \(list(found.temporaryTables)) (\(MySQLSwapBatch.temporaryPrefix)old_* hold "
            + "previous data, \(MySQLSwapBatch.temporaryPrefix)new_* new data); previous tables in \(oldName): "
            + "\(list(found.oldTables)); new tables still in \(shadowName): \(list(found.shadowTables)). Rename the tables "
            + "you want back into place (RENAME TABLE), or drop the temporary ones, then run the restore again"
    }
}

/// The swap as one batch of statements that the server runs to its end once it has it.
///
/// Constraints of MySQL and MariaDB that shape it:
/// - RENAME TABLE moves a table with triggers only within its database (error 1435, "Trigger in
///   wrong schema"); views cannot leave their database at all.
/// - Trigger names are unique per database: the new triggers cannot exist next to the old ones.
/// - Foreign key names are unique per database (InnoDB): the new tables cannot come into staging
///   while the old ones are still there.
/// - RENAME TABLE is refused under LOCK TABLES (MariaDB), and ALTER TABLE ... RENAME there
///   leaves the renamed table unlocked: LOCK TABLES cannot hide the steps from other sessions.
/// - DDL is not transactional across statements; but the server runs a multi-statement batch to
///   its end even when the client is gone (killed, or the connection lost); only a wait for a
///   metadata lock is abandoned when the client disconnects, and then that statement fails and
///   the rest of the batch is skipped.
///
/// So the order is:
/// 1. one RENAME TABLE moves staging's tables and views to temporary names inside staging (they
///    keep their triggers). This is the only statement that waits for other sessions (at most
///    `lock_wait_timeout`); if it fails or the client dies while it waits, nothing has changed.
/// 2. the old triggers are dropped (their tables are out of sight now);
/// 3. one RENAME TABLE moves the old tables to `<db>_snapmask_old` and the shadow's tables into
///    staging under temporary names (no session knows those names);
/// 4. the new triggers are created on them;
/// 5. one RENAME TABLE gives them their names: they appear with their triggers;
/// 6. routines and views are recreated, and the old views dropped.
/// Steps 2–5 take milliseconds, during which staging's table names do not exist (a query gets
/// "doesn't exist"; no session can reach a table without its triggers, nor wait on one and hold
/// the batch up). From the sessions' point of view staging goes from all old, with the old
/// triggers, to all new, with the new triggers; a kill or a lost connection after the batch was
/// sent cannot stop between the two. Every statement of steps 4 and 6 already ran once, one by
/// one, in the shadow database. All of it is valid on MySQL 8.0 as well.
struct MySQLSwapBatch {
    /// Temporary names start with this; a table of that name in staging is left by a swap that
    /// the server could not finish (it crashed, or a statement failed with the client gone).
    static let temporaryPrefix = "snapmask_swap_"

    struct Statement {
        var sql: String
        /// What undoes it (nil: nothing to undo), for a batch that failed half-way.
        var undo: [String]
        var step: Step
    }

    enum Step: Int, Comparable {
        case prelude, aside, dropOldTriggers, move, createTriggers, name, objects
        static func < (lhs: Step, rhs: Step) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    var statements: [Statement] = []

    /// `old`: staging's tables and views now; `newTables`: the shadow's tables, `triggers` on them.
    init(database: String, shadow: String, old oldDatabase: String, current: MySQLStagingCatalog,
         newTables: [String], triggers: [MySQLTrigger], routines: [MySQLStoredObject], views: [MySQLStoredObject],
         loadSQLMode: String, literal: (String) -> String) {
        let staging = MySQLIdentifier.quoted(database), shadowName = MySQLIdentifier.quoted(shadow)
        let oldName = MySQLIdentifier.quoted(oldDatabase)
        func q(_ name: String) -> String { MySQLIdentifier.quoted(name) }
        func rename(_ pairs: [(String, String)]) -> String {
            "RENAME TABLE " + pairs.map { "\($0.0) TO \($0.1)" }.joined(separator: ", ")
        }
        func add(_ step: Step, _ sql: String, undo: [String] = []) {
            statements.append(Statement(sql: sql, undo: undo, step: step))
        }
        func setMode(_ mode: String?) -> String { "SET SESSION sql_mode = \(literal(mode ?? loadSQLMode))" }

        add(.prelude, setMode(nil))
        let asideTables = current.tables.enumerated().map { ($1, Self.temporaryPrefix + "old_\($0)") }
        let asideViews = current.views.enumerated().map { ($1, Self.temporaryPrefix + "view_\($0)") }
        let aside = (asideTables + asideViews).map { ("\(staging).\(q($0.0))", "\(staging).\(q($0.1))") }
        if !aside.isEmpty {
            add(.aside, rename(aside), undo: [rename(aside.reversed().map { ($0.1, $0.0) })])
        }
        let asideName = Dictionary(asideTables, uniquingKeysWith: { first, _ in first })
        for trigger in current.triggers {
            let table = asideName[trigger.table] ?? trigger.table
            add(.dropOldTriggers, "DROP TRIGGER \(staging).\(q(trigger.name))",
                undo: [setMode(trigger.sqlMode), trigger.createSQL(on: table), setMode(nil)])
        }
        let incoming = newTables.enumerated().map { ($1, Self.temporaryPrefix + "new_\($0)") }
        let moves = asideTables.map { ("\(staging).\(q($0.1))", "\(oldName).\(q($0.0))") }
            + incoming.map { ("\(shadowName).\(q($0.0))", "\(staging).\(q($0.1))") }
        if !moves.isEmpty {
            add(.move, rename(moves), undo: [rename(moves.reversed().map { ($0.1, $0.0) })])
        }
        let incomingName = Dictionary(incoming, uniquingKeysWith: { first, _ in first })
        for trigger in triggers {
            add(.createTriggers, setMode(trigger.sqlMode))
            add(.createTriggers, trigger.createSQL(on: incomingName[trigger.table] ?? trigger.table),
                undo: ["DROP TRIGGER \(staging).\(q(trigger.name))"])
        }
        if !incoming.isEmpty {
            let naming = incoming.map { ("\(staging).\(q($0.1))", "\(staging).\(q($0.0))") }
            add(.name, rename(naming), undo: [rename(naming.map { ($0.1, $0.0) })])
        }
        for (kind, name) in current.routines {
            add(.objects, "DROP \(kind) IF EXISTS \(staging).\(q(name))")
        }
        for object in routines + views {
            add(.objects, setMode(object.sqlMode))
            add(.objects, object.sql)
        }
        add(.objects, setMode(nil))
        if !asideViews.isEmpty {
            add(.objects, "DROP VIEW " + asideViews.map { "\(staging).\(q($0.1))" }.joined(separator: ", "))
        }
    }

    /// Statements that put back what the first `completed` statements did (they all ended without
    /// error, and each is atomic), newest first.
    func undo(completed: Int) -> [String] {
        statements.prefix(completed).reversed().flatMap(\.undo)
    }

    /// The step of statement `index` (`.objects` past the end).
    func step(at index: Int) -> Step {
        index < statements.count ? statements[index].step : .objects
    }
}
