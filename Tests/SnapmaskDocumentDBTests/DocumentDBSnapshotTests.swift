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
        let snapshot = try SnapshotCreator(database: database, engine: engine, rules: rules, store: catalog.store,
                                           archiveKey: try ArchiveKey("docdb-snapshot-test-passphrase"),
                                           options: RestoreOptions(jobs: 2), observer: RecordingObserver())
            .create(name: "messages-1")
        #expect(snapshot.rows == 90 && snapshot.encrypted && snapshot.leakChecks.allSatisfy { $0.leaks == 0 })
        // Documents are compared by _id and position: the sampled ones were found and compared.
        #expect(snapshot.leakChecks.count == 3 && snapshot.leakChecks.allSatisfy { $0.method == .byKey && $0.sampled > 0 },
                "\(snapshot.leakChecks)")
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
        // The restore compared the documents it loaded with the originals sampled into the
        // snapshot, leaf by leaf, one result per path rule, as a direct restore does.
        let checks = Dictionary(report.leakChecks.map { ("\($0.table).\($0.column)", $0) }, uniquingKeysWith: { first, _ in first })
        for rule in ["users.email", "users.phones[]", "users.profile.city"] {
            #expect(checks[rule]?.method == .byKey && (checks[rule]?.sampled ?? 0) > 0 && checks[rule]?.leaks == 0,
                    "\(rule): \(String(describing: checks[rule]))")
        }
        #expect(try scratch.documents("stage", "users") == direct)
        #expect(try scratch.command("stage", #"{"listIndexes": "users"}"#).contains("email_unique"))
        #expect(directIndexes.contains("email_unique"))
        #expect(try scratch.documents("stage", "events").count == 30)
    }

    /// An override that writes an original back (every city was Oslo) is found by the restore's
    /// leak check from the snapshot, at its path, and staging keeps its previous data.
    @Test func anOverrideThatPutsAnOriginalBackIsALeak() throws {
        let scratch = try DocumentDBScratch("docsnapleak")
        defer { scratch.drop() }
        try scratch.insert("src", "users", (1...40).map {
            #"{"_id": \#($0), "email": "person\#($0)@corp.example.org", "phones": ["555-0100"], "profile": {"city": "Oslo", "vip": true}}"#
        })
        try scratch.insert("src", "events", [#"{"_id": 1, "kind": "login", "at": {"$date": "2026-01-01T10:00:00Z"}}"#])
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("docstore"))
        defer { try? FileManager.default.removeItem(at: store) }
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules,
                                         overrides: "- collection: users\n  set: { profile.city: \"Oslo\" }\n")
        defer { job.remove() }
        let (engine, database, rules) = try DocumentDBJobs.engine(job)
        let key = try ArchiveKey("docdb-snapshot-test-passphrase")
        let catalog = SnapshotCatalog(store: LocalStore(path: store.path), archiveKey: key)
        _ = try SnapshotCreator(database: database, engine: engine, rules: rules, store: catalog.store, archiveKey: key,
                                options: RestoreOptions(jobs: 2), observer: RecordingObserver()).create(name: "messages-1")
        try scratch.markStaging()
        let input = try SnapshotRestore.input(catalog: catalog, name: "latest", database: database, archiveKey: key,
                                              allowRulesChange: false)
        #expect {
            try RestoreRunner(database: database, engine: engine, rules: CompiledRules.forMaskedSnapshot(database.rules),
                              options: RestoreOptions(jobs: 2), observer: RecordingObserver(), snapshot: input).run()
        } throws: { error in
            "\(error)".contains("original values found") && "\(error)".contains("users.profile.city")
                && !"\(error)".contains("users.email")
        }
        try scratch.expectStagingUntouched()
    }
}
