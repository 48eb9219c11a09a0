import CMySQL

/// One result set (`MYSQL_RES *`) of a connection, freed in `deinit`. It keeps its connection
/// open while it lives.
///
/// A stored result (`mysql_store_result`) is in memory whole. A streamed one (`mysql_use_result`)
/// hands the rows over as the server sends them, and its connection can run nothing else until
/// the last row has been read. A streamed result dropped before its end is freed without reading
/// the rest (`mysql_free_result` would otherwise fetch every remaining row first), which leaves
/// its connection unusable: whoever abandons a stream drops its connection as well.
final class MySQLResult {
    let connection: MySQLConnection
    private let result: UnsafeMutablePointer<MYSQL_RES>
    private let streamed: Bool
    let columnCount: Int
    /// The last row was read (a streamed result ended cleanly: its connection is usable again).
    private var isAtEnd = false

    private init(_ result: UnsafeMutablePointer<MYSQL_RES>, of connection: MySQLConnection, streamed: Bool) {
        self.connection = connection
        self.result = result
        self.streamed = streamed
        columnCount = Int(mysql_num_fields(result))
    }

    /// The rows of the statement that just ran on `connection`, read into memory whole; nil when
    /// the statement returns no rows.
    static func store(_ connection: MySQLConnection) throws -> MySQLResult? {
        guard let result = mysql_store_result(connection.handle) else {
            if mysql_field_count(connection.handle) != 0 { throw connection.lastError }
            return nil
        }
        return MySQLResult(result, of: connection, streamed: false)
    }

    /// The rows of the statement that just ran on `connection`, as the server sends them.
    static func stream(_ connection: MySQLConnection) throws -> MySQLResult {
        guard let result = mysql_use_result(connection.handle) else { throw connection.lastError }
        return MySQLResult(result, of: connection, streamed: true)
    }

    /// The next row (valid until the next call), or nil after the last. Throws when the stream
    /// broke (the connection was lost or the statement failed on the server mid-way).
    func nextRow() throws -> MySQLRow? {
        guard let row = mysql_fetch_row(result) else {
            if streamed && mysql_errno(connection.handle) != 0 { throw connection.lastError }
            isAtEnd = true
            return nil
        }
        return MySQLRow(cells: row, lengths: mysql_fetch_lengths(result)!, count: columnCount)
    }

    /// Every row (those not read yet) as text, nil for NULL.
    func rows() throws -> [[String?]] {
        var rows: [[String?]] = []
        while let row = try nextRow() {
            rows.append((0..<row.count).map(row.text))
        }
        return rows
    }

    deinit {
        if streamed && !isAtEnd { result.pointee.handle = nil }
        mysql_free_result(result)
    }
}

/// One row of a result: its cells point into the result's memory, valid until the next row is
/// fetched.
struct MySQLRow {
    fileprivate let cells: MYSQL_ROW
    fileprivate let lengths: UnsafeMutablePointer<UInt>
    let count: Int

    /// The bytes of cell `index` as the server sent them, nil for NULL.
    subscript(index: Int) -> UnsafeBufferPointer<UInt8>? {
        guard let cell = cells[index] else { return nil }
        return UnsafeBufferPointer(start: UnsafeRawPointer(cell).assumingMemoryBound(to: UInt8.self), count: Int(lengths[index]))
    }

    /// Cell `index` as text, nil for NULL.
    func text(_ index: Int) -> String? {
        self[index].map { String(decoding: $0, as: UTF8.self) }
    }
}
