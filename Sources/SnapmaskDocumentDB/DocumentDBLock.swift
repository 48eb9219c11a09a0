import Foundation
import Snapmask

/// One run at a time per staging database: the document `{_id: <database>}` in the staging
/// database's `snapmask_locks` collection. Inserting it is the test-and-set (the `_id` index is
/// unique on every server); it names its holder (host, pid, start) and is renewed every 30 s
/// while the run lasts, and removed at the end, failed or not.
///
/// A run that crashed (killed pod, power loss) leaves its document behind. A later run takes
/// such a lock over once it has not been renewed for 10 minutes; before that it is refused with
/// the holder's name. To clear a lock by hand once you are sure its run is gone:
/// `db.getSiblingDB("<database>").snapmask_locks.deleteOne({_id: "<database>"})`.
/// Clocks: the renewal time is the holder's clock; hosts are assumed to agree within minutes.
enum DocumentDBLock {
    static func holderName(_ database: String) -> String {
        "snapmask restore \(database) from \(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// Takes the lock or throws naming the holder.
    static func acquire(on client: DocumentDBClient, database: String, tuning: DocumentDBTuning) throws -> LockKeeper {
        let run = UUID().uuidString
        let now = Date()
        let document: BSONDoc = [
            "_id": .string(database), "holder": .string(holderName(database)),
            "host": .string(ProcessInfo.processInfo.hostName),
            "pid": .int64(Int64(ProcessInfo.processInfo.processIdentifier)), "run": .string(run),
            "since": .date(millis(now)), "renewed": .date(millis(now)), "snapmask": .string(SnapmaskVersion.current),
        ]
        let reply = try client.run(["insert": .string(DocumentDBTarget.lockCollection), "documents": .array([.document(document)])],
                                   on: database, context: "taking the lock of \(database) (\(DocumentDBTarget.lockCollection))")
        guard let writeError = reply["writeErrors"]?.array?.first?.document else {
            return LockKeeper(database: database, run: run)
        }
        guard writeError["code"]?.int == 11000 else {
            throw DocumentDBError("the lock document could not be written (code \(writeError["code"]?.int ?? 0)); the target "
                                      + "user needs readWrite on \(database)", context: "taking the lock of \(database)")
        }
        // Someone holds it: take it over if it is stale, otherwise say who.
        let found = try client.allDocuments(try client.collection(database, DocumentDBTarget.lockCollection).find(
            ["_id": .string(database)], options: [:], context: "reading the lock of \(database)"))
        guard let held = found.first else {
            // Released between our insert and our read: try once more.
            return try acquire(on: client, database: database, tuning: tuning)
        }
        var renewed = Date.distantPast
        if case let .date(value)? = held["renewed"] { renewed = Date(timeIntervalSince1970: Double(value) / 1000) }
        if now.timeIntervalSince(renewed) > tuning.lockExpiry {
            var replacement = document
            replacement["_id"] = nil
            let update = try client.run([
                "update": .string(DocumentDBTarget.lockCollection),
                "updates": .array([.document([
                    "q": .document(["_id": .string(database), "run": held["run"] ?? .null, "renewed": held["renewed"] ?? .null]),
                    "u": .document(["$set": .document(replacement)]),
                ])]),
            ], on: database, context: "taking over the stale lock of \(database)")
            if update["n"]?.int == 1 { return LockKeeper(database: database, run: run) }
        }
        throw DocumentDBError(refusal(held, database: database, tuning: tuning))
    }

    static func refusal(_ held: BSONDoc, database: String, tuning: DocumentDBTuning) -> String {
        func time(_ key: String) -> String {
            guard case let .date(value)? = held[key] else { return "?" }
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: Double(value) / 1000))
        }
        let holder = held["holder"]?.string ?? "another snapmask run"
        return "another snapmask run is restoring \(database) on this server: \(holder) (since \(time("since")), last renewed "
            + "\(time("renewed"))); wait for it to finish. A lock not renewed for \(Int(tuning.lockExpiry / 60)) minutes "
            + "is stale and taken over; to clear it now, once you are sure that run is gone: "
            + "db.getSiblingDB(\"\(database)\").\(DocumentDBTarget.lockCollection).deleteOne({_id: \"\(database)\"})"
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
}

/// Renews a held lock on a thread and a client of its own until stopped.
final class LockKeeper: @unchecked Sendable {
    let database: String
    let run: String
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
                _ = try? client?.run([
                    "update": .string(DocumentDBTarget.lockCollection),
                    "updates": .array([.document([
                        "q": .document(["_id": .string(database), "run": .string(run)]),
                        "u": .document(["$set": .document(["renewed": .date(DocumentDBLock.millis(Date()))])]),
                    ])]),
                ], on: database)
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
