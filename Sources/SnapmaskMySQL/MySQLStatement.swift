import CMySQL

/// One prepared statement (`MYSQL_STMT *`) with text parameters, closed in `deinit`. It keeps
/// its connection open while it lives. Values travel through the binary protocol: they never
/// enter the SQL text.
final class MySQLStatement {
    let connection: MySQLConnection
    private let statement: UnsafeMutablePointer<MYSQL_STMT>
    /// The values bound last: libmysqlclient reads them when the statement executes.
    private var parameters: BoundParameters?

    /// Prepares `sql` (with `?` placeholders) on the connection.
    init(_ sql: String, on connection: MySQLConnection) throws {
        guard let statement = mysql_stmt_init(connection.handle) else { throw connection.lastError }
        self.connection = connection
        self.statement = statement
        let prepared = sql.utf8CString.withUnsafeBufferPointer { text in
            mysql_stmt_prepare(statement, text.baseAddress, UInt(text.count - 1))
        }
        guard prepared == 0 else { throw lastError }
    }

    deinit { mysql_stmt_close(statement) }

    var parameterCount: Int { Int(mysql_stmt_param_count(statement)) }

    /// Binds one text value (nil is NULL) to each placeholder.
    func bind(_ values: [String?]) throws {
        let expected = parameterCount
        guard expected == values.count else {
            throw MySQLError("the statement has \(expected) placeholders but \(values.count) values were given")
        }
        let bound = BoundParameters(values)
        if !values.isEmpty {
            guard bound.bind(to: statement) == 0 else { throw lastError }
        }
        parameters = bound
    }

    func execute() throws {
        guard mysql_stmt_execute(statement) == 0 else { throw lastError }
    }

    /// The rows the last execution changed.
    var affectedRows: Int {
        let changed = mysql_stmt_affected_rows(statement)
        return changed == UInt64.max ? 0 : Int(changed)
    }

    private var lastError: MySQLError {
        MySQLError(String(cString: mysql_stmt_error(statement)), code: mysql_stmt_errno(statement),
                   sqlState: String(cString: mysql_stmt_sqlstate(statement)))
    }
}

/// Text values laid out as `MYSQL_BIND` points to them, in memory this object owns and frees.
private final class BoundParameters {
    private let buffers: [UnsafeMutableBufferPointer<UInt8>?]
    private let lengths: UnsafeMutableBufferPointer<UInt>
    private let nulls: UnsafeMutableBufferPointer<my_bool>

    init(_ values: [String?]) {
        buffers = values.map { value -> UnsafeMutableBufferPointer<UInt8>? in
            guard let value else { return nil }
            let bytes = Array(value.utf8)
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, bytes.count))
            _ = buffer.initialize(from: bytes)
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<bytes.count])
        }
        lengths = .allocate(capacity: max(1, values.count))
        nulls = .allocate(capacity: max(1, values.count))
    }

    deinit {
        for buffer in buffers { buffer?.baseAddress?.deallocate() }
        lengths.deallocate()
        nulls.deallocate()
    }

    /// `mysql_stmt_bind_param` with one string parameter per value (it copies the binds, not
    /// the values: this object must live until the statement has executed).
    func bind(to statement: UnsafeMutablePointer<MYSQL_STMT>) -> my_bool {
        var binds = [MYSQL_BIND](repeating: MYSQL_BIND(), count: buffers.count)
        for index in buffers.indices {
            lengths[index] = UInt(buffers[index]?.count ?? 0)
            nulls[index] = buffers[index] == nil ? 1 : 0
            binds[index].buffer_type = MYSQL_TYPE_STRING
            binds[index].buffer = UnsafeMutableRawPointer(buffers[index]?.baseAddress)
            binds[index].buffer_length = UInt(buffers[index]?.count ?? 0)
            binds[index].length = lengths.baseAddress! + index
            binds[index].is_null = nulls.baseAddress! + index
        }
        return binds.withUnsafeMutableBufferPointer { mysql_stmt_bind_param(statement, $0.baseAddress) }
    }
}
