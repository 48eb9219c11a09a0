import Foundation
import Snapmask
import SnapmaskStore
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// A MySQL database through a sanitized snapshot: staging ends up as a direct restore leaves it,
/// from the snapshot alone.
@Suite struct MySQLSnapshotTests {
    static let passphrase = "mysql-snapshot-test-passphrase"

    /// The restore tests' source, plus a masked binary column (its masked text must not be
    /// taken for hex when it comes back from the snapshot).
    static let sourceSQL = MySQLRestoreTests.sourceSQL + """
        CREATE TABLE tokens (id int NOT NULL PRIMARY KEY, secret varbinary(64) NOT NULL);
        INSERT INTO tokens VALUES (1, UNHEX('00FF0A5C')), (2, 'plain secret');
        """
    static let rules = MySQLRestoreTests.rules + """

          tokens:
            columns: { id: keep, secret: { transform: constant, value: "masked secret" } }
        """

    static func snapshot(_ job: TestJob, into store: URL) throws -> (SnapshotCatalog, Snapshot) {
        let (database, rules) = try job.database("app")
        let catalog = SnapshotCatalog(store: LocalStore(path: store.path))
        let manifest = try SnapshotCreator(database: database, engine: MySQLEngine(job: database), rules: rules,
                                           store: catalog.store, archiveKey: try ArchiveKey(passphrase),
                                           options: RestoreOptions(jobs: 2), observer: RecordingObserver())
            .create(name: "app-1")
        return (catalog, manifest)
    }

    static func restore(_ job: TestJob, from catalog: SnapshotCatalog) throws -> RestoreReport {
        let (database, rules) = try job.database("app")
        let input = try SnapshotRestore.input(catalog: catalog, name: "latest", database: database,
                                              archiveKey: try ArchiveKey(passphrase), allowRulesChange: false)
        return try RestoreRunner(database: database, engine: MySQLEngine(job: database), rules: rules,
                                 options: RestoreOptions(jobs: 2), observer: RecordingObserver(), snapshot: input).run()
    }

    @Test func snapshotRestoreEqualsADirectRestore() throws {
        let scratch = try MySQLScratch("mysnap")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("mystore"))
        defer { try? FileManager.default.removeItem(at: store) }
        let job = try MySQLRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }

        _ = try MySQLRestoreTests.restore(job)
        let comparisons = [
            MySQLRestoreTests.keptComparison,
            "SELECT id, email, name, phone, profile, label FROM users ORDER BY id",
            "SELECT * FROM contacts ORDER BY id",
            "SELECT * FROM events ORDER BY id",
            "SELECT id, HEX(secret) FROM tokens ORDER BY id",
            "SELECT * FROM user_email_count",
            "SHOW CREATE TABLE users",
            """
            SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2, 4
            """,
            "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
            "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1",
        ]
        let direct = try comparisons.map { try scratch.rows("stage", $0) }
        #expect(direct[4].map { $0[1] } == [String?](repeating: "6D61736B656420736563726574", count: 2), "the masked secret, as text")

        let (catalog, manifest) = try Self.snapshot(job, into: store)
        #expect(manifest.rows == 3000 + 500 + 500 + 400 + 2 && manifest.encrypted)
        #expect(manifest.leakChecks.allSatisfy { $0.leaks == 0 && $0.sampled > 0 } && manifest.leakChecks.count >= 5,
                "\(manifest.leakChecks)")
        for object in try catalog.store.list(prefix: "") {
            #expect(try catalog.store.get(object.key).range(of: Data("corp.example.org".utf8)) == nil)
        }

        // Staging is emptied, then rebuilt from the snapshot without reading the source.
        try scratch.connect("stage").query("DROP TABLE contacts, users")
        let report = try Self.restore(job, from: catalog)
        #expect(report.snapshot == "app-1" && report.rowCountsVerified && report.outcome == "swapped")
        // The restore compared its copy with the originals sampled into the snapshot (as digests).
        #expect(!manifest.metadata.leakSamples.isEmpty)
        #expect(report.leakChecks.contains { $0.method == .byKey && $0.sampled > 0 }, "\(report.leakChecks)")
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 })
        #expect(report.tables.first { $0.name == "users" }?.maskedColumns == ["email", "name", "phone", "profile"],
                "the report names the columns masked when the snapshot was made")
        for (sql, expected) in zip(comparisons, direct) {
            #expect(try scratch.rows("stage", sql) == expected, "\(sql)")
        }
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")])
    }

    /// A parent copied with `where:` leaves references dangling; restoring the snapshot checks
    /// that foreign key (its own plan filters nothing) and leaves staging as it was.
    @Test func aSnapshotOfASubsetStillHasItsForeignKeysChecked() throws {
        let scratch = try MySQLScratch("mysnapfk")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: "CREATE TABLE marker (id int PRIMARY KEY); INSERT INTO marker VALUES (7);")
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("mystore"))
        defer { try? FileManager.default.removeItem(at: store) }
        let rules = Self.rules.replacingOccurrences(of: "  users:\n    columns:", with: "  users:\n    where: \"id <= 100\"\n    columns:")
        #expect(rules != Self.rules)
        let job = try MySQLRestoreTests.job(scratch, rules: rules)
        defer { job.remove() }

        let (catalog, manifest) = try Self.snapshot(job, into: store)
        #expect(manifest.rows == 3000 + 100 + 500 + 400 + 2)
        #expect(throws: RestoreFailed.self) { try Self.restore(job, from: catalog) }
        do {
            _ = try Self.restore(job, from: catalog)
        } catch {
            #expect("\(error)".contains("foreign key contacts_user_fk of contacts: 400 rows"), "\(error)")
        }
        #expect(try scratch.rows("stage", "SELECT id FROM marker") == [["7"]])
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")])
    }
}
