import Foundation
import Snapmask

/// A snapshot being written says so: `NAME/lease.json`, written when `create` starts, rewritten
/// every `renewal` seconds while it runs, removed when it ends. `prune` leaves alone a snapshot
/// whose lease was written less than `SnapshotLease.lifetime` ago (by the store's clock), so a
/// create that has written parts but not yet its manifest is never taken for an abandoned one.
/// A create killed outright stops renewing; its lease goes stale and prune may clean up after it.
public enum SnapshotLease {
    static let fileName = "lease.json"
    /// How long a lease holds without renewal: long enough to ride out a slow store request.
    public static let lifetime: TimeInterval = 15 * 60
    public static let defaultRenewal: TimeInterval = 60

    static func key(_ snapshot: String) -> String { "\(snapshot)/\(fileName)" }

    /// Whether a lease last written at `written` still holds at `now`.
    public static func isLive(written: Date?, now: Date = Date()) -> Bool {
        guard let written else { return false }
        return now.timeIntervalSince(written) < lifetime
    }
}

/// Keeps one snapshot's lease: writes it, renews it from a thread of its own, removes it.
final class LeaseKeeper: @unchecked Sendable {
    private let store: any ObjectStore
    private let key: String
    private let renewal: TimeInterval
    private let started = Date()
    private let stopping = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var renewalFailure: String?

    init(store: any ObjectStore, snapshot: String, renewal: TimeInterval) {
        self.store = store
        key = SnapshotLease.key(snapshot)
        self.renewal = max(0.05, renewal)
    }

    /// Writes the lease and starts renewing it.
    func start() throws {
        try write()
        let thread = Thread { [self] in
            while stopping.wait(timeout: .now() + renewal) == .timedOut {
                do {
                    try write()
                } catch {
                    // The create goes on; if a prune removed parts meanwhile, its final check of
                    // every part finds out before the manifest is written.
                    lock.withLock { renewalFailure = "\(error)" }
                }
            }
            finished.signal()
        }
        thread.name = "snapmask lease \(key)"
        thread.start()
    }

    /// Stops renewing and removes the lease (best effort: a stale lease only delays a prune).
    func stop() {
        stopping.signal()
        finished.wait()
        try? store.delete([key])
    }

    var lastFailure: String? { lock.withLock { renewalFailure } }

    private func write() throws {
        let host = ProcessInfo.processInfo.hostName
        let text = """
            {"writer": "\(host.filter { $0.isLetter || $0.isNumber || "-._".contains($0) }) pid \(ProcessInfo.processInfo.processIdentifier)", \
            "startedAt": "\(ISO8601DateFormatter().string(from: started))", "renewedAt": "\(ISO8601DateFormatter().string(from: Date()))"}
            """
        try store.put(key, data: Data(text.utf8))
    }
}
