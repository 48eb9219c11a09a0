import CLibPQ
import Foundation

/// The COPY sub-protocol on this connection's `PGconn *`: rows out of `COPY ... TO STDOUT`, data
/// into `COPY ... FROM STDIN`, and the statement's own results once the data is over. The COPY
/// itself is started with `execute`; `context` says what the copy is for in the errors.
extension PostgresConnection {
    /// Reads the next row of a `COPY ... TO STDOUT` (waiting for it) and appends it, newline
    /// included, to `buffer`. False when the data is over: `finishCopy` then says whether the
    /// COPY ended well. Throws when the stream broke (the server or the connection went away).
    func readCopyRow(appendingTo buffer: inout [UInt8], context: @autoclosure () -> String) throws -> Bool {
        var row: UnsafeMutablePointer<CChar>?
        let length = PQgetCopyData(handle, &row, 0)
        if length > 0, let row {
            row.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                buffer.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length)))
            }
            PQfreemem(row)
            return true
        }
        if let row { PQfreemem(row) }
        if length == -2 {
            throw PostgresError(String(cString: PQerrorMessage(handle)), context: context())
        }
        return false
    }

    /// Sends data (whole rows) to a `COPY ... FROM STDIN`.
    func sendCopyData(_ data: [UInt8], context: @autoclosure () -> String) throws {
        let status = data.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else { throw PostgresError(String(cString: PQerrorMessage(handle)), context: context()) }
    }

    /// Tells a `COPY ... FROM STDIN` that the data is over.
    func endCopyData(context: @autoclosure () -> String) throws {
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw PostgresError(String(cString: PQerrorMessage(handle)), context: context())
        }
    }

    /// After the data of either direction: the COPY statement's own results, which say whether it
    /// ended well (a source that went away mid-stream ends here with an error). Returns the rows
    /// the last result counts (what a `COPY ... FROM STDIN` loaded).
    @discardableResult
    func finishCopy(context: @autoclosure () -> String) throws -> Int {
        var rows = 0
        while let result = PQgetResult(handle) {
            let wrapped = PostgresResult(handle: result)
            guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw wrapped.error.adding(context: context()) }
            rows = wrapped.affectedRows
        }
        return rows
    }
}
