import Foundation
import Snapmask

/// Hands a connection to the one thread that uses it.
struct PostgresSessionBox: @unchecked Sendable {
    let connection: PostgresConnection

    init(_ connection: PostgresConnection) {
        self.connection = connection
    }
}

/// The staging server. The restore builds a shadow database (`<db>_snapmask_shadow`) next to
/// the staging database, and the swap renames both in one transaction: staging is either the
/// old database or the new one, never a half-loaded one. Administrative statements run on a
/// connection to the server's `postgres` database, which also holds the advisory lock that
/// keeps a second restore of the same target out.
final class PostgresTarget: TargetSession, @unchecked Sendable {
    // `admin` is used under `mutex`; the verifier is shared lazily; writers have connections of their own.
    private let mutex = NSLock()
    let url: ConnectionString
    let database: String
    let shadowName: String
    let oldName: String
    private let admin: PostgresConnection
    private let verifier = Lazy<PostgresConnection>()
    private let lockKey: Int64
    private var locked = false
    private var shadowExists = false
    /// The databases' identities, to tell afterwards which one the staging name points at.
    private var shadowOID: String?
    private var stagingOID: String?
    /// Populated in the source, rebuilt in the shadow after the overrides (see `applyOverrides`).
    private var materializedViews: [[String]] = []

    init(url: ConnectionString) throws {
        guard let database = url.database else {
            throw PostgresError("the target URL \(url) names no database; end it with /DATABASE")
        }
        self.url = url
        self.database = database
        shadowName = Self.derivedName(database, suffix: "_snapmask_shadow")
        oldName = Self.derivedName(database, suffix: "_snapmask_old")
        lockKey = Self.lockKey(for: database)
        let adminURL = try Self.url(url, database: "postgres")
        admin = try PostgresConnection(url: adminURL, applicationName: Self.applicationName(database))
    }

    static func applicationName(_ database: String) -> String {
        "snapmask restore \(database) from \(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Identifiers are at most 63 bytes: the database name is cut so the suffix always fits.
    static func derivedName(_ database: String, suffix: String) -> String {
        String(database.utf8.prefix(63 - suffix.utf8.count)).map { $0 + suffix } ?? database + suffix
    }

    /// A stable 64-bit key per target database (FNV-1a), for pg_try_advisory_lock.
    static func lockKey(for database: String) -> Int64 {
        Int64(bitPattern: Fingerprint.fnv1a64("snapmask:\(database)"))
    }

    static func url(_ url: ConnectionString, database: String) throws -> ConnectionString {
        var raw = url.raw
        let authorityStart = raw.range(of: "://")!.upperBound
        let at = raw[authorityStart...].lastIndex(of: "@") ?? authorityStart
        let pathStart = raw[at...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? raw.endIndex
        let queryStart = raw[pathStart...].firstIndex(of: "?") ?? raw.endIndex
        raw.replaceSubrange(pathStart..<queryStart, with: "/" + database)
        return try ConnectionString(raw)
    }

    private func withAdmin<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(admin)
    }

    /// Which server this is, and the staging database's name.
    func serverIdentity() throws -> ServerIdentity {
        try withAdmin { try PostgresIdentity.of($0, database: database) }
    }

    // MARK: Lock

    func lock() throws {
        try withAdmin { admin in
            guard try admin.scalar("SELECT pg_try_advisory_lock($1::bigint)", [String(lockKey)]) == "t" else {
                let holder = try admin.execute("""
                    SELECT a.application_name, a.usename, COALESCE(host(a.client_addr), 'local'),
                           to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
                      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                     WHERE l.locktype = 'advisory' AND l.granted
                       AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
                    """, [String(lockKey)]).rows.first
                let who = holder.map { "\($0[0] ?? "?") (user \($0[1] ?? "?"), client \($0[2] ?? "?"), since \($0[3] ?? "?"))" }
                    ?? "another session"
                throw TargetLocked(target: "\(database) on \(url.primaryHost.host)", holder: who)
            }
            locked = true
        }
    }

    func unlock() {
        _ = try? withAdmin { admin in
            if locked { try admin.execute("SELECT pg_advisory_unlock($1::bigint)", [String(lockKey)]) }
            locked = false
        }
    }

    // MARK: Shadow



    /// The shadow database, empty: creating one takes about 0.2 s whatever the data.
    func createShadowContainer() throws {
        // A shadow left by a run that died is ours to remove: we hold the lock.
        try withAdmin { admin in
            try admin.execute("DROP DATABASE IF EXISTS \(PostgresIdentifier.quoted(shadowName)) WITH (FORCE)")
            try admin.execute("CREATE DATABASE \(PostgresIdentifier.quoted(shadowName)) TEMPLATE template0 ENCODING 'UTF8'")
            shadowOID = try admin.scalar("SELECT oid::text FROM pg_database WHERE datname = $1", [shadowName])
            shadowExists = true
        }
    }

    func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws {
        let schema = try PostgresSchemaPayload.from(definition)
        mutex.lock()
        let created = shadowExists
        mutex.unlock()
        if !created { try createShadowContainer() }
        let connection = try shadowConnection("schema")
        do {
            try connection.execute(schema.preData)
        } catch let error as PostgresError {
            throw error.adding(context: "creating tables, types and functions in the shadow copy")
        }
    }

    func shadowConnection(_ purpose: String) throws -> PostgresConnection {
        try PostgresConnection(url: try Self.url(url, database: shadowName), applicationName: "snapmask \(purpose) \(database)")
    }

    func makeWriter(for plan: TablePlan) throws -> any BatchWriter {
        try PostgresCopyWriter(connection: try shadowConnection("load \(plan.name)"), plan: plan)
    }

    /// Post-data as `pg_restore -j` runs it: indexes and key constraints in parallel, then
    /// foreign keys (validated against the rows) in parallel, then triggers and the rest in dump
    /// order; then sequence values and statistics.
    func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws {
        let schema = try PostgresSchemaPayload.from(definition)
        let script = PostgresDumpScript(schema.postData)
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        // One set of sessions for every step below: on a small database, opening a session per
        // step and thread (TLS, IAM) would cost more than the steps.
        let sessions: [PostgresSessionBox]
        do {
            sessions = try BlockingThreads.make(threads, name: "post-data-connect") { [self] in
                let connection = try shadowConnection("schema")
                try connection.execute(script.preamble)
                try connection.execute("SET maintenance_work_mem = '256MB'")
                return PostgresSessionBox(connection)
            }
            try BlockingThreads.forEach(script.indexes.map(\.sql), contexts: sessions, name: "post-data") { sql, box in
                try box.connection.execute(sql)
            }
            try BlockingThreads.forEach(script.foreignKeys.map(\.sql), contexts: sessions, name: "post-data") { sql, box in
                try Self.retryingDeadlocks { try box.connection.execute(sql) }
            }
            let connection = sessions[0].connection
            for entry in script.others { try connection.execute(entry.sql) }
            for (name, value) in schema.sequences.sorted(by: { $0.key < $1.key }) {
                try connection.execute("SELECT setval($1::regclass, $2::bigint, true)", [name, value])
            }
        } catch let error as PostgresError {
            throw error.adding(context: "creating indexes, constraints, foreign keys and triggers in the shadow copy")
        }
        mutex.lock()
        materializedViews = schema.materializedViews.filter { $0.count == 2 }
        mutex.unlock()
        let tables = plan.schema.tables.map { PostgresIdentifier.qualified($0.name) }
        try BlockingThreads.forEach(tables, contexts: sessions, name: "analyze") { table, box in
            try box.connection.execute("ANALYZE \(table)")
        }
    }

    /// Two foreign keys added at once that lock the same two tables in opposite order (a cycle
    /// such as Pagila's store ↔ staff) deadlock, and PostgreSQL ends one of them; that statement
    /// changed nothing (it ran on its own), so it is run again once the other has its locks.
    static func retryingDeadlocks(attempts: Int = 5, _ statement: () throws -> Void) throws {
        for attempt in 1... {
            do {
                return try statement()
            } catch let error as PostgresError where error.sqlState == "40P01" && attempt < attempts {
                continue
            }
        }
    }

    private func verifierConnection() throws -> PostgresConnection {
        try verifier.get { try shadowConnection("verify") }
    }

    func countRows(_ plan: TablePlan) throws -> Int {
        Int(try verifierConnection().scalar("SELECT count(*) FROM ONLY \(PostgresIdentifier.qualified(plan.name))") ?? "0") ?? 0
    }

    /// Applies the overrides to the shadow, then rebuilds its materialized views from the shadow's
    /// own rows: after masking, indexes and overrides (a view over webhook URLs must show the
    /// overridden ones), before the leak check.
    func applyOverrides(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        let connection = try verifierConnection()
        let outcomes = try PostgresOverrides.apply(overrides, on: connection)
        mutex.lock()
        let views = materializedViews
        mutex.unlock()
        try PostgresMaterializedViews.refresh(views, on: connection)
        return outcomes
    }

    func values(_ plan: TablePlan, keyColumns: [String], column: String, keys: [[String?]]) throws -> [[String?]: String?] {
        guard !keys.isEmpty else { return [:] }
        // One text[] parameter per key column, unnested side by side and cast to the column's
        // own type, so the lookup uses the primary key's index.
        let arrays = keyColumns.indices.map { index in PostgresArrayCodec().literal(of: keys.map { $0[index] }) }
        let unnest = keyColumns.indices.map { "$\($0 + 1)::text[]" }.joined(separator: ", ")
        let names = keyColumns.indices.map { "k\($0)" }
        let join = keyColumns.enumerated().map { index, name in
            "t.\(PostgresIdentifier.quoted(name)) = wanted.k\(index)::\(typeName(plan, name))"
        }.joined(separator: " AND ")
        let selected = keyColumns.map { "t.\(PostgresIdentifier.quoted($0))::text" } + ["t.\(PostgresIdentifier.quoted(column))::text"]
        let sql = "SELECT \(selected.joined(separator: ", ")) FROM ONLY \(PostgresIdentifier.qualified(plan.name)) t "
            + "JOIN unnest(\(unnest)) AS wanted(\(names.joined(separator: ", "))) ON \(join)"
        var result: [[String?]: String?] = [:]
        for row in try verifierConnection().execute(sql, arrays).rows {
            result[Array(row.dropLast())] = row.last!
        }
        return result
    }

    func occurrences(_ plan: TablePlan, column: String, of values: [String]) throws -> Set<String> {
        guard !values.isEmpty else { return [] }
        let connection = try verifierConnection()
        let target = PostgresIdentifier.quoted(column), table = PostgresIdentifier.qualified(plan.name)
        let wanted = [PostgresArrayCodec().literal(of: values)]
        let typeName = typeName(plan, column)
        // Compared in the column's type, so an index on the column (a unique email) is used; a
        // type without an equality operator (json, xml, point) or an array is compared as text.
        if !typeName.hasSuffix("]") {
            do {
                let sql = "SELECT DISTINCT \(target)::text FROM ONLY \(table) WHERE \(target) = ANY($1::\(typeName)[])"
                return Set(try connection.execute(sql, wanted).rows.compactMap { $0[0] })
            } catch let error as PostgresError where error.sqlState == "42883" {}
        }
        let sql = "SELECT DISTINCT \(target)::text FROM ONLY \(table) WHERE \(target)::text = ANY($1::text[])"
        return Set(try connection.execute(sql, wanted).rows.compactMap { $0[0] })
    }

    func elementOccurrences(_ plan: TablePlan, column: String, of elements: [String]) throws -> Set<String> {
        guard !elements.isEmpty else { return [] }
        let sql = "SELECT DISTINCT element::text FROM ONLY \(PostgresIdentifier.qualified(plan.name)) t "
            + "CROSS JOIN LATERAL unnest(t.\(PostgresIdentifier.quoted(column))) AS element WHERE element::text = ANY($1::text[])"
        return Set(try verifierConnection().execute(sql, [PostgresArrayCodec().literal(of: elements)]).rows.compactMap { $0[0] })
    }

    private func typeName(_ plan: TablePlan, _ column: String) -> String {
        plan.table.column(named: column)?.typeName ?? "text"
    }

    func applyOverridesToStaging(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        let connection = try PostgresConnection(url: url, applicationName: "snapmask overrides")
        return try PostgresOverrides.apply(overrides, on: connection)
    }

    // MARK: Swap

    /// Renames staging away and the shadow in, in one transaction that is the swap's only
    /// committed change: a kill, a signal or a lost connection at any moment rolls it back on the
    /// server and leaves staging as it was and reachable (no `ALLOW_CONNECTIONS false` window).
    /// The rename takes the database's lock, which holds new sessions at their start until the
    /// commit; the sessions already on staging are ended meanwhile from another connection. A
    /// session holding a lock on the database makes the attempt give up after `lockTimeout`; after
    /// `swapAttempts` such attempts the swap gives up naming it, staging unchanged.
    func swap() throws {
        verifier.drop()
        try withAdmin { admin in
            try admin.execute("DROP DATABASE IF EXISTS \(PostgresIdentifier.quoted(oldName)) WITH (FORCE)")
            stagingOID = try admin.scalar("SELECT oid::text FROM pg_database WHERE datname = $1", [database])
            guard stagingOID != nil else {
                try admin.execute("ALTER DATABASE \(PostgresIdentifier.quoted(shadowName)) RENAME TO \(PostgresIdentifier.quoted(database))")
                shadowExists = false
                return
            }
            var attempt = 1
            while true {
                do {
                    try renameWhileEndingSessions(admin)
                    break
                } catch let error as PostgresError where ["55P03", "55006"].contains(error.sqlState ?? "") {
                    guard attempt < Self.swapAttempts else { throw try blocked(admin, after: error) }
                    attempt += 1
                    Thread.sleep(forTimeInterval: Double(attempt))
                }
            }
            shadowExists = false
            try admin.execute("DROP DATABASE \(PostgresIdentifier.quoted(oldName)) WITH (FORCE)")
        }
    }

    static let swapAttempts = 3
    static let lockTimeout = "5s"

    private func renameWhileEndingSessions(_ admin: PostgresConnection) throws {
        let staging = PostgresIdentifier.quoted(database)
        let ender = SessionEnder(url: try Self.url(url, database: "postgres"), database: database)
        ender.start()
        defer { ender.stop() }
        do {
            try admin.execute("BEGIN")
            try admin.execute("SET LOCAL lock_timeout = '\(Self.lockTimeout)'")
            try admin.execute("ALTER DATABASE \(staging) RENAME TO \(PostgresIdentifier.quoted(oldName))")
            try admin.execute("ALTER DATABASE \(PostgresIdentifier.quoted(shadowName)) RENAME TO \(staging)")
            try admin.execute("COMMIT")
        } catch {
            _ = try? admin.execute("ROLLBACK")
            throw error
        }
    }

    /// The swap gave up: which sessions stood in its way (never what they run: it may hold data).
    private func blocked(_ admin: PostgresConnection, after error: PostgresError) throws -> PostgresError {
        let holders = (try? admin.execute("""
            SELECT DISTINCT a.pid::text, a.usename, COALESCE(NULLIF(a.application_name, ''), '-'),
                   COALESCE(host(a.client_addr), 'local')
              FROM pg_stat_activity a
              LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'object'
                                   AND l.classid = 'pg_database'::regclass AND l.objid = $1::oid
             WHERE (l.pid IS NOT NULL OR a.datname = $2) AND a.pid <> pg_backend_pid()
            """, [stagingOID ?? "0", database]).rows) ?? []
        let names = holders.map { "pid \($0[0] ?? "?") (user \($0[1] ?? "?"), application \($0[2] ?? "?"), client \($0[3] ?? "?"))" }
        return PostgresError(
            "the swap gave up after \(Self.swapAttempts) attempts of \(Self.lockTimeout): "
                + (names.isEmpty ? "another session holds a lock on database \(database)"
                                 : "held up by \(names.joined(separator: ", "))")
                + "; staging is unchanged and reachable. End those sessions (pg_terminate_backend) or wait for them, "
                + "then run again",
            sqlState: error.sqlState)
    }

    /// What staging is now, by the databases' identities: the name staging points at the shadow's
    /// database (new) or at the one it had before the swap (previous).
    func inspectStaging(swapStarted: Bool) -> StagingState {
        do {
            let admin = try PostgresConnection(url: try Self.url(url, database: "postgres"), applicationName: "snapmask inspect")
            let names = Dictionary(try admin.execute("SELECT datname, oid::text FROM pg_database WHERE datname = ANY($1::text[])",
                                                     [PostgresArrayCodec().literal(of: [database, shadowName])]).rows
                                    .map { ($0[0]!, $0[1]!) }, uniquingKeysWith: { first, _ in first })
            let shadow: StagingState.Shadow = names[shadowName] == nil ? .removed : .left
            guard swapStarted else { return StagingState(data: .previous, shadow: shadow) }
            if let current = names[database], current == shadowOID {
                return StagingState(data: .new, shadow: shadow)
            }
            if names[database] == nil && stagingOID != nil {
                return StagingState(data: .unknown, shadow: shadow, detail: "no database is named \(database) on the server")
            }
            return StagingState(data: .previous, shadow: shadow)
        } catch {
            return StagingState(data: swapStarted ? .unknown : .previous, shadow: .unknown,
                                detail: "the staging server could not be asked: \(error)")
        }
    }

    /// Cancels every statement running in the shadow database (loads, index builds, ANALYZE:
    /// all this run's), from a connection of its own, without waiting.
    func interrupt() {
        let url = self.url, shadowName = self.shadowName
        DispatchQueue.global().async {
            guard let admin = try? PostgresConnection(url: try Self.url(url, database: "postgres"),
                                                      applicationName: "snapmask interrupt") else { return }
            _ = try? admin.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = $1", [shadowName])
        }
    }

    func discardShadow() {
        verifier.drop()
        _ = try? withAdmin { admin in
            if shadowExists {
                try admin.execute("DROP DATABASE IF EXISTS \(PostgresIdentifier.quoted(shadowName)) WITH (FORCE)")
                shadowExists = false
            }
        }
    }

    func close() {
        verifier.drop()
    }
}
