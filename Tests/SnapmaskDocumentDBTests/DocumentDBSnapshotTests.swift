import Foundation
import Snapmask
import SnapmaskStore
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// A DocumentDB database through a sanitized snapshot: the same staging as a direct restore,
/// collection options and indexes included.
@Suite struct DocumentDBSnapshotTests {
    static let rules = """
        collections:
          users:
            fields:
              _id: keep
              email: { transform: email, unique: true }
              "phones[]": phone
              profile.city: city
              profile.vip: keep
          events:
            fields: { _id: keep, kind: keep, at: keep }
        """

    @Test func snapshotRestoreEqualsADirectRestore() throws {
        let scratch = try DocumentDBScratch("docsnap")
        defer { scratch.drop() }
        try scratch.insert("src", "users", (1...60).map {
            #"{"_id": \#($0), "email": "person\#($0)@corp.example.org", "phones": ["555-01\#($0 % 10)\#($0 % 7)"], "profile": {"city": "Oslo", "vip": \#($0 % 2 == 0)}}"#
        })
        try scratch.insert("src", "events", (1...30).map { #"{"_id": \#($0), "kind": "login", "at": {"$date": "2026-01-0\#($0 % 9 + 1)T10:00:00Z"}}"# })
        _ = try scratch.command("src", #"{"createIndexes": "users", "indexes": [{"key": {"email": 1}, "name": "email_unique", "unique": true}]}"#)
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("docstore"))
        defer { try? FileManager.default.removeItem(at: store) }

        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        _ = try DocumentDBJobs.restore(job)
        let direct = try scratch.documents("stage", "users")
        let directIndexes = try scratch.command("stage", #"{"listIndexes": "users"}"#)

        let (engine, database, rules) = try DocumentDBJobs.engine(job)
        let catalog = SnapshotCatalog(store: LocalStore(path: store.path))
        let manifest = try SnapshotCreator(database: database, engine: engine, rules: rules, store: catalog.store,
                                           archiveKey: try ArchiveKey("docdb-snapshot-test-passphrase"),
                                           options: RestoreOptions(jobs: 2), observer: RecordingObserver())
            .create(name: "messages-1")
        #expect(manifest.rows == 90 && manifest.encrypted && manifest.leakChecks.allSatisfy { $0.leaks == 0 })
        // Documents are compared by _id and position: the sampled ones were found and compared.
        #expect(manifest.leakChecks.count == 3 && manifest.leakChecks.allSatisfy { $0.method == .byKey && $0.sampled > 0 },
                "\(manifest.leakChecks)")
        for object in try catalog.store.list(prefix: "") {
            #expect(try catalog.store.get(object.key).range(of: Data("corp.example.org".utf8)) == nil)
        }

        // Staging is emptied, then rebuilt from the snapshot alone.
        _ = try scratch.command("stage", #"{"drop": "users"}"#)
        let input = try SnapshotRestore.input(catalog: catalog, name: "latest", database: database,
                                              archiveKey: try ArchiveKey("docdb-snapshot-test-passphrase"), allowRulesChange: false)
        let report = try RestoreRunner(database: database, engine: engine, rules: rules, options: RestoreOptions(jobs: 2),
                                       observer: RecordingObserver(), snapshot: input).run()
        #expect(report.snapshot == "messages-1" && report.rowCountsVerified)
        #expect(try scratch.documents("stage", "users") == direct)
        #expect(try scratch.command("stage", #"{"listIndexes": "users"}"#).contains("email_unique"))
        #expect(directIndexes.contains("email_unique"))
        #expect(try scratch.documents("stage", "events").count == 30)
    }
}
