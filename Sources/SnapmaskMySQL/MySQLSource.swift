import Foundation
import Snapmask

/// The source database inside one consistent snapshot, on a pool of read-only connections.
///
/// MySQL cannot share a snapshot between connections: each `START TRANSACTION WITH CONSISTENT
/// SNAPSHOT` sees the data as of its own moment. So the snapshot connections are opened first,
/// then the coordinator briefly stops writes to this database's tables (`LOCK TABLES ... READ`,
/// or `FLUSH TABLES WITH READ LOCK` where LOCK TABLES is not granted), every connection starts
/// its snapshot while nothing can commit, and the lock is released (milliseconds). All readers
/// then see the same committed data. Without either privilege (or when the lock is not granted
/// within a few seconds) the source is read on ONE connection, table after table, inside one
/// snapshot, as `mysqldump --single-transaction` does.
///
/// Every session is `READ ONLY`. After each table a reader rolls back to a savepoint taken right
/// after the snapshot started: that releases the table's metadata lock (as mysqldump does), so
/// a long restore does not hold up DDL on production; a table altered after the snapshot fails
/// its read ("Table definition has changed") instead of being read inconsistently.
final class MySQLSource: SourceSession, @unchecked Sendable {
    static let savepoint = "snapmask_table"
    /// How long the coordinator waits for the brief lock before reading on one connection instead.
    static let lockWaitSeconds = 5

    let url: ConnectionString
    let database: String
    let schema: SchemaShape
    let objects: MySQLSchemaObjects
    /// How the snapshot was taken, for the run's log.
    let notices: [String]
    /// The number of connections inside the snapshot (1 when they could not be synchronized).
    let snapshotConnections: Int

    // The pool of snapshot connections, guarded by `condition`.
    private let condition = NSCondition()
    /// The rows every sample of a table is read from (see `pickedKeys`); under `condition`.
    private var keyPicks: [String: KeyPick] = [:]
    private var idle: [MySQLConnection] = []
    private var broken: String?
    private var closed = false

    init(url: ConnectionString, readers: Int) throws {
        let database = try url.mysqlDatabase("source")
        self.url = url
        self.database = database
        let coordinator = try Self.connect(url, purpose: "snapmask snapshot \(database)")
        let tables = try Self.tableNames(coordinator, database)
        var connections: [MySQLConnection]
        var notices: [String] = []
        do {
            if readers <= 1 || tables.count <= 1 {
                connections = [try Self.connect(url, purpose: "snapmask read \(database)")]
                try Self.startSnapshot(connections[0])
                notices.append("reading \(database) on one connection inside one consistent snapshot")
            } else {
                // No more snapshot connections than tables: a reader reads one table at a time.
                connections = try (0..<min(readers, tables.count)).map { _ in
                    try Self.connect(url, purpose: "snapmask read \(database)")
                }
                switch try Self.synchronizedSnapshots(coordinator, connections, database: database, tables: tables) {
                case let .shared(lock, milliseconds):
                    notices.append("reading \(database) on \(connections.count) connections sharing one snapshot "
                                       + "(writes paused for \(milliseconds) ms under \(lock) while the snapshots started)")
                case let .single(reason):
                    connections = [connections[0]]
                    try Self.startSnapshot(connections[0])
                    notices.append("\(reason): reading \(database) on ONE connection, table after table, inside one "
                                       + "consistent snapshot (as mysqldump --single-transaction does); tables are not read "
                                       + "in parallel")
                }
            }
            for connection in connections { try connection.query("SAVEPOINT \(Self.savepoint)") }
            schema = try MySQLCatalog.schema(coordinator, database: database)
            objects = try MySQLSchemaObjects.read(coordinator, database: database, schema: schema)
        } catch let error as MySQLError {
            throw error.adding(context: "opening a snapshot of \(url)")
        }
        self.notices = notices
        snapshotConnections = connections.count
        idle = connections
    }

    func schemaDefinition() throws -> SchemaDefinition {
        try objects.definition(database: database)
    }

    /// A read-only session on the source: every transaction it starts, explicit or not, is READ
    /// ONLY, so neither a where: condition nor a function it calls can write.
    static func connect(_ url: ConnectionString, purpose: String) throws -> MySQLConnection {
        let connection = try MySQLConnection(url: url, purpose: purpose)
        try connection.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        try connection.query("SET SESSION TRANSACTION READ ONLY")
        return connection
    }

    /// A table's where: condition as it goes into a WHERE: inside parentheses of its own and on
    /// lines of its own (so a trailing `--` comment cannot swallow the closing parenthesis);
    /// refused when it is not one condition.
    static func whereSQL(of plan: TablePlan) throws -> String? {
        var conditions: [String] = []
        if let condition = plan.whereClause {
            if let problem = MySQLSQLText.conditionProblem(condition) {
                throw MySQLError("the where: condition of \(plan.name) is not one condition (\(problem)); nothing was read. "
                                     + "Write a single condition in \(plan.rule.map { "\($0.rule.location)" } ?? "the rules"): "
                                     + "subqueries and parentheses that balance are fine")
            }
            conditions.append("(\n\(condition)\n)")
        }
        if let condition = plan.keyScan?.condition {
            if let problem = MySQLSQLText.conditionProblem(condition) {
                throw MySQLError("the where: of the subset root \(plan.name) is not one condition (\(problem)); nothing was read")
            }
            conditions.append("(\n\(condition)\n)")
        }
        if let slice = plan.slice, let key = plan.table.primaryKey.first {
            if let lower = slice.lower { conditions.append("\(MySQLIdentifier.quoted(key)) >= \(lower)") }
            if let upper = slice.upper { conditions.append("\(MySQLIdentifier.quoted(key)) < \(upper)") }
        }
        return conditions.isEmpty ? nil : conditions.joined(separator: " AND ")
    }

    /// Ranges of a one-column integer primary key, between its smallest and largest value in the
    /// snapshot: InnoDB reads each range from its clustered index alone. Keys spread unevenly
    /// (gaps, deleted ranges) give uneven slices, never a missed or repeated row.
    func slices(of plan: TablePlan, into count: Int) throws -> [TableSlice] {
        guard count > 1, let key = Self.integerKey(of: plan),
              let (low, span) = try withConnection({ try keyRange(key, of: plan, on: $0) })
        else { return [] }
        return TableSlice.even(units: span + 1, count: count).map { slice in
            TableSlice(index: slice.index, count: slice.count, lower: slice.lower.map { $0 + low },
                       upper: slice.upper.map { $0 + low })
        }
    }

    /// The table's primary key when it is one integer column.
    static func integerKey(of plan: TablePlan) -> String? {
        guard plan.table.primaryKey.count == 1,
              let key = plan.table.columns.first(where: { $0.name == plan.table.primaryKey[0] }),
              key.typeName.range(of: #"^(tiny|small|medium|big)?int\b"#, options: [.regularExpression, .caseInsensitive]) != nil
        else { return nil }
        return key.name
    }

    /// The smallest value of an integer key in the snapshot and the distance to its largest (two
    /// index lookups); nil for an empty table or a range that does not fit an Int.
    private func keyRange(_ key: String, of plan: TablePlan, on connection: MySQLConnection) throws -> (low: Int, span: Int)? {
        let column = MySQLIdentifier.quoted(key)
        let bounds = try connection.query("SELECT MIN(\(column)), MAX(\(column)) FROM \(MySQLIdentifier.qualified(database, plan.name))")
        guard let row = bounds.first, row.count == 2, let low = row[0].flatMap({ Int($0) }), let high = row[1].flatMap({ Int($0) }),
              case let (span, overflow) = high.subtractingReportingOverflow(low), !overflow, span < Int.max
        else { return nil }
        return (low, span)
    }

    /// Takes the table's metadata lock on `connection`, which holds it until it rolls back to its
    /// savepoint, so no DDL can change the table while it is read; then makes sure its columns are
    /// still those the rules were checked against. The snapshot does not cover the definition: a
    /// column renamed since (email and notes swapped, an instant change that raises no "Table
    /// definition has changed") would be read under the rule of another column.
    static func verifyColumns(_ plan: TablePlan, on connection: MySQLConnection, database: String) throws {
        try connection.query("SELECT 1 FROM \(MySQLIdentifier.qualified(database, plan.name)) LIMIT 0")
        let checked = plan.table.columns.map(\.definition)
        let now = try MySQLCatalog.columns(connection, database: database, table: plan.name)[plan.name] ?? []
        guard now != checked else { return }
        let before = Set(checked.map(\.name)), after = Set(now.map(\.name))
        let added = now.map(\.name).filter { !before.contains($0) }
        let dropped = checked.map(\.name).filter { !after.contains($0) }
        let changed = now.enumerated().filter { index, column in
            before.contains(column.name) && (index >= checked.count || checked[index] != column)
        }.map(\.element.name)
        let what = [("added", added), ("dropped", dropped), ("moved or changed", changed)].filter { !$0.1.isEmpty }
            .map { "\($0.0): \($0.1.joined(separator: ", "))" }.joined(separator: "; ")
        throw MySQLError("the columns of \(plan.name) changed after the rules were checked against them (\(what)); none of "
                             + "its rows were read. Run the restore again: the rules are then checked against its new columns")
    }

    static func tableNames(_ connection: MySQLConnection, _ database: String) throws -> [String] {
        try connection.query("""
            SELECT TABLE_NAME FROM information_schema.TABLES
             WHERE TABLE_SCHEMA = \(connection.literal(database)) AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME
            """).compactMap { $0[0] }
    }

    static func startSnapshot(_ connection: MySQLConnection) throws {
        try connection.query("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    }

    enum Synchronization {
        case shared(lock: String, milliseconds: Int)
        case single(reason: String)
    }

    /// Starts every connection's snapshot while the coordinator keeps the database's tables from
    /// changing; or says why it could not.
    static func synchronizedSnapshots(_ coordinator: MySQLConnection, _ connections: [MySQLConnection], database: String,
                                      tables: [String]) throws -> Synchronization {
        try coordinator.query("SET SESSION lock_wait_timeout = \(lockWaitSeconds)")
        var tables = tables
        var lock = "LOCK TABLES ... READ"
        for attempt in 1...3 {
            guard !tables.isEmpty else { break }
            do {
                try coordinator.query("LOCK TABLES " + tables.map { MySQLIdentifier.qualified(database, $0) + " READ" }
                    .joined(separator: ", "))
                // A table created since the list was read would not be locked: list again under the lock.
                let now = try tableNames(coordinator, database)
                if now != tables {
                    try coordinator.query("UNLOCK TABLES")
                    if attempt == 3 { return .single(reason: "tables of \(database) kept being created or dropped") }
                    tables = now
                    continue
                }
            } catch let error as MySQLError where error.isAccessDenied {
                do {
                    lock = "FLUSH TABLES WITH READ LOCK"
                    try coordinator.query("FLUSH TABLES WITH READ LOCK")
                } catch let error as MySQLError where error.isAccessDenied {
                    return .single(reason: "the source account may neither LOCK TABLES nor FLUSH TABLES WITH READ LOCK "
                                       + "(RELOAD), which synchronizing parallel snapshots needs")
                } catch let error as MySQLError where error.isLockTimeout {
                    return .single(reason: "FLUSH TABLES WITH READ LOCK was not granted within \(lockWaitSeconds) s "
                                       + "(long-running statements on the source)")
                }
            } catch let error as MySQLError where error.isLockTimeout {
                return .single(reason: "LOCK TABLES ... READ was not granted within \(lockWaitSeconds) s (long "
                                   + "transactions are writing to \(database))")
            }
            break
        }
        let started = Date()
        do {
            for connection in connections { try startSnapshot(connection) }
        } catch {
            _ = try? coordinator.query("UNLOCK TABLES")
            throw error
        }
        try coordinator.query("UNLOCK TABLES")
        return .shared(lock: lock, milliseconds: Int(Date().timeIntervalSince(started) * 1000))
    }

    // MARK: The pool

    /// A snapshot connection for one task; waits while all are in use.
    func take() throws -> MySQLConnection {
        condition.lock()
        defer { condition.unlock() }
        while idle.isEmpty && broken == nil && !closed { condition.wait() }
        if let broken { throw MySQLError("the source snapshot is no longer usable: \(broken)") }
        if closed { throw MySQLError("the source snapshot was closed") }
        return idle.removeLast()
    }

    /// Gives a connection back after its work ended cleanly; releases that work's metadata locks.
    func giveBack(_ connection: MySQLConnection) throws {
        do {
            try connection.query("ROLLBACK TO SAVEPOINT \(Self.savepoint)")
        } catch {
            lost("a snapshot connection failed: \(error)")
            throw error
        }
        condition.lock()
        idle.append(connection)
        condition.broadcast()
        condition.unlock()
    }

    /// A connection was dropped (a failed or abandoned read): its snapshot is gone, so is the
    /// promise that later reads see the same data; everyone waiting is told.
    func lost(_ reason: String) {
        condition.lock()
        if broken == nil { broken = reason }
        condition.broadcast()
        condition.unlock()
    }

    func withConnection<T>(_ body: (MySQLConnection) throws -> T) throws -> T {
        let connection = try take()
        let result: T
        do {
            result = try body(connection)
        } catch {
            try giveBack(connection)
            throw error
        }
        try giveBack(connection)
        return result
    }

    // MARK: SourceSession

    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let connection = try take()
        do {
            return try MySQLBatchReader(connection: connection, source: self, plan: plan)
        } catch {
            // The statement failed before any row: the connection is still in its snapshot.
            try? giveBack(connection)
            throw error
        }
    }

    /// Originals for the leak check (or, without key columns, values for the paths of a JSON
    /// column), drawn at random from every row the copy read (where: honoured): a table's first
    /// rows are often its oldest or its test accounts and say little about the rest. Read from
    /// the table's one pick of rows (`sampleRowsOfPickedKeys`) where that applies; else `RAND() <
    /// p`, sized from the table's row estimate to keep about four times `limit` rows, keeps the
    /// sort small, and when it keeps too few (a stale estimate, a where: that keeps few rows), all
    /// matching rows are shuffled instead.
    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] {
        // Values without their keys (the paths inside a JSON column) come from rows picked by the
        // table's primary key all the same.
        if let picked = try sampleRowsOfPickedKeys(plan, keyColumns: keyColumns.isEmpty ? plan.table.primaryKey : keyColumns,
                                                   column: column, limit: limit),
           picked.count >= limit {
            return keyColumns.isEmpty ? picked.map { SampledRow(key: [], value: $0.value) } : picked
        }
        let value = MySQLIdentifier.quoted(column)
        let keys = keyColumns.map { key in
            MySQLTarget.keyExpression(key, plan: plan)
        }
        // OCTET_LENGTH rather than CAST(... AS CHAR): MariaDB refuses to cast a geometry to text.
        var condition = "OCTET_LENGTH(\(value)) > 0"
        if let filter = try Self.whereSQL(of: plan) { condition += " AND \(filter)" }
        let selected = MySQLBytes.expression(column, plan: plan)
        let select = "SELECT \((keys + [selected]).joined(separator: ", ")) FROM \(MySQLIdentifier.qualified(database, plan.name)) "
            + "WHERE \(condition)"
        let estimate = plan.table.estimatedRows
        let rows = try withConnection { connection -> [[String?]] in
            try Self.verifyColumns(plan, on: connection, database: database)
            if limit > 0 && estimate > limit * 4 {
                let fraction = String(format: "%.9f", Double(limit * 4) / Double(estimate))
                let picked = try connection.query(select + " AND RAND() < \(fraction) ORDER BY RAND() LIMIT \(limit)")
                if picked.count >= limit { return picked }
            }
            return try connection.query(select + " ORDER BY RAND() LIMIT \(limit)")
        }
        return rows.map { SampledRow(key: Array($0.dropLast()), value: MySQLBytes.value($0.last!!, column, plan: plan)!) }
    }

    /// A large table's samples (the paths of its JSON columns, the coverage report, each masked
    /// column's leak check) are read by primary key from one set of rows, picked at random once
    /// per table (`pickedKeys`), instead of each scanning the whole table again. Nil where that
    /// does not apply (a small table, a key sent as hex); fewer than `limit` rows (a column empty
    /// in most of those rows) sends the caller to the full scan.
    private func sampleRowsOfPickedKeys(_ plan: TablePlan, keyColumns: [String], column: String,
                                        limit: Int) throws -> [SampledRow]? {
        guard limit > 0, Self.pickable(plan, keyColumns: keyColumns), plan.table.estimatedRows > limit * 4 else { return nil }
        let keys = keyColumns.map(MySQLIdentifier.quoted)
        return try withConnection { connection -> [SampledRow]? in
            try Self.verifyColumns(plan, on: connection, database: database)
            let picked = try pickedKeys(plan, keyColumns: keyColumns, count: limit * 4, on: connection)
            guard !picked.isEmpty else { return nil }
            let value = MySQLIdentifier.quoted(column)
            let rows = try connection.query("SELECT \((keys + [MySQLBytes.expression(column, plan: plan)]).joined(separator: ", ")) "
                                            + "FROM \(MySQLIdentifier.qualified(database, plan.name)) "
                                            + "WHERE \(Self.keyList(keys, picked, on: connection)) "
                                            + "AND OCTET_LENGTH(\(value)) > 0 ORDER BY RAND() LIMIT \(limit)")
            return rows.map { SampledRow(key: Array($0.dropLast()), value: MySQLBytes.value($0.last!!, column, plan: plan)!) }
        }
    }

    /// Rows can be picked by these key columns: there are some, and they travel as plain text.
    static func pickable(_ plan: TablePlan, keyColumns: [String]) -> Bool {
        !keyColumns.isEmpty && keyColumns.allSatisfy { MySQLTarget.keyExpression($0, plan: plan) == MySQLIdentifier.quoted($0) }
    }

    /// `(k1, k2) IN ((...), (...))` for picked keys.
    static func keyList(_ keys: [String], _ picked: [[String?]], on connection: MySQLConnection) -> String {
        let wanted = picked.map { key in "(" + key.map { $0.map(connection.literal) ?? "NULL" }.joined(separator: ", ") + ")" }
        return "(\(keys.joined(separator: ", "))) IN (\(wanted.joined(separator: ", ")))"
    }

    /// The keys of `count` rows picked at random (where: honoured), in random order; every sample
    /// of the table in this run shares them, and a larger request picks again. An integer key is
    /// drawn (`drawnKeys`); any other is picked by one scan of the table.
    private func pickedKeys(_ plan: TablePlan, keyColumns: [String], count: Int,
                            on connection: MySQLConnection) throws -> [[String?]] {
        let filter = try Self.whereSQL(of: plan)
        let slot = ([plan.name, filter ?? ""] + keyColumns).joined(separator: "\u{0}")
        condition.lock()
        let known = keyPicks[slot]
        condition.unlock()
        if let known, known.asked >= count { return Array(known.keys.prefix(count)) }
        let picked: [[String?]]
        if keyColumns.count == 1, keyColumns[0] == Self.integerKey(of: plan),
           let drawn = try drawnKeys(plan, key: keyColumns[0], filter: filter, count: count, on: connection) {
            picked = drawn
        } else {
            let fraction = String(format: "%.9f", min(1, Double(count * 2) / Double(max(1, plan.table.estimatedRows))))
            picked = try connection.query("SELECT \(keyColumns.map(MySQLIdentifier.quoted).joined(separator: ", ")) FROM "
                                          + "\(MySQLIdentifier.qualified(database, plan.name)) WHERE "
                                          + "\(filter.map { "(\($0)) AND " } ?? "")RAND() < \(fraction) "
                                          + "ORDER BY RAND() LIMIT \(count)")
        }
        condition.lock()
        keyPicks[slot] = KeyPick(keys: picked, asked: count)
        condition.unlock()
        return picked
    }

    /// The most ids `drawnKeys` looks up in one statement: MySQL plans a longer IN list as a full
    /// scan (range_optimizer_max_mem_size).
    static let maximumDraws = 20_000

    /// Ids drawn at random between the key's smallest and largest value; those that exist (and
    /// pass where:) are the pick. Each row has the same chance, as each id does, and only drawn
    /// rows are read: a table of any size costs two index lookups and the draws, where a scan
    /// reads all of it. Nil when too few drawn ids exist (sparse keys, a where: that keeps few
    /// rows, a stale row estimate): the scan picks then.
    func drawnKeys(_ plan: TablePlan, key: String, filter: String?, count: Int,
                           on connection: MySQLConnection) throws -> [[String?]]? {
        guard let (low, span) = try keyRange(key, of: plan, on: connection) else { return nil }
        // Twice as many ids as should find `count` rows at the table's density.
        let ids = Double(span) + 1
        let draws = (2 * Double(count) * ids / Double(max(1, plan.table.estimatedRows))).rounded(.up)
        guard draws <= Double(Self.maximumDraws), draws < ids else { return nil }
        var drawn = Set<Int>(minimumCapacity: Int(draws))
        var generator = SystemRandomNumberGenerator()
        while drawn.count < Int(draws) { drawn.insert(low + Int.random(in: 0...span, using: &generator)) }
        let column = MySQLIdentifier.quoted(key)
        let found = try connection.query("SELECT \(column) FROM \(MySQLIdentifier.qualified(database, plan.name)) WHERE "
                                         + "\(column) IN (\(drawn.sorted().map(String.init).joined(separator: ", ")))"
                                         + (filter.map { " AND (\($0))" } ?? ""))
        guard found.count >= count else { return nil }
        return Array(found.shuffled(using: &generator).prefix(count))
    }

    func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        try withConnection { connection in
            try Self.verifyColumns(plan, on: connection, database: database)
            let keyColumns = plan.table.primaryKey
            if limit > 0, Self.pickable(plan, keyColumns: keyColumns), plan.table.estimatedRows > limit * 8 {
                let picked = try pickedKeys(plan, keyColumns: keyColumns, count: limit * 4, on: connection)
                if picked.count >= limit * 2 {
                    return try MySQLSampling.values(on: connection, database: database, plan: plan, columns: columns, limit: limit,
                                                    rows: Self.keyList(keyColumns.map(MySQLIdentifier.quoted), picked, on: connection))
                }
            }
            return try MySQLSampling.values(on: connection, database: database, plan: plan, columns: columns, limit: limit)
        }
    }

    func close() {
        condition.lock()
        closed = true
        let connections = idle
        idle = []
        condition.broadcast()
        condition.unlock()
        for connection in connections { _ = try? connection.query("ROLLBACK") }
    }
}

/// Keys of rows picked at random, and how many were asked for (fewer are found in a small table).
private struct KeyPick {
    var keys: [[String?]]
    var asked: Int
}
