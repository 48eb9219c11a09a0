import CLibPQ
import Foundation
import Snapmask

/// One libpq connection (`PGconn *`), closed in `deinit`. Used by one task at a time.
public final class PostgresConnection {
    let handle: OpaquePointer
    /// The URL as it may be shown (password redacted).
    public let displayName: String

    /// Connects with a postgres:// URL. `applicationName` shows in pg_stat_activity, so a DBA
    /// can tell snapmask's sessions apart.
    /// `readOnly` makes every transaction of the session read-only, so a source can never be
    /// written through this connection.
    public init(url: ConnectionString, applicationName: String = "snapmask", connectTimeout: Int = 15,
                readOnly: Bool = false) throws {
        displayName = url.description
        try PostgresIAM.check(url)
        let tls = PostgresTLS.defaults(for: url)
        var keys = tls.map(\.0) + ["dbname", "application_name", "connect_timeout", "client_encoding"]
        var values = tls.map(\.1) + [url.forDriver, String(applicationName.prefix(63)), String(connectTimeout), "UTF8"]
        if url.authentication == .iam {
            // After dbname, so the token wins over anything from the URL, PGPASSWORD or ~/.pgpass.
            keys.append("password")
            values.append(try url.passwordForNewConnection() ?? "")
        }
        if readOnly {
            keys.append("options")
            values.append("-c default_transaction_read_only=on")
        }
        let connection: OpaquePointer? = Self.withCStrings(keys) { keyPointers in
            Self.withCStrings(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let connection else { throw PostgresError("out of memory creating a connection", context: displayName) }
        guard PQstatus(connection) == CONNECTION_OK else {
            var message = String(cString: PQerrorMessage(connection)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connection)
            if let advice = PostgresTLS.advice(for: message) ?? PostgresIAM.advice(for: message, url: url) { message += "; \(advice)" }
            throw PostgresError(message, context: "cannot connect to \(displayName)")
        }
        // Server notices ("database ... does not exist, skipping") are not for the DBA's eyes.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// The server's version as a number (150004 for 15.4).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The backend's process id, for pg_terminate_backend in tests and for lock messages.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs one or more statements without parameters (simple protocol); returns the last result.
    /// For scripts (the schema, override files); text built from rules goes through
    /// `execute(_:_:)`, which the server holds to exactly one statement.
    @discardableResult
    public func execute(_ sql: String) throws -> PostgresResult {
        try check(PQexec(handle, sql), sql: sql)
    }

    /// Runs one statement with text parameters (nil is NULL); values never enter the SQL text.
    /// Extended protocol: a second statement in `sql` is refused by the server (this holds for
    /// `COPY … TO STDOUT` too).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?]) throws -> PostgresResult {
        let result: OpaquePointer? = Self.withOptionalCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try check(result, sql: sql)
    }

    /// Runs `body` in a transaction that is read-only by its own `BEGIN`, not only by the session's
    /// default; rolled back when `body` throws.
    public func readOnlyTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try execute("BEGIN READ ONLY")
        do {
            let result = try body(self)
            try execute("COMMIT")
            return result
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// The first column of the first row, or nil.
    public func scalar(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        let result = try execute(sql, parameters)
        return result.rowCount > 0 ? result.value(row: 0, column: 0) : nil
    }

    private func check(_ result: OpaquePointer?, sql: String) throws -> PostgresResult {
        guard let result else { throw PostgresError(String(cString: PQerrorMessage(handle))) }
        let wrapped = PostgresResult(handle: result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_EMPTY_QUERY:
            return wrapped
        default:
            throw wrapped.error
        }
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer<CChar>($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer<CChar>($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// One libpq result (`PGresult *`), cleared in `deinit`.
public final class PostgresResult {
    let handle: OpaquePointer

    init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { PQclear(handle) }

    public var rowCount: Int { Int(PQntuples(handle)) }
    public var columnCount: Int { Int(PQnfields(handle)) }

    public func columnName(_ column: Int) -> String { String(cString: PQfname(handle, Int32(column))) }

    public func value(row: Int, column: Int) -> String? {
        if PQgetisnull(handle, Int32(row), Int32(column)) == 1 { return nil }
        return String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    /// Every row as text values (nil for NULL), for small catalog queries.
    public var rows: [[String?]] {
        (0..<rowCount).map { row in (0..<columnCount).map { value(row: row, column: $0) } }
    }

    /// The number of rows an UPDATE/DELETE/INSERT touched.
    public var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    var error: PostgresError {
        let message = String(cString: PQresultErrorMessage(handle))
        let state = PQresultErrorField(handle, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        return PostgresError(message.isEmpty ? "statement failed" : message, sqlState: state)
    }
}
