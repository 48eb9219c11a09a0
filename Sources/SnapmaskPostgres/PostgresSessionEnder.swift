import Foundation
import Snapmask

/// Ends the sessions on a database while the swap's rename waits for them: the rename holds the
/// database's lock (new sessions wait at their start) and gives the others a few seconds to go;
/// this ends them, from a connection of its own, until told to stop.
final class SessionEnder: @unchecked Sendable {
    private let url: ConnectionString
    private let database: String
    private let condition = NSCondition()
    private var stopped = false
    private var done = false

    init(url: ConnectionString, database: String) {
        self.url = url
        self.database = database
    }

    func start() {
        let thread = Thread { [self] in
            defer {
                condition.lock()
                done = true
                condition.broadcast()
                condition.unlock()
            }
            // Without it the rename gives up on the remaining sessions, and the swap names them.
            guard let connection = try? PostgresConnection(url: url, applicationName: "snapmask swap") else { return }
            while true {
                condition.lock()
                if stopped {
                    condition.unlock()
                    return
                }
                condition.unlock()
                _ = try? connection.execute("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = $1 AND pid <> pg_backend_pid()
                    """, [database])
                condition.lock()
                if !stopped { _ = condition.wait(until: Date().addingTimeInterval(0.1)) }
                condition.unlock()
            }
        }
        thread.name = "swap-end-sessions"
        thread.start()
    }

    /// Stops and waits for the thread to finish.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !done { condition.wait() }
        condition.unlock()
    }
}
