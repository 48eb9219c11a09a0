import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport

/// Runs a closure when the restore reaches a phase (synchronously, on the restore's thread), so a
/// test can act at an exact point between check, copy and swap.
final class PhaseHook: RestoreObserver, @unchecked Sendable {
    private let prefix: String
    private let action: @Sendable () -> Void
    private let lock = NSLock()
    private var fired = false

    init(when prefix: String, _ action: @escaping @Sendable () -> Void) {
        self.prefix = prefix
        self.action = action
    }

    func phase(_ database: String, _ message: String) {
        lock.lock()
        let run = !fired && message.hasPrefix(prefix)
        if run { fired = true }
        lock.unlock()
        if run { action() }
    }

    func tableStarted(_ database: String, table: String, estimatedRows: Int) {}
    func tableProgress(_ database: String, table: String, rows: Int) {}
    func tableFinished(_ database: String, table: String, rows: Int, seconds: Double) {}
}

/// The outcome of work on another thread.
final class Outcome<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, Error>?

    /// Starts `body` on a thread of its own.
    static func start(_ body: @escaping @Sendable () throws -> Value) -> Outcome<Value> {
        let outcome = Outcome<Value>()
        Thread { outcome.set(Result { try body() }) }.start()
        return outcome
    }

    func set(_ value: Result<Value, Error>) {
        condition.lock()
        result = value
        condition.broadcast()
        condition.unlock()
    }

    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return result != nil
    }

    func wait() -> Result<Value, Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    } while Date() < deadline
    return false
}

/// Looks at the sessions on one scratch database from a connection of its own (usable from any
/// thread).
struct SessionWatch: Sendable {
    let server: ConnectionString
    let database: String

    init(_ scratch: PostgresScratch, _ suffix: String = "src") {
        server = scratch.server
        database = "\(scratch.prefix)_\(suffix)"
    }

    /// Whether the session with this application name waits for a lock.
    func waitsForLock(_ applicationName: String) throws -> Bool {
        try PostgresConnection(url: server).execute("""
            SELECT 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
             WHERE a.datname = $1 AND a.application_name = $2 AND NOT l.granted
            """, [database, applicationName]).rowCount > 0
    }

    /// Whether a session with this application name is running a statement.
    func isActive(_ applicationName: String) throws -> Bool {
        try PostgresConnection(url: server).execute("""
            SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND state = 'active'
            """, [database, applicationName]).rowCount > 0
    }
}
