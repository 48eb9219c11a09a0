import Foundation
import Snapmask

/// Which server answered a session: the Aurora instance where `aurora_db_instance_identifier()`
/// exists, else the server's address, port and start time (two servers never share all three).
enum PostgresInstance {
    static func of(_ connection: PostgresConnection) throws -> String {
        if try connection.scalar("SELECT (to_regprocedure('aurora_db_instance_identifier()') IS NOT NULL)::text") == "true",
           let name = try? connection.scalar("SELECT aurora_db_instance_identifier()") {
            return "Aurora instance \(name)"
        }
        let row = try connection.execute("""
            SELECT COALESCE(host(inet_server_addr()), 'a local socket'),
                   COALESCE(inet_server_port()::text, current_setting('port')), pg_postmaster_start_time()::text
            """, []).rows.first ?? []
        guard row.count == 3 else { throw PostgresError("the server did not say which server it is") }
        return "server \(row[0] ?? "?") port \(row[1] ?? "?") started \(row[2] ?? "?")"
    }
}

/// How reader sessions are opened and told apart. The defaults connect to the source URL and ask
/// the server; tests put sessions on another server to play a cluster's reader endpoint.
struct PostgresReaderPlacement: Sendable {
    var connect: @Sendable (ConnectionString, String) throws -> PostgresConnection = { url, name in
        try PostgresConnection(url: url, applicationName: name, readOnly: true)
    }
    var instance: @Sendable (PostgresConnection) throws -> String = { try PostgresInstance.of($0) }
    /// Connections tried per session before giving up on the snapshot's instance.
    var tries = 4
    /// The pause before retry n (1, 2, ...): an endpoint's DNS answer is cached along the way (by
    /// the cluster's resolver, for its TTL of a few seconds), so an immediate retry would land
    /// on the same replica.
    var pause: @Sendable (Int) -> TimeInterval = { min(2, 0.5 * Double(1 << min($0 - 1, 4))) }

    init() {}
}

/// The sessions that read tables inside the coordinator's exported snapshot, opened up front.
///
/// An exported snapshot exists on the instance that exported it only. Through a cluster's reader
/// endpoint (Aurora's `cluster-ro`), each new connection may land on another replica, where
/// `SET TRANSACTION SNAPSHOT` fails. So every reader session says which instance it is on; one
/// that landed elsewhere is closed and opened again (a few tries, pausing between them); when
/// that does not bring it to the coordinator's instance, the run reads with the sessions that
/// did get there, and with none, on the coordinator's own session, one table after another
/// (still one snapshot for every table), and says so.
///
/// A session serves one table at a time (`take`, then `finished`); the coordinator serves the
/// source's own queries (`withCoordinator`) and, when no reader session could be had, the tables.
final class PostgresReaderSessions: @unchecked Sendable {
    enum Lease {
        case session(PostgresConnection)
        case coordinator
    }

    static let savepoint = "snapmask_read"

    /// Only touched by whoever holds it (a `.coordinator` lease, or inside `withCoordinator`).
    let coordinator: PostgresConnection
    let home: String
    private let url: ConnectionString
    private let placement: PostgresReaderPlacement
    /// What opening the sessions found, when it is not what was asked for.
    let notice: String?

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var live = 0
    private var capacity: Int
    private var coordinatorBusy = false
    private var broken: String?
    private var closed = false

    /// `home`: the coordinator's instance, as `placement.instance` described it.
    init(coordinator: PostgresConnection, home: String, url: ConnectionString, database: String, wanted: Int,
         placement: PostgresReaderPlacement) throws {
        self.coordinator = coordinator
        self.home = home
        self.url = url
        self.placement = placement
        var opened: [PostgresConnection] = []
        var elsewhere: [String] = []
        // After one session could not reach the instance, the next would most likely not either:
        // the run goes on with what it has rather than pause for each.
        while opened.count < wanted, elsewhere.isEmpty {
            switch try Self.open(url: url, placement: placement, home: home) {
            case let .landed(session): opened.append(session)
            case let .elsewhere(seen): elsewhere = seen
            }
        }
        idle = opened
        live = opened.count
        capacity = opened.count
        guard !elsewhere.isEmpty else {
            notice = nil
            return
        }
        let seen = Array(Set(elsewhere)).sorted().joined(separator: "; ")
        let why = "reader sessions through \(url.hosts) reached another instance (\(seen)) than the snapshot's "
            + "(\(home)) \(placement.tries) times in a row, and an exported snapshot exists on its own instance only (a "
            + "cluster's reader endpoint spreads sessions over its replicas)"
        let still = "; every table is still read inside the same snapshot. To read in parallel, point the source URL at "
            + "one instance's endpoint"
        if opened.isEmpty {
            notice = "\(why): reading \(database) on the snapshot's own session, table after table"
                + (wanted > 1 ? ", instead of \(wanted) tables at once" : "") + still
        } else {
            notice = "\(why): reading \(database) on the \(opened.count) sessions that reached it, instead of \(wanted)" + still
        }
    }

    enum Opened {
        case landed(PostgresConnection)
        /// The instances the tries reached instead.
        case elsewhere([String])
    }

    static func open(url: ConnectionString, placement: PostgresReaderPlacement, home: String) throws -> Opened {
        var seen: [String] = []
        for attempt in 1...max(1, placement.tries) {
            if attempt > 1 { Thread.sleep(forTimeInterval: placement.pause(attempt - 1)) }
            let session = try placement.connect(url, "snapmask read")
            let instance = try placement.instance(session)
            if instance == home { return .landed(session) }
            seen.append(instance)
        }
        return .elsewhere(seen)
    }

    /// A session for one table, or the coordinator when there is none; waits while all are in use.
    func take() throws -> Lease {
        condition.lock()
        defer { condition.unlock() }
        while true {
            try usable()
            if let session = idle.popLast() { return .session(session) }
            if live < capacity {
                // A session dropped after a failed read is replaced, on the same terms.
                live += 1
                condition.unlock()
                let outcome = Result { try Self.open(url: url, placement: placement, home: home) }
                condition.lock()
                switch outcome {
                case let .success(.landed(session)):
                    return .session(session)
                case .success(.elsewhere):
                    live -= 1
                    capacity = live
                case let .failure(error):
                    live -= 1
                    condition.broadcast()
                    throw error
                }
                condition.broadcast()
                continue
            }
            if capacity == 0 && !coordinatorBusy {
                coordinatorBusy = true
                return .coordinator
            }
            condition.wait()
        }
    }

    /// Ends a lease. `midStream`: the table's COPY was left before its end, so the connection
    /// cannot be used again: a session is dropped; the coordinator's snapshot is lost. Otherwise
    /// the transaction (or the coordinator's savepoint) is rolled back, which also tells whether
    /// the connection survived.
    func finished(_ lease: Lease, midStream: Bool) {
        switch lease {
        case let .session(session):
            var reusable = !midStream
            if reusable {
                do {
                    try session.execute("ROLLBACK")
                    try session.execute("SELECT set_config('application_name', 'snapmask read', false)", [])
                } catch {
                    reusable = false
                }
            }
            condition.lock()
            if reusable && !closed { idle.append(session) } else { live -= 1 }
        case .coordinator:
            var failure = midStream ? "a table read on the snapshot's session was abandoned before its end" : nil
            if failure == nil {
                do {
                    try coordinator.execute("ROLLBACK TO SAVEPOINT \(Self.savepoint)")
                    try coordinator.execute("RELEASE SAVEPOINT \(Self.savepoint)")
                } catch {
                    failure = "\(error)"
                }
            }
            condition.lock()
            coordinatorBusy = false
            if let failure, broken == nil { broken = failure }
            if closed {
                // The source was closed while this table was read: its transaction ends now.
                coordinatorBusy = true
                _ = try? coordinator.execute("COMMIT")
            }
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body` on the coordinator, waiting while a table is read on it.
    func withCoordinator<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        condition.lock()
        while coordinatorBusy && broken == nil && !closed { condition.wait() }
        do {
            try usable()
        } catch {
            condition.unlock()
            throw error
        }
        coordinatorBusy = true
        condition.unlock()
        defer {
            condition.lock()
            coordinatorBusy = false
            condition.broadcast()
            condition.unlock()
        }
        return try body(coordinator)
    }

    /// Drops the sessions and ends the coordinator's transaction; if a table is being read on the
    /// coordinator, that reader's end does it (never two threads on one connection, and no wait).
    func close() {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return
        }
        closed = true
        let sessions = idle
        idle = []
        let commitNow = !coordinatorBusy
        coordinatorBusy = true
        condition.broadcast()
        condition.unlock()
        for session in sessions { _ = try? session.execute("ROLLBACK") }
        if commitNow { _ = try? coordinator.execute("COMMIT") }
    }

    private func usable() throws {
        if let broken { throw PostgresError("the source snapshot is no longer usable: \(broken)") }
        if closed { throw PostgresError("the source snapshot was closed") }
    }
}

/// A table's COPY on a leased connection; gives the lease back when closed (or, for a reader a
/// caller let go of without closing, when released).
final class PostgresLeasedReader: BatchReader {
    private let copy: PostgresCopyReader
    private let lease: PostgresReaderSessions.Lease
    private let sessions: PostgresReaderSessions
    private let lock = NSLock()
    private var ended = false
    private var returned = false

    init(copy: PostgresCopyReader, lease: PostgresReaderSessions.Lease, sessions: PostgresReaderSessions) {
        self.copy = copy
        self.lease = lease
        self.sessions = sessions
    }

    /// The COPY is over once it has said so, by its end or by its error; `finished` then finds
    /// out whether the connection is still fit (a broken stream is not).
    func next() throws -> RowBatch? {
        do {
            let batch = try copy.next()
            if batch == nil { markEnded() }
            return batch
        } catch {
            markEnded()
            throw error
        }
    }

    private func markEnded() {
        lock.lock()
        ended = true
        lock.unlock()
    }

    func close() {
        lock.lock()
        let give = !returned
        returned = true
        let midStream = !ended
        lock.unlock()
        if give { sessions.finished(lease, midStream: midStream) }
    }

    deinit { close() }
}
