import CMySQL
import Foundation
import Snapmask

/// What the LOAD DATA thread reads from: batches `write()` puts into a bounded queue, handed to
/// libmysqlclient's local-infile callbacks piece by piece. No file is ever written. The callbacks
/// are C function pointers and cannot capture anything: they find this object through the
/// handler's user-data pointer (an `Unmanaged` reference kept alive by the writer).
final class InfileFeed: @unchecked Sendable {
    let queue = BoundedQueue<RowBatch>(capacity: 2)
    // Used only by the LOAD DATA thread inside the callbacks.
    private var current: [UInt8] = []
    private var offset = 0
    private(set) var failure: String?

    /// Fills `buffer` with up to `capacity` bytes; 0 at the end of the data, -1 when the load was
    /// cancelled (the statement then fails and its rows are never swapped in).
    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int32 {
        while offset >= current.count {
            do {
                guard let batch = try queue.take() else { return 0 }
                current = batch.data
                offset = 0
            } catch {
                failure = "the copy was cancelled"
                return -1
            }
        }
        let count = min(capacity, current.count - offset)
        current.withUnsafeBufferPointer { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return Int32(count)
    }
}

private let infileInit: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafePointer<CChar>?,
                                        UnsafeMutableRawPointer?) -> Int32 = { state, _, userData in
    state?.pointee = userData
    return 0
}

private let infileRead: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, UInt32) -> Int32 = {
    state, buffer, capacity in
    guard let state, let buffer else { return -1 }
    return Unmanaged<InfileFeed>.fromOpaque(state).takeUnretainedValue().read(into: buffer, capacity: Int(capacity))
}

private let infileEnd: @convention(c) (UnsafeMutableRawPointer?) -> Void = { _ in }

private let infileError: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, UInt32) -> Int32 = {
    state, buffer, capacity in
    let message = state.flatMap { Unmanaged<InfileFeed>.fromOpaque($0).takeUnretainedValue().failure } ?? "the copy was cancelled"
    if let buffer, capacity > 0 {
        let bytes = Array(message.utf8.prefix(Int(capacity) - 1))
        for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        buffer[bytes.count] = 0
    }
    return 2000  // CR_UNKNOWN_ERROR
}

/// Loads one table of the shadow copy with one `LOAD DATA LOCAL INFILE` statement fed from memory.
/// A thread of its own runs the statement (it blocks until the last byte); `write()` hands it
/// batches through the feed's bounded queue, so at most a few batches are in memory.
///
/// With LOCAL, the server turns data errors into warnings (it cannot stop the client mid-file),
/// so any warning fails the table: nothing truncated or converted ever reaches staging.
final class MySQLLoadWriter: BatchWriter {
    private let table: String
    private let feed = InfileFeed()
    private let feedReference: Unmanaged<InfileFeed>
    private let outcome = LoadOutcome()
    private let done = DispatchSemaphore(value: 0)
    private var ended = false

    init(connection: MySQLConnection, plan: TablePlan, maskedColumns: Set<String> = [], characterSet: String = "utf8mb4") throws {
        table = plan.name
        // The file name only labels the statement (the handler ignores it), but it is a string
        // literal: a table name ending in a backslash would otherwise escape its closing quote.
        let sql = "LOAD DATA LOCAL INFILE \(connection.literal("snapmask:" + plan.name)) "
            + "INTO TABLE \(MySQLIdentifier.quoted(plan.name)) CHARACTER SET \(characterSet) "
            + "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' "
            + MySQLValueTransport.loadColumns(plan, maskedColumns: maskedColumns)
        feedReference = Unmanaged.passRetained(feed)
        mysql_set_local_infile_handler(connection.handle, infileInit, infileRead, infileEnd, infileError,
                                       feedReference.toOpaque())
        let handOff = LoadHandOff(connection: connection, outcome: outcome, queue: feed.queue, done: done)
        let thread = Thread {
            handOff.run(sql)
        }
        thread.name = "load-\(plan.name)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    func write(_ batch: RowBatch) throws {
        do {
            try feed.queue.put(batch)
        } catch {
            // The statement ended early: its own error says why.
            waitForStatement()
            throw outcome.error.map { MySQLLocalInfile.explained($0).adding(context: "loading \(table) into the shadow copy") }
                ?? error
        }
    }

    func finish() throws -> Int {
        feed.queue.close()
        waitForStatement()
        if let error = outcome.error { throw MySQLLocalInfile.explained(error).adding(context: "loading \(table) into the shadow copy") }
        if !outcome.warnings.isEmpty {
            // MariaDB's 4025 and MySQL's 3819: a CHECK constraint refused the row.
            let advice = outcome.warnings.contains { $0.hasPrefix("Warning 4025:") || $0.hasPrefix("Warning 3819:") }
                ? LoadAdvice.checkConstraint : "Check the column types and the transformers' output (max_length)."
            throw MySQLError("the server changed or dropped values while loading (\(outcome.warningCount) warnings, e.g. "
                                 + outcome.warnings.joined(separator: "; ") + "); nothing was swapped in. " + advice,
                             context: "loading \(table) into the shadow copy")
        }
        return outcome.rows
    }

    private func waitForStatement() {
        guard !ended else { return }
        done.wait()
        ended = true
    }

    deinit {
        // Abandoned (another table failed): cancel the statement and wait for its thread.
        feed.queue.fail(LoadCancelled())
        waitForStatement()
        feedReference.release()
    }
}

struct LoadCancelled: Error {}

/// LOAD DATA LOCAL INFILE is off on the server by default since MySQL 8.0 (Aurora MySQL 3 and RDS
/// included, where it is a parameter group setting); snapmask loads with nothing else.
enum MySQLLocalInfile {
    static let advice = "snapmask loads with LOAD DATA LOCAL INFILE, which the staging server refuses: enable it there. "
        + "On RDS and Aurora MySQL set local_infile = 1 in the DB cluster (or DB) parameter group the staging server "
        + "uses; elsewhere SET PERSIST local_infile = 1 (MySQL 8) or local_infile=1 in the server's configuration (MariaDB)"

    /// Refusals of LOAD DATA LOCAL: by the server (MariaDB 1148 and 4166, MySQL 8's 3948) or by the
    /// client library (2068).
    static func isRefusal(_ error: MySQLError) -> Bool { [1148, 3948, 4166, 2068].contains(error.code) }

    /// The error, with what to do when it is such a refusal.
    static func explained(_ error: MySQLError) -> MySQLError {
        guard isRefusal(error) else { return error }
        var explained = error
        explained.message += "; " + advice
        return explained
    }
}

/// What the LOAD DATA statement did, written by its thread before it signals `done`.
final class LoadOutcome: @unchecked Sendable {
    var rows = 0
    var warningCount = 0
    var warnings: [String] = []
    var error: MySQLError?
}

/// Moves the connection to the thread that runs the statement; from then on only that thread
/// uses it, and the connection is closed when the thread ends.
final class LoadHandOff: @unchecked Sendable {
    private var connection: MySQLConnection?
    private let outcome: LoadOutcome
    private let queue: BoundedQueue<RowBatch>
    private let done: DispatchSemaphore

    init(connection: MySQLConnection, outcome: LoadOutcome, queue: BoundedQueue<RowBatch>, done: DispatchSemaphore) {
        self.connection = connection
        self.outcome = outcome
        self.queue = queue
        self.done = done
    }

    func run(_ sql: String) {
        defer {
            connection = nil
            // A statement that ended without reading to the end (refused at once, or broken) must
            // not leave write() waiting for room in the queue.
            if outcome.error != nil { queue.fail(LoadCancelled()) }
            done.signal()
        }
        guard let connection else { return }
        do {
            try connection.query(sql)
            outcome.rows = connection.affectedRows
            outcome.warningCount = connection.warningCount
            if outcome.warningCount > 0 {
                // Three different ones: every row a constraint refuses repeats the same message.
                var seen = Set<String>()
                outcome.warnings = Array(try connection.query("SHOW WARNINGS LIMIT 100").map { row in
                    "\(row[0] ?? "") \(row[1] ?? ""): \(row[2] ?? "")"
                }.filter { seen.insert($0).inserted }.prefix(3))
            }
        } catch let error as MySQLError {
            outcome.error = error
        } catch {
            outcome.error = MySQLError("\(error)")
        }
    }
}
