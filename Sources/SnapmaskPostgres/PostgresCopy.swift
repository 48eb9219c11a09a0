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
        var conditions = plan.whereClause.map { ["(\n\($0)\n)"] } ?? []
        // A slice is a range of heap pages: a TID range scan (PostgreSQL 14) reads only those.
        if let lower = plan.slice?.lower { conditions.append("ctid >= '(\(lower),0)'::tid") }
        if let upper = plan.slice?.upper { conditions.append("ctid < '(\(upper),0)'::tid") }
        if let root = plan.keyScan?.condition { conditions.append("(\n\(root)\n)") }
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql: String
        if let scan = plan.keyScan {
            let order = scan.orderBy.map { "\n ORDER BY \($0)\n" }
                ?? scan.orderColumns.map { " ORDER BY " + PostgresIdentifier.columnList($0) } ?? ""
            sql = "COPY (SELECT \(columns) FROM ONLY \(PostgresIdentifier.qualified(plan.name))\(condition)\(order)"
                + (scan.limit.map { " LIMIT \($0)" } ?? "") + ") TO STDOUT"
        } else if let partitions, !partitions.isEmpty {
            let union = partitions.map { "SELECT \(columns) FROM ONLY \($0)\(condition)" }.joined(separator: " UNION ALL ")
            sql = "COPY (SELECT * FROM (\(union)) AS leaves\(limit.map { " LIMIT \($0)" } ?? "")) TO STDOUT"
        } else if !conditions.isEmpty || limit != nil {
            let rows = limit.map { " LIMIT \($0)" } ?? ""
            sql = "COPY (SELECT \(columns) FROM ONLY \(PostgresIdentifier.qualified(plan.name))\(condition)\(rows)) TO STDOUT"
        } else {
            sql = "COPY \(PostgresIdentifier.qualified(plan.name)) (\(columns)) TO STDOUT"
        }
        do {
            try connection.execute(sql, [])
        } catch let error as PostgresError {
            throw error.adding(context: (plan.keyScan != nil ? "reading the subset keys of \(plan.name)" : "reading \(plan.name)")
                                   + " from the source" + (plan.whereClause != nil || plan.keyScan?.condition != nil
                                                             ? " (check its where: condition and the subset's)" : ""))
        }
    }

    func next() throws -> RowBatch? {
        if finished { return nil }
        var data: [UInt8] = []
        data.reserveCapacity(Self.batchBytes + 64 * 1024)
        var rows = 0
        let first = rowsSoFar
        while data.count < Self.batchBytes {
            let more = try connection.readCopyRow(
                appendingTo: &data, context: "reading \(table) from the source (the stream broke after \(rowsSoFar) rows)")
            if more {
                rows += 1
                continue
            }
            // After the last row: the COPY's own result says whether it ended well.
            try connection.finishCopy(context: "reading \(table) from the source")
            finished = true
            break
        }
        rowsSoFar += rows
        return rows == 0 && finished ? nil : RowBatch(data: data, rowCount: rows, firstRow: first)
    }
}

extension PostgresCopyWriter {
    /// A row the shadow refused, with what to do: the value shown is the masked one (the source's
    /// rows passed the same constraint), so the rule is what has to change.
    static func explained(_ error: PostgresError) -> PostgresError {
        guard error.sqlState == "23514" else { return error }
        var explained = error
        explained.message = error.message.trimmingCharacters(in: .whitespacesAndNewlines) + "\n" + LoadAdvice.checkConstraint
        return explained
    }
}

/// Loads one table of the shadow copy with `COPY ... FROM STDIN`, a whole batch per call.
///
/// A whole table is emptied and loaded in one transaction with `COPY ... FREEZE`: rows written
/// frozen are visible to every later transaction without hint bits, so the index builds, the
/// leak check and the first reads on staging do not rewrite every page, and no anti-wraparound
/// vacuum has to visit the table later. The shadow is new and only snapmask's own sessions see
/// it, and foreign keys and triggers come after the load, so the TRUNCATE empties nothing and
/// blocks nobody. A slice of a table is loaded beside the table's other slices, so it cannot
/// take the TRUNCATE's exclusive lock: it is a plain COPY.
final class PostgresCopyWriter: BatchWriter {
    private let connection: PostgresConnection
    private let table: String
    private let frozen: Bool

    init(connection: PostgresConnection, plan: TablePlan) throws {
        self.connection = connection
        table = plan.name
        frozen = plan.slice == nil
        let name = PostgresIdentifier.qualified(plan.name)
        let sql = "COPY \(name) (\(PostgresIdentifier.columnList(plan.columns.map(\.name)))) FROM STDIN"
        do {
            try connection.execute("SET synchronous_commit = off")
            if frozen {
                try connection.execute("BEGIN")
                try connection.execute("TRUNCATE ONLY \(name)")
                try connection.execute(sql + " WITH (FREEZE)")
            } else {
                try connection.execute(sql)
            }
        } catch let error as PostgresError {
            throw error.adding(context: "loading \(plan.name) into the shadow copy")
        }
    }

    func write(_ batch: RowBatch) throws {
        do {
            try connection.sendCopyData(batch.data, context: "loading \(table) into the shadow copy (sending rows)")
        } catch let error as PostgresError {
            throw Self.explained(error)
        }
    }

    func finish() throws -> Int {
        let rows: Int
        do {
            try connection.endCopyData(context: "loading \(table) into the shadow copy (ending the copy)")
            rows = try connection.finishCopy(context: "loading \(table) into the shadow copy")
        } catch let error as PostgresError {
            throw Self.explained(error)
        }
        guard frozen else { return rows }
        do {
            try connection.execute("COMMIT")
        } catch let error as PostgresError {
            throw error.adding(context: "loading \(table) into the shadow copy (committing)")
        }
        return rows
    }
}
