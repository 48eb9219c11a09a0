import Foundation
import Snapmask

/// The source database inside one exported snapshot. The coordinator connection locks every
/// table, then opens its REPEATABLE READ, READ ONLY transaction and exports the snapshot (see
/// `PostgresSnapshotOpening`); every reader joins that snapshot on a session of its own, so all
/// tables come from the same moment however many are copied at once. The reader sessions are
/// opened up front on the coordinator's instance (see `PostgresReaderSessions`: a cluster's
/// reader endpoint may send them elsewhere, where the snapshot does not exist). Every connection
/// is read-only at the session level too, and every statement built from rules (`where:`) goes
/// through the extended protocol, which runs exactly one.
final class PostgresSource: SourceSession, @unchecked Sendable {
    /// How long opening the snapshot (and pg_dump) waits for table locks before naming who holds them.
    static let defaultLockTimeout: TimeInterval = 60

    // The coordinator is used through `readers` (copy threads call makeReader and the verifier
    // calls sampleRows while others may still read); `lock` guards the cached definition.
    private let lock = NSLock()
    private let readers: PostgresReaderSessions
    let url: ConnectionString
    let snapshot: String
    let schema: SchemaShape
    let serverVersion: Int
    let lockTimeoutMilliseconds: Int
    /// Table name → oid, as the coordinator locked them.
    private let locked: [String: String]
    /// Foreign tables and the views reading them: never in the shadow.
    let leftOut: [PostgresForeignData.LeftOut]
    /// Large objects in the source: never copied, since no rule can say what their bytes hold.
    let largeObjects: Int

    /// `readers`: how many tables are read at once (sessions opened up front, at most one per
    /// table). `placement`: how reader sessions are opened and told apart (tests change it).
    init(url: ConnectionString, readers: Int = 1, lockTimeout: TimeInterval = PostgresSource.defaultLockTimeout,
         placement: PostgresReaderPlacement = PostgresReaderPlacement()) throws {
        self.url = url
        lockTimeoutMilliseconds = max(1, Int(lockTimeout * 1000))
        let coordinator = try PostgresConnection(url: url, applicationName: "snapmask snapshot", readOnly: true)
        do {
            // Asked before the snapshot's transaction begins: a failing question cannot abort it.
            let home = try placement.instance(coordinator)
            let opened = try PostgresSnapshotOpening.open(coordinator, lockTimeoutMilliseconds: lockTimeoutMilliseconds)
            snapshot = opened.snapshot
            schema = opened.schema
            locked = opened.locked
            leftOut = try PostgresForeignData.relations(coordinator)
            let count = try coordinator.execute("SELECT count(*) FROM pg_largeobject_metadata", []).rows.first?.first ?? nil
            largeObjects = count.flatMap { Int($0) } ?? 0
            serverVersion = coordinator.serverVersion
            let tables = max(1, schema.tables.filter(\.holdsRows).count)
            self.readers = try PostgresReaderSessions(
                coordinator: coordinator, home: home, url: url, database: url.database ?? "the source",
                wanted: min(max(1, readers), tables), placement: placement)
        } catch let error as PostgresError {
            _ = try? coordinator.execute("ROLLBACK")
            throw error.adding(context: "opening a snapshot of \(url)")
        }
    }

    /// What the schema leaves out with the foreign data (a run only gets this far with
    /// `foreign_data: skip`, or with none).
    var notices: [String] {
        (readers.notice.map { [$0] } ?? []) + foreignDataNotices + largeObjectNotices
    }

    private var largeObjectNotices: [String] {
        guard largeObjects > 0 else { return [] }
        return ["the source holds \(largeObjects) large object\(largeObjects == 1 ? "" : "s") (pg_largeobject); none is copied, "
                    + "since no rule can say what their bytes hold: oid columns that refer to them point to nothing in staging"]
    }

    private var foreignDataNotices: [String] {
        guard !leftOut.isEmpty else { return [] }
        let tables = leftOut.filter { $0.kind == "foreign table" }.map(\.qualified).sorted()
        let readers = leftOut.filter { $0.kind != "foreign table" }.sorted { $0.qualified < $1.qualified }
            .map { "\($0.kind) \($0.qualified) (reads \($0.foreignTable))" }
        return ["foreign servers, user mappings and foreign tables are left out of staging: foreign table "
                    + tables.joined(separator: ", foreign table ")
                    + (readers.isEmpty ? "" : "; and what reads them: " + readers.joined(separator: ", "))]
    }

    /// The reader locks its table again, without waiting: if someone is queued for an exclusive
    /// lock on it (an ALTER TABLE waiting for the coordinator's lock), a plain lock request would
    /// queue behind them, and they behind the coordinator, which ends only after this reader: a
    /// wait no one would ever break. Stopping says what to do instead.
    ///
    /// On the coordinator (when no reader session reached its instance) the table is read inside a
    /// savepoint, so a failing `where:` leaves the snapshot usable; its lock is held already.
    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let lease = try readers.take()
        do {
            switch lease {
            case .coordinator:
                try readers.coordinator.execute("SAVEPOINT \(PostgresReaderSessions.savepoint)")
                let copy = try PostgresCopyReader(connection: readers.coordinator, plan: plan)
                return PostgresLeasedReader(copy: copy, lease: lease, sessions: readers)
            case let .session(connection):
                try join(connection, for: plan)
                let copy = try PostgresCopyReader(connection: connection, plan: plan)
                return PostgresLeasedReader(copy: copy, lease: lease, sessions: readers)
            }
        } catch {
            // Nothing was streamed: the session (or the coordinator) is fit for the next table.
            readers.finished(lease, midStream: false)
            throw error
        }
    }

    /// Puts a reader session into the snapshot and takes its table's lock without waiting.
    private func join(_ connection: PostgresConnection, for plan: TablePlan) throws {
        try connection.execute("SELECT set_config('application_name', $1, false)", [String("snapmask read \(plan.name)".prefix(63))])
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        do {
            try connection.execute("SET TRANSACTION SNAPSHOT \(PostgresIdentifier.literal(snapshot))")
        } catch let error as PostgresError where error.sqlState == "22023" {
            // The session said it was on the snapshot's instance; only something between snapmask
            // and the server that moves transactions can have changed that.
            throw error.adding(context: "joining the source snapshot to read \(plan.name) (the snapshot is on "
                                   + "\(readers.home); a connection pooler in transaction mode, such as PgBouncer or RDS "
                                   + "Proxy, moves transactions between servers: connect snapmask to the database directly)")
        }
        do {
            try connection.execute("LOCK TABLE ONLY \(PostgresIdentifier.qualified(plan.name)) IN ACCESS SHARE MODE NOWAIT", [])
        } catch let error as PostgresError where error.sqlState == "55P03" {
            _ = try? connection.execute("ROLLBACK")
            let who = (try? connection.readOnlyTransaction {
                try PostgresSnapshotOpening.blockers($0, oids: locked[plan.name].map { [$0] } ?? [])
            }) ?? []
            throw Self.queuedBehindSnapshot(plan.name, who: who).adding(context: "reading \(plan.name) from the source")
        }
    }

    static func queuedBehindSnapshot(_ table: String, who: [String]) -> PostgresError {
        PostgresError("another session is queued for an exclusive lock on \(table) (ALTER TABLE, DROP, TRUNCATE, VACUUM FULL, "
                          + "...), which snapmask's snapshot holds off until the run ends; snapmask stops rather than wait for ever"
                          + (who.isEmpty ? "" : " (" + who.joined(separator: "; ") + ")")
                          + ". Run again when that statement has finished or been cancelled")
    }

    /// A random sample of the table's non-empty values (honouring `where:`), so the leak check
    /// looks at more than the first rows on disk. Large tables are sampled with TABLESAMPLE
    /// BERNOULLI sized from the row estimate (about four times what is needed), then shuffled;
    /// when that brings too few rows (a selective `where:`, a stale estimate) the whole table is
    /// shuffled instead.
    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] {
        guard limit > 0 else { return [] }
        let value = PostgresIdentifier.quoted(column)
        let keys = keyColumns.map { "\(PostgresIdentifier.quoted($0))::text" }
        var condition = "\(value) IS NOT NULL AND \(value)::text <> ''"
        if let filter = plan.whereClause { condition += " AND (\n\(filter)\n)" }
        func sample(_ tablesample: String, _ parameters: [String?]) throws -> [[String?]] {
            let sql = "SELECT \((keys + ["\(value)::text"]).joined(separator: ", ")) FROM ONLY "
                + "\(PostgresIdentifier.qualified(plan.name))\(tablesample) WHERE \(condition) ORDER BY random() LIMIT \(limit)"
            return try withCoordinator { try $0.execute(sql, parameters).rows }
        }
        var rows: [[String?]] = []
        let estimate = plan.table.estimatedRows
        if estimate > limit * 20 {
            let percent = min(100, 400 * Double(limit) / Double(estimate))
            rows = try sample(" TABLESAMPLE BERNOULLI ($1::float8)", [String(percent)])
        }
        if rows.count < limit { rows = try sample("", []) }
        return rows.map { SampledRow(key: Array($0.dropLast()), value: $0.last!!) }
    }

    /// Ranges of heap pages, measured now (pages added later fall in the last, open-ended slice).
    /// Only from PostgreSQL 14, whose TID range scans read a slice's pages alone; on older
    /// servers every slice would scan the whole table.
    func slices(of plan: TablePlan, into count: Int) throws -> [TableSlice] {
        guard serverVersion >= 140_000, count > 1 else { return [] }
        let pages = try withCoordinator { connection -> Int in
            let rows = try connection.execute("SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint",
                                              [PostgresIdentifier.qualified(plan.name)]).rows
            return rows.first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
        }
        return pages >= count * Self.minimumPagesPerSlice ? TableSlice.even(units: pages, count: count) : []
    }

    /// 8 MiB of 8 KiB pages: below that a slice costs more in sessions than it saves.
    static let minimumPagesPerSlice = 1024

    func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        try withCoordinator { try PostgresSampling.values(on: $0, plan: plan, columns: columns, limit: limit) }
    }

    private var definition: SchemaDefinition?

    /// Both pg_dump sections, every sequence's value and the materialized views to rebuild, read
    /// inside the snapshot (once).
    func schemaDefinition() throws -> SchemaDefinition {
        lock.lock()
        if let definition {
            lock.unlock()
            return definition
        }
        lock.unlock()
        let dump = PostgresSchemaDump(source: url, leftOut: leftOut, lockTimeoutMilliseconds: lockTimeoutMilliseconds)
        let sections: [PostgresSchemaDump.Section: String]
        do {
            sections = try dump.sections(snapshot: snapshot, serverVersion: serverVersion)
        } catch let failed as PostgresSchemaDump.Failed where failed.description.contains("LOCK TABLE") {
            // pg_dump locks every table too; only a session queued behind the coordinator's locks
            // can make it wait this long.
            let who = (try? withCoordinator { try PostgresSnapshotOpening.blockers($0, oids: Array(locked.values)) }) ?? []
            throw Self.queuedBehindSnapshot("a table", who: who)
                .adding(context: "reading the source's schema with pg_dump (\(failed.description))")
        }
        let views = try withCoordinator {
            try PostgresMaterializedViews.refreshOrder($0, leavingOut: Set(leftOut.map(\.qualified)))
        }
        let made = try SchemaDefinition(engine: .postgres, payload: PostgresSchemaPayload(
            preData: sections[.preData] ?? "", postData: sections[.postData] ?? "",
            sequences: Dictionary(try sequenceValues(), uniquingKeysWith: { first, _ in first }), materializedViews: views))
        lock.lock()
        definition = made
        lock.unlock()
        return made
    }

    /// Every sequence's current value, to continue where the source is.
    func sequenceValues() throws -> [(name: String, value: String)] {
        try withCoordinator { connection in
            try connection.execute("""
                SELECT format('%I.%I', schemaname, sequencename), last_value::text FROM pg_sequences
                 WHERE last_value IS NOT NULL
                """, []).rows.map { ($0[0]!, $0[1]!) }
        }
    }

    func withCoordinator<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try readers.withCoordinator(body)
    }

    func close() {
        readers.close()
    }
}
