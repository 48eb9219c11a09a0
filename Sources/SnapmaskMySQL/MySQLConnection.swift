import CMySQL
import Foundation
import Snapmask

/// One libmysqlclient connection (`MYSQL *`), closed in `deinit`. Used by one thread at a time.
///
/// Every session snapmask opens speaks utf8mb4, runs in UTC (`time_zone = '+00:00'`, so
/// TIMESTAMP values are never shifted) and survives long idle stretches (a snapshot connection
/// may wait hours for its turn; a LOAD DATA connection may wait for a slow source).
public final class MySQLConnection {
    /// Which database a connection starts in.
    public enum DefaultDatabase: Sendable {
        case fromURL
        case none
        case named(String)
    }

    let handle: UnsafeMutablePointer<MYSQL>
    /// The URL as it may be shown (password redacted).
    public let displayName: String

    /// libmysqlclient's global state must be set up once, before threads connect at the same time.
    private static let libraryReady: Bool = {
        mysql_server_init(0, nil, nil) == 0
    }()

    /// Connects with a mysql:// URL. `localInfile` must be chosen before connecting: LOAD DATA
    /// LOCAL is allowed only on connections that ask for it. `purpose` is sent as a connection
    /// attribute (performance_schema.session_connect_attrs), so a DBA can tell the sessions apart.
    public init(url: ConnectionString, database: DefaultDatabase = .fromURL, localInfile: Bool = false,
                connectTimeout: UInt32 = 15, purpose: String = "snapmask") throws {
        displayName = url.description
        _ = Self.libraryReady
        let tls = try MySQLTLS(url: url)
        try tls.checkFiles(url: url)
        guard let handle = mysql_init(nil) else { throw MySQLError("out of memory creating a connection", context: displayName) }
        do {
            try tls.apply(to: handle)
        } catch {
            mysql_close(handle)
            throw error
        }
        var timeout = connectTimeout
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        var infile: UInt32 = localInfile ? 1 : 0
        mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &infile)
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        var packet: UInt = 1 << 30
        mysql_options(handle, MYSQL_OPT_MAX_ALLOWED_PACKET, &packet)
        mysql_options4(handle, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "snapmask")
        mysql_options4(handle, MYSQL_OPT_CONNECT_ATTR_ADD, "snapmask_purpose", String(purpose.prefix(200)))
        let (host, port) = url.primaryHost
        let schema: String?
        switch database {
        case .fromURL: schema = url.database
        case .none: schema = nil
        case let .named(name): schema = name
        }
        let socket = url.queryValue("socket")
        // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched (as PostgreSQL does), not only
        // those whose values changed, so an override's count means the same on every run.
        let password: String?
        do { password = try MySQLIAM.prepare(handle, for: url) } catch { mysql_close(handle); throw error }
        let connected = mysql_real_connect(handle, host.isEmpty ? "127.0.0.1" : host, url.user ?? "root", password,
                                           schema, UInt32(port ?? 3306), socket, UInt(CLIENT_FOUND_ROWS))
        guard connected != nil else {
            let error = MySQLError(tls.explained(String(cString: mysql_error(handle)), code: mysql_errno(handle)),
                                   code: mysql_errno(handle), context: "cannot connect to \(url.description)")
            mysql_close(handle)
            throw error
        }
        self.handle = handle
        try tls.checkEncrypted(handle, url: url)
        do {
            try query("SET time_zone = '+00:00', SESSION wait_timeout = 604800, SESSION net_read_timeout = 3600, "
                          + "SESSION net_write_timeout = 3600")
        } catch let error as MySQLError {
            throw error.adding(context: "setting up a session on \(displayName)")
        }
    }

    deinit { mysql_close(handle) }

    public var serverVersion: String { String(cString: mysql_get_server_info(handle)) }

    public var isMariaDB: Bool { serverVersion.localizedCaseInsensitiveContains("mariadb") }

    /// The connection id, for KILL in tests and for lock messages.
    public var connectionID: UInt { UInt(mysql_thread_id(handle)) }

    /// Runs a statement; returns its rows when it has any (fully read into memory: for small
    /// catalog queries, not for table data).
    @discardableResult
    public func query(_ sql: String) throws -> [[String?]] {
        try send(sql)
        return try MySQLResult.store(self)?.rows() ?? []
    }

    public func scalar(_ sql: String) throws -> String? {
        try query(sql).first?.first ?? nil
    }

    /// Sends one statement without reading its result.
    func send(_ sql: String) throws {
        let status = sql.utf8CString.withUnsafeBufferPointer { text in
            mysql_real_query(handle, text.baseAddress, UInt(text.count - 1))
        }
        guard status == 0 else { throw lastError }
    }

    /// The rows of the last statement that changed data.
    var affectedRows: Int {
        let count = mysql_affected_rows(handle)
        return count == UInt64.max ? 0 : Int(count)
    }

    var warningCount: Int { Int(mysql_warning_count(handle)) }

    /// Runs an SQL file statement by statement (split as the mysql client splits it, `DELIMITER`
    /// lines included) and returns the rows they changed in total. Stops at the first failing
    /// statement, naming its number and line. Multi-statement mode is never switched on, on any
    /// connection: a statement that smuggles a second one in (`...; DROP TABLE x`) stays one
    /// statement and fails.
    @discardableResult
    public func executeScript(_ sql: String) throws -> Int {
        var affected = 0
        for (number, statement) in MySQLSQLText.statements(sql).enumerated() {
            do {
                try send(statement.text)
                // A CALL may answer with several results (each SELECT in the procedure, then its status).
                try discardResults { changed in affected += changed }
            } catch let error as MySQLError {
                throw error.adding(context: "statement \(number + 1) (line \(statement.line))")
            }
        }
        return affected
    }

    /// Runs one statement with `?` placeholders bound to text values (nil is NULL) through the
    /// binary protocol: values never enter the SQL text. Returns the rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?]) throws -> Int {
        let statement = try MySQLStatement(sql, on: self)
        try statement.bind(parameters)
        try statement.execute()
        return statement.affectedRows
    }

    /// Sends the statements as ONE multi-statement query and reads every result. Multi-statement
    /// mode is switched on for this call only, on a connection used for nothing else; the text is
    /// made of names snapmask quotes and definitions that already ran alone (so each is exactly
    /// one statement). Statements are separated by a line of their own, so a definition ending
    /// in a `-- comment` cannot swallow the separator.
    func runBatch(_ statements: [String]) -> MySQLBatchOutcome {
        guard mysql_set_server_option(handle, MYSQL_OPTION_MULTI_STATEMENTS_ON) == 0 else {
            return MySQLBatchOutcome(completed: 0, error: lastError)
        }
        defer { _ = mysql_set_server_option(handle, MYSQL_OPTION_MULTI_STATEMENTS_OFF) }
        var completed = 0
        do {
            try send(statements.joined(separator: "\n;\n"))
            try discardResults { _ in completed += 1 }
        } catch let error as MySQLError {
            return MySQLBatchOutcome(completed: completed, error: error)
        } catch {
            return MySQLBatchOutcome(completed: completed, error: MySQLError("\(error)"))
        }
        return MySQLBatchOutcome(completed: completed, error: nil)
    }

    /// Reads every result the statement just sent answers with (a CALL, or a batch of several
    /// statements, has one per statement), discarding their rows. `ended` is called after each
    /// statement that ended without error, with the rows it changed (0 for one returning rows);
    /// throws the error of the first that failed.
    private func discardResults(_ ended: (_ changed: Int) -> Void) throws {
        while true {
            let returnedRows = try MySQLResult.store(self) != nil
            ended(returnedRows ? 0 : affectedRows)
            let next = mysql_next_result(handle)
            if next == -1 { return }
            if next > 0 { throw lastError }
        }
    }

    /// Quotes a value as an SQL string literal with the connection's character set.
    public func literal(_ value: String) -> String {
        let bytes = Array(value.utf8)
        var output = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        let length = bytes.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { mysql_real_escape_string(handle, &output, $0.baseAddress, UInt(bytes.count)) }
        }
        // MySQL 8's client refuses (returns -1) while the session has NO_BACKSLASH_ESCAPES (a
        // server's default, or a restored object's sql_mode); then a doubled quote is the only escape.
        guard length != UInt.max else { return "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }
        return "'" + String(decoding: output.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) + "'"
    }

    var lastError: MySQLError {
        MySQLError(String(cString: mysql_error(handle)), code: mysql_errno(handle), sqlState: String(cString: mysql_sqlstate(handle)))
    }
}

/// How one multi-statement batch ended.
struct MySQLBatchOutcome {
    /// How many statements ended without error (the first `completed` of the batch).
    var completed: Int
    /// The error of statement `completed`, if one failed.
    var error: MySQLError?
    /// The connection broke: the server may still be running the rest of the batch.
    var connectionLost: Bool { error?.isConnectionLost ?? false }
}
