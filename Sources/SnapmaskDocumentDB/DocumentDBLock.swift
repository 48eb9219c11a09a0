import Foundation
import Snapmask

/// One run at a time per staging database: the document `{_id: <database>}` in the staging
/// database's `snapmask_locks` collection. Inserting it is the test-and-set (the `_id` index is
/// unique on every server). It names its holder (host, pid and the process's start, a run id)
/// and holds a lease: the holder renews it every 15 s (with the server's clock, `$currentDate`),
/// and removes the document when it ends, failed or not.
///
/// A run that was killed (SIGKILL, an evicted pod, power loss) leaves its document behind. The
/// next run takes it over when its holder is provably gone: the lease was not renewed for 60 s
/// (by the server's clock), or the holder ran on this same host and its process is no longer
/// there. A live holder is refused, named. To clear a lock by hand once you are sure its run is
/// gone: `db.getSiblingDB("<database>").snapmask_locks.deleteOne({_id: "<database>"})`.
enum DocumentDBLock {
    static func holderName(_ database: String) -> String {
        "snapmask restore \(database) from \(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(_ value: BSONValue?) -> Date? {
        guard case let .date(millis)? = value else { return nil }
        return Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// The server's clock (hello's `localTime`), so leases do not depend on the hosts' clocks
    /// agreeing; this host's clock when the server does not say.
    static func serverTime(_ client: DocumentDBClient) -> Date {
        let hello = (try? client.run(["hello": .int32(1)], on: "admin")) ?? (try? client.run(["isMaster": .int32(1)], on: "admin"))
        return date(hello?["localTime"]) ?? Date()
    }

    /// Takes the lock or throws TargetLocked naming the holder. A lock whose holder is gone is
    /// taken over; `LockKeeper.tookOver` then says whose it was and why it was free.
    static func acquire(on client: DocumentDBClient, database: String, tuning: DocumentDBTuning,
                        attempts: Int = 3) throws -> LockKeeper {
        let run = UUID().uuidString
        let now = serverTime(client)
        var document: BSONDoc = [
            "_id": .string(database), "holder": .string(holderName(database)),
            "host": .string(ProcessInfo.processInfo.hostName),
            "pid": .int64(Int64(ProcessInfo.processInfo.processIdentifier)), "run": .string(run),
            "since": .date(millis(now)), "renewed": .date(millis(now)),
            "lease_seconds": .int64(Int64(tuning.lockExpiry)), "snapmask": .string(SnapmaskVersion.current),
        ]
        if let started = ProcessProbe.startTime(of: ProcessInfo.processInfo.processIdentifier) {
            document["process_started"] = .string(started)
        }
        let reply = try client.run(["insert": .string(DocumentDBTarget.lockCollection), "documents": .array([.document(document)])],
                                   on: database, context: "taking the lock of \(database) (\(DocumentDBTarget.lockCollection))")
        guard let writeError = reply["writeErrors"]?.array?.first?.document else {
            return LockKeeper(database: database, run: run)
        }
        guard writeError["code"]?.int == 11000 else {
            throw DocumentDBError("the lock document could not be written (code \(writeError["code"]?.int ?? 0)); the target "
                                      + "user needs readWrite on \(database)", context: "taking the lock of \(database)")
        }
        // Someone holds it: take it over if its holder is gone, otherwise say who.
        let found = try client.allDocuments(try client.collection(database, DocumentDBTarget.lockCollection).find(
            ["_id": .string(database)], options: [:], context: "reading the lock of \(database)"))
        guard let held = found.first else {
            // Released between our insert and our read: try again.
            guard attempts > 1 else { throw DocumentDBError("the lock of \(database) changes hands too fast; try again") }
            return try acquire(on: client, database: database, tuning: tuning, attempts: attempts - 1)
        }
        if let reason = gone(held, now: now, tuning: tuning) {
            var replacement = document
            replacement["_id"] = nil
            let update = try client.run([
                "update": .string(DocumentDBTarget.lockCollection),
                "updates": .array([.document([
                    // Only the document we judged: a holder that renewed meanwhile keeps it.
                    "q": .document(["_id": .string(database), "run": held["run"] ?? .null, "renewed": held["renewed"] ?? .null]),
                    "u": .document(["$set": .document(replacement)]),
                ])]),
            ], on: database, context: "taking over the lock of \(database)")
            if update["n"]?.int == 1 {
                let keeper = LockKeeper(database: database, run: run)
                keeper.tookOver = "\(held["holder"]?.string ?? "an earlier run") (run \(held["run"]?.string ?? "?")), \(reason)"
                return keeper
            }
            guard attempts > 1 else { throw DocumentDBError("the lock of \(database) changes hands too fast; try again") }
            return try acquire(on: client, database: database, tuning: tuning, attempts: attempts - 1)
        }
        throw TargetLocked(target: "\(database) on this server", holder: description(of: held, now: now, tuning: tuning))
    }

    /// Why the holder of `held` is provably gone, or nil while it may be alive.
    static func gone(_ held: BSONDoc, now: Date, tuning: DocumentDBTuning) -> String? {
        if held["host"]?.string == ProcessInfo.processInfo.hostName, let pid = held["pid"]?.int, pid > 0 {
            switch ProcessProbe.state(of: Int32(clamping: pid), started: held["process_started"]?.string) {
            case .gone: return "its process (pid \(pid) on this host) is gone"
            case .reused: return "its process (pid \(pid) on this host) is gone (the pid belongs to another process now)"
            case .alive, .unknown: break
            }
        }
        let lease = held["lease_seconds"]?.int.map(TimeInterval.init) ?? tuning.lockExpiry
        let renewed = date(held["renewed"]) ?? .distantPast
        let silent = now.timeIntervalSince(renewed)
        if silent > lease {
            return "its lease was not renewed for \(Int(silent)) s (it renews every \(Int(tuning.lockRenewal)) s while alive)"
        }
        return nil
    }

    static func description(of held: BSONDoc, now: Date, tuning: DocumentDBTuning) -> String {
        func time(_ key: String) -> String {
            date(held[key]).map { ISO8601DateFormatter().string(from: $0) } ?? "?"
        }
        let holder = held["holder"]?.string ?? "another snapmask run"
        let renewed = date(held["renewed"]).map { "\(max(0, Int(now.timeIntervalSince($0)))) s ago" } ?? "never"
        let host = held["host"]?.string ?? "?", pid = held["pid"]?.int.map(String.init) ?? "?"
        let database = held["_id"]?.string ?? "<database>"
        let lease = held["lease_seconds"]?.int ?? Int(tuning.lockExpiry)
        return "\(holder) (host \(host), pid \(pid), run \(held["run"]?.string ?? "?"), since \(time("since")), lease last "
            + "renewed \(renewed)). It is alive as far as snapmask can tell: a lock is taken over once its lease has not been "
            + "renewed for \(lease) s, or at once from host \(host) when pid \(pid) is gone; to clear it "
            + "now, once you are sure that run is gone: db.getSiblingDB(\"\(database)\").\(DocumentDBTarget.lockCollection)"
            + ".deleteOne({_id: \"\(database)\"})"
    }

    /// Fails unless this run still holds the lock (checked right before the swap).
    static func confirm(on client: DocumentDBClient, database: String, run: String) throws {
        let found = try client.allDocuments(try client.collection(database, DocumentDBTarget.lockCollection).find(
            ["_id": .string(database), "run": .string(run)], options: [:], context: "confirming the lock of \(database)"))
        if found.isEmpty {
            throw DocumentDBError("this run no longer holds the lock of \(database) (it was not renewed in time and another "
                                      + "run took it over, or it was cleared by hand); nothing was swapped")
        }
    }

    static func release(on client: DocumentDBClient, database: String, run: String) throws {
        try client.run(["delete": .string(DocumentDBTarget.lockCollection),
                        "deletes": .array([.document(["q": .document(["_id": .string(database), "run": .string(run)]),
                                                      "limit": .int32(1)])])],
                       on: database)
    }

    static func renew(on client: DocumentDBClient, database: String, run: String) throws -> Bool {
        let reply = try client.run([
            "update": .string(DocumentDBTarget.lockCollection),
            "updates": .array([.document([
                "q": .document(["_id": .string(database), "run": .string(run)]),
                "u": .document(["$currentDate": .document(["renewed": .bool(true)])]),
            ])]),
        ], on: database)
        return reply["n"]?.int == 1
    }
}

/// Renews a held lock on a thread and a client of its own until stopped.
final class LockKeeper: @unchecked Sendable {
    let database: String
    let run: String
    /// Whose lock this run took over, and why it was free (nil: it was free).
    var tookOver: String?
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var stopped = false
    private var thread: Thread?

    init(database: String, run: String) {
        self.database = database
        self.run = run
    }

    func start(url: ConnectionString, tuning: DocumentDBTuning) {
        let database = database, run = run
        let thread = Thread { [self] in
            let client = try? DocumentDBClient(url: url, applicationName: "snapmask lock \(database)", primaryOnly: true)
            while waitOrStop(tuning.lockRenewal) {
                if let client { _ = try? DocumentDBLock.renew(on: client, database: database, run: run) }
            }
        }
        thread.name = "lock-\(database)"
        self.thread = thread
        thread.start()
    }

    /// Waits `interval`; false once stopped.
    private func waitOrStop(_ interval: TimeInterval) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(interval)
        while !stopped && Date() < deadline { _ = condition.wait(until: deadline) }
        return !stopped
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Whether a process of this host is still the one that took a lock.
enum ProcessProbe {
    enum State { case alive, gone, reused, unknown }

    static func state(of pid: Int32, started: String?) -> State {
        if kill(pid, 0) != 0 {
            // EPERM: it exists but belongs to another user.
            return errno == ESRCH ? .gone : errno == EPERM ? .alive : .unknown
        }
        if let started, let now = startTime(of: pid), now != started { return .reused }
        return .alive
    }

    /// When the process started, in clock ticks since boot (Linux: field 22 of /proc/<pid>/stat),
    /// to tell a pid that was reused from the process that took the lock.
    static func startTime(of pid: Int32) -> String? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start with field 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
        #else
        return nil
        #endif
    }
}
