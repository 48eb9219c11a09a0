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

    let mutex = NSLock()
    let url: ConnectionString
    let database: String
    let shadowName: String
    let oldName: String
    let lockName: String
    let swapLockName: String
    let tuning: MySQLSwapTuning
    let admin: MySQLConnection
    let verifier = Lazy<MySQLConnection>()
    var locked = false
    var shadowExists = false
    var shadowCreated = false
    var objects: MySQLSchemaObjects?
    /// Views in an order that creates them (a view on a view after it), as found in the shadow.
    var viewOrder: [MySQLStoredObject] = []
    var sourceDatabase = ""
    var changes = MySQLCopyChanges()
    var parallelism = 2
    /// Connections that run long statements (loads, index builds, checks): interrupt() stops them.
    let busy = ConnectionIDs()
    let indexBuilds = MySQLIndexBuilds()
    /// What the swap did, as far as this process knows; and what the server showed after a failure.
    var swapOutcome: SwapOutcome = .notStarted
    var observation: MySQLSwapObservation?

    init(url: ConnectionString, tuning: MySQLSwapTuning = MySQLSwapTuning()) throws {
        let database = try url.mysqlDatabase("target")
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

    /// Runs `body` on the administrative connection, one thread at a time.
    func withAdmin<T>(_ body: (MySQLConnection) throws -> T) throws -> T {
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

    /// Where this target's tables are now (staging, the shadow, the old copy), as `connection` sees them.
    func observeTables(on connection: MySQLConnection) throws -> MySQLSwapObservation {
        try MySQLSwapObservation.observe(connection, database: database, shadow: shadowName, old: oldName)
    }

    /// A connection whose default database is the shadow copy, set up for loading.
    func shadowConnection(_ purpose: String, localInfile: Bool = false) throws -> MySQLConnection {
        let connection = try MySQLConnection(url: url, database: .named(shadowName), localInfile: localInfile,
                                             purpose: "snapmask \(purpose) \(database)")
        try connection.query("SET SESSION foreign_key_checks = 0, SESSION sql_mode = '\(Self.loadSQLMode)'")
        busy.insert(connection.connectionID)
        return connection
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
        return try MySQLLoadWriter(connection: connection, plan: plan, maskedColumns: Set(masked.keys),
                                   characterSet: try Self.loadCharacterSet(plan.name, on: connection))
    }

    /// The character set LOAD DATA reads a table's rows in. `binary` spares the server its
    /// per-byte multi-byte test while it splits the rows into fields (a sixth of a load's server
    /// CPU on Benchmarks/mysql), and is exact where every column is of a type whose text form is
    /// read the same way from bytes: numbers, dates and times, bytes, and text stored as UTF-8.
    /// The rows were read over a utf8mb4 session, so their text already is the stored bytes, and
    /// storing still checks it (a malformed value is a warning, which fails the table). Text in
    /// another character set (latin1, ...) needs the conversion `utf8mb4` asks for; MySQL's JSON
    /// refuses binary strings and MariaDB's UUID and INET6 take them as their binary form; those
    /// tables, and any type not listed, load as utf8mb4.
    static func loadCharacterSet(_ table: String, on connection: MySQLConnection) throws -> String {
        let textTypes = ["char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"]
        let byteTypes = ["tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double", "date",
                         "datetime", "timestamp", "time", "year"] + MySQLValueTransport.hexTypes.sorted()
        let list = { (names: [String]) in names.map(connection.literal).joined(separator: ", ") }
        // A table whose columns were not found (nothing to judge by) loads as utf8mb4 too.
        let counts = try connection.query("""
            SELECT COUNT(*), SUM(COALESCE(LOWER(DATA_TYPE) NOT IN (\(list(byteTypes))) AND NOT (LOWER(DATA_TYPE) IN
                                 (\(list(textTypes))) AND LOWER(CHARACTER_SET_NAME) IN ('utf8mb4', 'utf8mb3', 'utf8')), 1))
              FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = \(connection.literal(table))
            """).first
        guard let counts, let columns = counts[0].flatMap({ Int($0) }), columns > 0, counts[1] == "0" else { return "utf8mb4" }
        return "binary"
    }

    func verifierConnection() throws -> MySQLConnection {
        try verifier.get { try shadowConnection("verify") }
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
        let sql = "SELECT \((keyExpressions + [MySQLBytes.expression(column, plan: plan)]).joined(separator: ", ")) "
            + "FROM \(MySQLIdentifier.quoted(plan.name)) "
            + "WHERE (\(keyExpressions.joined(separator: ", "))) IN (\(wanted.joined(separator: ", ")))"
        var result: [[String?]: String?] = [:]
        for row in try connection.query(sql) {
            result[Array(row.dropLast())] = MySQLBytes.value(row.last!, column, plan: plan)
        }
        return result
    }

    func occurrences(_ plan: TablePlan, column: String, of values: [String]) throws -> Set<String> {
        guard !values.isEmpty else { return [] }
        let connection = try verifierConnection()
        if MySQLBytes.isBytes(column, plan: plan) {
            // Byte for byte: the sample holds one character per byte (`MySQLBytes`); a BIT value
            // as the number it is.
            let quoted = MySQLIdentifier.quoted(column), hex = "HEX(\(quoted))"
            let bit = MySQLBytes.isBit(column, plan: plan)
            let (compared, wanted) = bit ? ("(\(quoted) + 0)", values.compactMap(MySQLBytes.number).map(String.init))
                                         : (hex, values.compactMap(MySQLBytes.hex).map { connection.literal($0) })
            guard !wanted.isEmpty else { return [] }
            let sql = "SELECT DISTINCT \(hex) FROM \(MySQLIdentifier.quoted(plan.name)) WHERE \(compared) IN (\(wanted.joined(separator: ", ")))"
            return Set(try connection.query(sql).compactMap { MySQLBytes.value($0[0], column, plan: plan) })
        }
        let text = "CONVERT(\(MySQLIdentifier.quoted(column)) USING utf8mb4)"
        let sql = "SELECT DISTINCT \(text) FROM \(MySQLIdentifier.quoted(plan.name)) "
            + "WHERE \(text) COLLATE utf8mb4_bin IN (\(values.map { connection.literal($0) }.joined(separator: ", ")))"
        return Set(try connection.query(sql).compactMap { $0[0] })
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
        verifier.drop()
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
