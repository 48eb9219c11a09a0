import CMySQL
import Foundation
import Snapmask

/// One libmysqlclient connection (`MYSQL *`), closed in `deinit`. Used by one task at a time.
public final class MySQLConnection {
    let handle: UnsafeMutablePointer<MYSQL>
    public let displayName: String

    /// Connects with a mysql:// URL. `localInfile` must be chosen before connecting: LOAD DATA
    /// LOCAL is allowed only on connections that ask for it.
    public init(url: ConnectionString, localInfile: Bool = false, connectTimeout: UInt32 = 15) throws {
        displayName = url.description
        guard let handle = mysql_init(nil) else { throw MySQLError("out of memory creating a connection", context: displayName) }
        var timeout = connectTimeout
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &timeout)
        var infile: UInt32 = localInfile ? 1 : 0
        mysql_options(handle, MYSQL_OPT_LOCAL_INFILE, &infile)
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        let (host, port) = url.primaryHost
        let database = url.database
        let connected = mysql_real_connect(handle, host.isEmpty ? "127.0.0.1" : host, url.user ?? "root", url.password,
                                           database, UInt32(port ?? 3306), nil, 0)
        guard connected != nil else {
            let error = MySQLError(String(cString: mysql_error(handle)), code: mysql_errno(handle),
                                   context: "cannot connect to \(url.description)")
            mysql_close(handle)
            throw error
        }
        self.handle = handle
    }

    deinit { mysql_close(handle) }

    public var serverVersion: String { String(cString: mysql_get_server_info(handle)) }

    /// The connection id, for KILL in tests and for lock messages.
    public var connectionID: UInt { UInt(mysql_thread_id(handle)) }

    /// Runs a statement; returns its rows when it has any (fully read into memory: for small
    /// catalog queries, not for table data).
    @discardableResult
    public func query(_ sql: String) throws -> [[String?]] {
        try sql.withCString { text in
            guard mysql_real_query(handle, text, UInt(strlen(text))) == 0 else { throw lastError }
        }
        guard let result = mysql_store_result(handle) else {
            if mysql_field_count(handle) != 0 { throw lastError }
            return []
        }
        defer { mysql_free_result(result) }
        let columns = Int(mysql_num_fields(result))
        var rows: [[String?]] = []
        while let row = mysql_fetch_row(result) {
            let lengths = mysql_fetch_lengths(result)!
            rows.append((0..<columns).map { index in
                guard let cell = row[index] else { return nil }
                return String(decoding: UnsafeRawBufferPointer(start: cell, count: Int(lengths[index])), as: UTF8.self)
            })
        }
        return rows
    }

    public func scalar(_ sql: String) throws -> String? {
        try query(sql).first?.first ?? nil
    }

    /// Quotes a value as an SQL string literal with the connection's character set.
    public func literal(_ value: String) -> String {
        let bytes = Array(value.utf8)
        var output = [CChar](repeating: 0, count: bytes.count * 2 + 1)
        let length = bytes.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { mysql_real_escape_string(handle, &output, $0.baseAddress, UInt(bytes.count)) }
        }
        return "'" + String(decoding: output.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) + "'"
    }

    var lastError: MySQLError {
        MySQLError(String(cString: mysql_error(handle)), code: mysql_errno(handle), sqlState: String(cString: mysql_sqlstate(handle)))
    }
}
