import Foundation
import Logging
import Snapmask

/// Reports a restore's progress through the log: phases, and per table its start, progress
/// (at most every few seconds) and end with rows/s.
final class ConsoleObserver: RestoreObserver, @unchecked Sendable {
    private let logger: Logger
    private let lock = NSLock()
    private var lastReport: [String: Date] = [:]
    private var estimates: [String: Int] = [:]
    private var started: [String: Date] = [:]

    /// On a terminal, tables show as live progress lines instead of progress log lines.
    private let live: Bool

    init(logger: Logger, live: Bool = isatty(STDERR_FILENO) == 1) {
        self.logger = logger
        self.live = live
    }

    func phase(_ database: String, _ message: String) {
        logger.info("\(message)", metadata: ["database": "\(database)"])
    }

    func tableStarted(_ database: String, table: String, estimatedRows: Int) {
        lock.lock()
        estimates[table] = estimatedRows
        started[table] = Date()
        lastReport[table] = Date()
        lock.unlock()
        if live { TerminalProgress.shared.started(table, estimate: estimatedRows) }
        logger.info("copying \(table)", metadata: ["database": "\(database)", "table": "\(table)",
                                                  "event": "table_started", "estimated_rows": "\(estimatedRows)"])
    }

    func tableProgress(_ database: String, table: String, rows: Int) {
        if live {
            TerminalProgress.shared.progress(table, rows: rows)
            return
        }
        lock.lock()
        let now = Date()
        guard let last = lastReport[table], now.timeIntervalSince(last) >= 5, let start = started[table] else {
            lock.unlock()
            return
        }
        lastReport[table] = now
        let estimate = estimates[table] ?? 0
        lock.unlock()
        let rate = Double(rows) / max(now.timeIntervalSince(start), 0.001)
        var metadata: Logger.Metadata = ["database": "\(database)", "table": "\(table)", "event": "table_progress",
                                         "rows": "\(rows)", "rows_per_s": "\(Int(rate))"]
        if estimate > rows, rate > 0 { metadata["eta_s"] = "\(Int(Double(estimate - rows) / rate))" }
        logger.info("\(table): \(rows) rows", metadata: metadata)
    }

    func tableFinished(_ database: String, table: String, rows: Int, seconds: Double) {
        if live { TerminalProgress.shared.finished(table) }
        logger.info("copied \(table): \(rows) rows in \(String(format: "%.1f", seconds)) s",
                    metadata: ["database": "\(database)", "table": "\(table)", "event": "table_finished", "rows": "\(rows)",
                               "rows_per_s": "\(Int(Double(rows) / max(seconds, 0.001)))",
                               "duration_s": "\(String(format: "%.3f", seconds))"])
    }

    func runStarted(databases: Int, origin: String) {
        logger.info("run started: \(databases) databases from \(origin)", metadata: ["event": "run_started"])
    }

    func databaseDone(_ database: String, rows: Int) {
        logger.info("\(database) restored", metadata: ["database": "\(database)", "event": "database_done", "rows": "\(rows)"])
    }

    func databaseFailed(_ database: String, error: any Error) {
        logger.error("\(database) failed: \(error)", metadata: ["database": "\(database)", "event": "database_failed"])
    }

    func warning(_ database: String, _ message: String) {
        logger.warning("\(message)", metadata: ["database": "\(database)", "event": "warning"])
    }
}
