import Snapmask

/// Opens the coordinator's snapshot so that the catalog `check` compares the rules with is the
/// one the copy reads by. PostgreSQL takes a REPEATABLE READ snapshot at the first statement that
/// needs one (`LOCK TABLE` does not), while COPY and pg_dump resolve names in the *current*
/// catalog. So, as pg_dump does, every table is locked (ACCESS SHARE) before anything is read:
/// list the tables → `BEGIN … READ ONLY` → lock them all → export the snapshot → read the catalog
/// in it. A concurrent `ALTER TABLE … RENAME COLUMN` has then either committed before the
/// snapshot (and the rules are checked against it) or waits until the source is closed; it can
/// never swap `notes` and `ssn` between check and copy. A table created, dropped or renamed
/// between listing and locking makes the locked list differ from the catalog: that is retried.
enum PostgresSnapshotOpening {
    static let attempts = 3

    struct Opened {
        var snapshot: String
        var schema: SchemaShape
        /// Table name → oid, as locked.
        var locked: [String: String]
    }

    static func open(_ coordinator: PostgresConnection, lockTimeoutMilliseconds: Int) throws -> Opened {
        var changes = ""
        for _ in 1...attempts {
            let listed = try coordinator.readOnlyTransaction { try PostgresCatalog.tables($0) }
            try coordinator.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                try coordinator.execute("SET LOCAL lock_timeout = \(lockTimeoutMilliseconds)", [])
                if !listed.isEmpty {
                    let names = listed.map { "ONLY " + PostgresIdentifier.quoted($0.schema) + "." + PostgresIdentifier.quoted($0.name) }
                    try coordinator.execute("LOCK TABLE \(names.joined(separator: ", ")) IN ACCESS SHARE MODE", [])
                }
                let snapshot = try coordinator.scalar("SELECT pg_export_snapshot()") ?? ""
                let schema = try PostgresCatalog.schema(coordinator)
                let locked = Set(listed.map(\.qualified)), read = Set(schema.tables.map(\.name))
                if locked == read {
                    return Opened(snapshot: snapshot, schema: schema,
                                  locked: Dictionary(listed.map { ($0.qualified, $0.oid) }, uniquingKeysWith: { first, _ in first }))
                }
                changes = describe(created: read.subtracting(locked), gone: locked.subtracting(read))
                try coordinator.execute("ROLLBACK")
            } catch let error as PostgresError where error.sqlState == "42P01" {
                // Dropped or renamed between listing and locking.
                _ = try? coordinator.execute("ROLLBACK")
                changes = "a table was dropped or renamed"
            } catch let error as PostgresError where error.sqlState == "55P03" {
                _ = try? coordinator.execute("ROLLBACK")
                throw lockTimeout(coordinator, tables: listed, milliseconds: lockTimeoutMilliseconds)
            } catch {
                _ = try? coordinator.execute("ROLLBACK")
                throw error
            }
        }
        throw PostgresError("the source's tables changed while snapmask was locking them, \(attempts) times in a row "
                                + "(last: \(changes)); run again when no migration is running")
    }

    private static func describe(created: Set<String>, gone: Set<String>) -> String {
        var parts: [String] = []
        if !created.isEmpty { parts.append("new: " + created.sorted().joined(separator: ", ")) }
        if !gone.isEmpty { parts.append("gone: " + gone.sorted().joined(separator: ", ")) }
        return parts.joined(separator: "; ")
    }

    /// Names the tables someone holds (or waits for) an exclusive lock on, and who.
    private static func lockTimeout(_ connection: PostgresConnection, tables: [PostgresCatalog.ListedTable],
                                    milliseconds: Int) -> PostgresError {
        let holders = (try? connection.readOnlyTransaction { try blockers($0, oids: tables.map(\.oid)) }) ?? []
        let time = milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
        let waited = "could not lock the source's tables within \(time) to read them consistently"
        guard !holders.isEmpty else {
            return PostgresError("\(waited): a session held or waited for an exclusive lock on one of them (ALTER TABLE, "
                                     + "DROP, TRUNCATE, VACUUM FULL, REINDEX, CLUSTER or LOCK) and has ended since; run again")
        }
        return PostgresError("\(waited): " + holders.joined(separator: "; ")
                                 + ". Run again when that has finished, or end that session")
    }

    /// Sessions holding or queued for an ACCESS EXCLUSIVE lock on these relations, described
    /// for a DBA (the only lock mode that conflicts with ACCESS SHARE). Runs in whatever
    /// transaction the connection is in.
    static func blockers(_ connection: PostgresConnection, oids: [String]) throws -> [String] {
        try connection.execute("""
            SELECT n.nspname || '.' || c.relname, l.pid::text, COALESCE(NULLIF(a.application_name, ''), 'no application name'),
                   COALESCE(a.usename::text, '?'), l.granted::text
              FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.relation = ANY($1::oid[])
               AND l.pid <> pg_backend_pid()
             ORDER BY 1, l.granted DESC, l.pid
            """, ["{" + oids.joined(separator: ",") + "}"]).rows.map { row in
            "\(row[0]!): session \(row[1]!) (\(row[2]!), user \(row[3]!)) "
                + (row[4] == "true" ? "holds" : "waits for") + " an exclusive lock on it"
        }
    }
}
