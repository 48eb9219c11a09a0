import CLibPQ
import Foundation
import Snapmask

/// Streams one table out of the source with `COPY ... TO STDOUT` (text format) in batches of
/// about a megabyte of whole rows.
final class PostgresCopyReader: BatchReader {
    static let batchBytes = 1 << 20

    private let connection: PostgresConnection
    private let table: String
    private var rowsSoFar = 0
    private var finished = false

    /// Starts the COPY on a connection that already sits in the source snapshot. `partitions`
    /// (for a preview of a partitioned table) reads those tables instead of `plan`'s own rows.
    /// The `where:` goes on lines of its own, so a trailing `--` comment cannot swallow the
    /// closing parenthesis, and the statement goes through the extended protocol, which runs
    /// exactly one statement whatever the condition holds.
    init(connection: PostgresConnection, plan: TablePlan, limit: Int? = nil, partitions: [String]? = nil) throws {
        self.connection = connection
        table = plan.name
        let columns = PostgresIdentifier.columnList(plan.columns.map(\.name))
        let condition = plan.whereClause.map { " WHERE (\n\($0)\n)" } ?? ""
        let sql: String
        if let partitions, !partitions.isEmpty {
            let union = partitions.map { "SELECT \(columns) FROM ONLY \($0)\(condition)" }.joined(separator: " UNION ALL ")
            sql = "COPY (SELECT * FROM (\(union)) AS leaves\(limit.map { " LIMIT \($0)" } ?? "")) TO STDOUT"
        } else if plan.whereClause != nil || limit != nil {
            let rows = limit.map { " LIMIT \($0)" } ?? ""
            sql = "COPY (SELECT \(columns) FROM ONLY \(PostgresIdentifier.qualified(plan.name))\(condition)\(rows)) TO STDOUT"
        } else {
            sql = "COPY \(PostgresIdentifier.qualified(plan.name)) (\(columns)) TO STDOUT"
        }
        do {
            try connection.execute(sql, [])
        } catch let error as PostgresError {
            throw error.adding(context: "reading \(plan.name) from the source"
                                   + (plan.whereClause != nil ? " (check its where: condition)" : ""))
        }
    }

    func next() throws -> RowBatch? {
        if finished { return nil }
        var data: [UInt8] = []
        data.reserveCapacity(Self.batchBytes + 64 * 1024)
        var rows = 0
        let first = rowsSoFar
        while data.count < Self.batchBytes {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection.handle, &buffer, 0)
            if length > 0, let buffer {
                buffer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                    data.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length)))
                }
                PQfreemem(buffer)
                rows += 1
                continue
            }
            if let buffer { PQfreemem(buffer) }
            try finishCopy(length)
            finished = true
            break
        }
        rowsSoFar += rows
        return rows == 0 && finished ? nil : RowBatch(data: data, rowCount: rows, firstRow: first)
    }

    /// After the last row: the COPY's own result says whether it ended well (a source that
    /// went away mid-stream ends here with an error).
    private func finishCopy(_ code: Int32) throws {
        if code == -2 {
            throw PostgresError(String(cString: PQerrorMessage(connection.handle)),
                                context: "reading \(table) from the source (the stream broke after \(rowsSoFar) rows)")
        }
        while let result = PQgetResult(connection.handle) {
            let wrapped = PostgresResult(handle: result)
            if PQresultStatus(result) != PGRES_COMMAND_OK {
                throw wrapped.error.adding(context: "reading \(table) from the source")
            }
        }
    }
}

/// Loads one table of the shadow copy with `COPY ... FROM STDIN`, a whole batch per call.
final class PostgresCopyWriter: BatchWriter {
    private let connection: PostgresConnection
    private let table: String

    init(connection: PostgresConnection, plan: TablePlan) throws {
        self.connection = connection
        table = plan.name
        let sql = "COPY \(PostgresIdentifier.qualified(plan.name)) (\(PostgresIdentifier.columnList(plan.columns.map(\.name)))) FROM STDIN"
        do {
            try connection.execute("SET synchronous_commit = off")
            try connection.execute(sql)
        } catch let error as PostgresError {
            throw error.adding(context: "loading \(plan.name) into the shadow copy")
        }
    }

    func write(_ batch: RowBatch) throws {
        let status = batch.data.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(connection.handle, $0.baseAddress, Int32($0.count)) }
        }
        guard status == 1 else { throw failure("sending rows") }
    }

    func finish() throws -> Int {
        guard PQputCopyEnd(connection.handle, nil) == 1 else { throw failure("ending the copy") }
        var rows = 0
        while let result = PQgetResult(connection.handle) {
            let wrapped = PostgresResult(handle: result)
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                throw wrapped.error.adding(context: "loading \(table) into the shadow copy")
            }
            rows = wrapped.affectedRows
        }
        return rows
    }

    private func failure(_ what: String) -> PostgresError {
        PostgresError(String(cString: PQerrorMessage(connection.handle)), context: "loading \(table) into the shadow copy (\(what))")
    }
}
