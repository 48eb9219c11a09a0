import Snapmask

/// Streams one table out of the source with `mysql_use_result` (rows arrive as the server sends
/// them; nothing is buffered beyond one row) and turns the rows into LOAD DATA's text format
/// (tab-separated, backslash escapes, `\N` for NULL) in batches of about a megabyte.
final class MySQLBatchReader: BatchReader {
    static let batchBytes = 1 << 20

    private var connection: MySQLConnection?
    private let source: MySQLSource
    private let table: String
    private var result: MySQLResult?
    private let columnCount: Int
    private var rowsSoFar = 0
    private var finished = false
    private var failed = false

    init(connection: MySQLConnection, source: MySQLSource, plan: TablePlan) throws {
        var sql = "SELECT \(MySQLValueTransport.selectList(plan)) FROM \(MySQLIdentifier.qualified(source.database, plan.name))"
        if let condition = try MySQLSource.whereSQL(of: plan) { sql += " WHERE \(condition)" }
        if let scan = plan.keyScan {
            if let order = scan.orderBy {
                sql += "\n ORDER BY \(order)\n"
            } else if let columns = scan.orderColumns {
                sql += " ORDER BY " + columns.map(MySQLIdentifier.quoted).joined(separator: ", ")
            }
            if let limit = scan.limit { sql += " LIMIT \(limit)" }
        }
        self.connection = connection
        self.source = source
        table = plan.name
        columnCount = plan.columns.count
        do {
            try MySQLSource.verifyColumns(plan, on: connection, database: source.database)
        } catch let error as MySQLError {
            self.connection = nil
            throw error.adding(context: "reading \(plan.name) from the source")
        }
        do {
            try connection.send(sql)
            result = try MySQLResult.stream(connection)
        } catch let error as MySQLError {
            // makeReader gives the connection back (it is still in its snapshot); without this, deinit
            // would report the read abandoned and mark the whole snapshot unusable, and a waiting
            // table could report that instead of this error.
            self.connection = nil
            throw error.adding(context: "reading \(plan.name) from the source"
                                   + (plan.whereClause != nil ? " (check its where: condition)" : ""))
        }
    }

    func next() throws -> RowBatch? {
        guard !finished, let result else { return nil }
        var buffer = RowBuffer(capacity: Self.batchBytes + 64 * 1024)
        var rows = 0
        let first = rowsSoFar
        while buffer.count < Self.batchBytes {
            let fetched: MySQLRow?
            do {
                fetched = try result.nextRow()
            } catch let error as MySQLError {
                failed = true
                throw error.adding(context: "reading \(table) from the source (the stream broke after \(rowsSoFar + rows) rows)")
            }
            guard let row = fetched else {
                finished = true
                break
            }
            for index in 0..<columnCount {
                if index > 0 { buffer.append(UInt8(ascii: "\t")) }
                if let cell = row[index] {
                    buffer.appendEscaped(cell.baseAddress!, count: cell.count)
                } else {
                    buffer.appendNull()
                }
            }
            buffer.append(UInt8(ascii: "\n"))
            rows += 1
        }
        rowsSoFar += rows
        return rows == 0 && finished ? nil : RowBatch(data: buffer.bytes, rowCount: rows, firstRow: first)
    }

    /// A table read to its end gives its connection back to the pool. An abandoned or broken one
    /// is closed without reading the rest (MySQLResult leaves an unfinished stream unread).
    func close() {
        guard let connection else { return }
        self.connection = nil
        result = nil
        if finished && !failed {
            try? source.giveBack(connection)
        } else {
            source.lost(failed ? "reading \(table) failed" : "reading \(table) was abandoned")
        }
    }

    deinit { close() }
}

/// One batch of LOAD DATA text being built. Values are escaped, and NULL written, by the same
/// functions that write the masker's output (DelimitedText, MySQL dialect): kept and masked
/// values reach the server in one format.
struct RowBuffer {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    var count: Int { bytes.count }

    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func appendEscaped(_ source: UnsafePointer<UInt8>, count length: Int) {
        DelimitedText.appendEscaped(UnsafeBufferPointer(start: source, count: length), to: &bytes, dialect: .mysql)
    }

    mutating func appendNull() {
        DelimitedText.appendNull(to: &bytes)
    }
}
