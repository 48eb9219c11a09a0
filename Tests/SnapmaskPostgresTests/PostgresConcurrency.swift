import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport

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
