import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport
import Testing
@testable import SnapmaskStore

/// Sanitized snapshots of a PostgreSQL database in a local folder and in an S3 bucket: made
/// once, restored like a direct restore (without the masking key), and refused when damaged,
/// foreign or half-made. SnapshotTrustTests covers what someone with write access to the store
/// could try.
@Suite struct PostgresSnapshotTests {
    @Test(arguments: StoreKind.allCases)
    func roundTripEqualsADirectRestore(kind: StoreKind) throws {
        let setup = try SnapshotFixture("snaprt", kind: kind)
        defer { setup.cleanup() }
        let snapshot = try setup.create("app-weekly-1")
        #expect(snapshot.rows == 9000 && snapshot.tables.count == 3 && snapshot.encrypted)
        #expect(snapshot.leakChecks.count == 4 && snapshot.leakChecks.allSatisfy { $0.leaks == 0 && $0.sampled > 0 })
        let catalog = try setup.catalog()
        #expect(try catalog.entries().map(\.name) == ["app-weekly-1"])
        #expect(try catalog.entries().first?.trust == .verified)

        _ = try setup.restore(nil, database: "direct")
        let report = try setup.restore("latest")
        #expect(report.outcome == "swapped" && report.snapshot == "app-weekly-1" && report.rowCountsVerified)
        #expect(try setup.scratch.rows("fromsnap", SnapshotFixture.contents) == setup.scratch.rows("direct", SnapshotFixture.contents))
        #expect(try setup.scratch.rows("fromsnap", "SELECT o::text FROM orders o ORDER BY id")
                    == setup.scratch.rows("direct", "SELECT o::text FROM orders o ORDER BY id"))
        #expect(try setup.scratch.rows("fromsnap", "SELECT name FROM users WHERE id = 1") == [["Staging Admin"]])
        #expect(try setup.scratch.rows("fromsnap", "SELECT count(*) FROM audit") == [["0"]])

        // The restore's own leak check ran against the copy, per column and per JSON path rule.
        let checks = Dictionary(report.leakChecks.map { ("\($0.column)\($0.path.map { "/" + $0 } ?? "")", $0) },
                                uniquingKeysWith: { first, _ in first })
        for column in ["email", "name", "notes", "profile/contact.email"] {
            #expect(checks[column]?.method == .byKey && (checks[column]?.sampled ?? 0) > 50 && checks[column]?.leaks == 0,
                    "\(column): \(String(describing: checks[column]))")
        }

        // Nothing personal or confidential is at rest in the store: no original value, and no
        // schema text, table, column or path name outside the sealed objects.
        for object in try catalog.store.list(prefix: "") {
            let data = try catalog.store.get(object.key)
            for secret in ["@corp.example.org", "confidential-comment", "CREATE TABLE", "public.users", "contact.email",
                           "notes", setup.scratch.prefix] {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(secret) in \(object.key)")
            }
            #expect(!object.key.contains("users") && !object.key.contains("orders"), "a table name in the key \(object.key)")
        }
        let manifest = try setup.manifestObject("app-weekly-1")
        #expect(Set(manifest.keys) == ["formatVersion", "snapshotID", "name", "database", "engine", "startedAt", "finishedAt",
                                       "snapmaskVersion", "rulesDigest", "compression", "encryption", "keyDerivation", "tables",
                                       "rows", "size", "metadata", "mac"])

        // By name too, once a second snapshot exists.
        _ = try setup.create("app-weekly-2")
        #expect(try catalog.entries().map(\.name).sorted() == ["app-weekly-1", "app-weekly-2"])
        #expect(try setup.restore("app-weekly-1").snapshot == "app-weekly-1")
    }

    @Test func damagedPartStopsTheRestoreAndLeavesStagingUntouched() throws {
        let setup = try SnapshotFixture("snapflip")
        defer { setup.cleanup() }
        let snapshot = try setup.create("flip")
        try setup.markStaging()
        let store = try setup.rawStore()
        let part = try #require(snapshot.tables.first { $0.name == "public.users" }?.parts.first)
        var data = try store.get(part.key)
        data[data.count / 2] ^= 0x01
        try store.put(part.key, data: data)
        #expect {
            try setup.restore("flip")
        } throws: { error in
            "\(error)".contains(part.key) && "\(error)".contains("does not match its manifest")
        }
        try setup.expectStagingUnchanged()
        // A missing part is named as well.
        try store.delete([part.key])
        #expect {
            try setup.restore("flip")
        } throws: { error in "\(error)".contains("part \(part.key) of snapshot flip is missing") }
        try setup.expectStagingUnchanged()
    }

    @Test func rulesChangedSinceTheSnapshotNeedsConsent() throws {
        let setup = try SnapshotFixture("snaprules")
        defer { setup.cleanup() }
        _ = try setup.create("before")
        try setup.job.write("overrides.yaml", "- table: users\n  set: { name: \"Someone Else\" }\n")
        #expect {
            try setup.restore("before")
        } throws: { error in "\(error)".contains("rules digest differs") && "\(error)".contains("--allow-rules-change") }
        #expect(try setup.restore("before", allowRulesChange: true).outcome == "swapped")
    }

    @Test func failedOrInterruptedCreateLeavesNoRestorableSnapshot() throws {
        let setup = try SnapshotFixture("snapfail")
        defer { setup.cleanup() }
        // A failing create removes what it wrote, its lease included.
        try setup.job.write("rules.yaml", SnapshotFixture.rules.replacingOccurrences(
            of: "orders:\n    columns:", with: "orders:\n    where: \"1/(id - 4000) IS NOT NULL\"\n    columns:"))
        #expect(throws: (any Error).self) { try setup.create("broken") }
        let catalog = try setup.catalog()
        #expect(try catalog.store.list(prefix: "broken/").isEmpty)
        // One stopped outright leaves parts without a manifest: listed only with --all, never restored.
        try catalog.store.put("halfway/parts/0001/000001.zst.aes", data: Data("not finished".utf8))
        #expect(try catalog.entries().filter(\.isComplete).isEmpty)
        #expect(try catalog.entries().map(\.name) == ["halfway"])
        #expect {
            try setup.restore("halfway")
        } throws: { error in "\(error)".contains("incomplete") }
        #expect {
            try setup.restore("latest")
        } throws: { error in "\(error)".contains("no complete snapshot") }
    }

    @Test func pruneKeepsTheNewestAndRemovesOldOnes() throws {
        let setup = try SnapshotFixture("snapprune")
        defer { setup.cleanup() }
        for name in ["app-1", "app-2", "app-3"] {
            _ = try setup.create(name)
            Thread.sleep(forTimeInterval: 1.1) // distinct finishedAt seconds
        }
        let catalog = try setup.catalog()
        #expect(try catalog.prunePlan(keepLast: 1, olderThan: 3600).candidates.isEmpty, "nothing is an hour old")
        let future = Date().addingTimeInterval(7200)
        // Within the default grace period (6 hours) nothing goes, however old the cut-off says.
        let young = try catalog.prunePlan(keepLast: 1, olderThan: 3600, now: future)
        #expect(young.candidates.isEmpty && Set(young.skipped.map(\.name)) == ["app-1", "app-2"])
        #expect(young.skipped.allSatisfy { $0.reason.contains("grace") })
        let candidates = try catalog.prunePlan(keepLast: 1, olderThan: 3600, grace: 0, now: future).candidates.map(\.name)
        #expect(Set(candidates) == ["app-1", "app-2"])
        for name in candidates { try catalog.delete(name) }
        #expect(try catalog.entries().map(\.name) == ["app-3"])
        #expect(try catalog.open(named: "latest", database: "app").name == "app-3")
    }

    /// Real data repeats: many people share a birthday month or a city, so one row's masked date
    /// or city is often another row's original. The snapshot's leak check compares the same rows
    /// (by the kept primary key), as the restore's does, and a table without one is searched by
    /// value only for transformers whose outputs cannot coincide with real values.
    @Test func repeatingValuesAreComparedRowByRow() throws {
        let setup = try SnapshotFixture("snaprepeat")
        defer { setup.cleanup() }
        let source = try PostgresConnection(url: try setup.scratch.url("src"))
        try source.execute("""
            CREATE TABLE people (id int PRIMARY KEY, born date, city text);
            INSERT INTO people SELECT g, DATE '1990-01-01' + g % 20, (ARRAY['Oslo', 'Paris', 'Lima', 'Cairo'])[1 + g % 4]
              FROM generate_series(1, 2000) g;
            CREATE TABLE visits (city text, token text);
            INSERT INTO visits SELECT (ARRAY['Oslo', 'Paris'])[1 + g % 2], 'token-' || g FROM generate_series(1, 500) g;
            """)
        try setup.job.write("rules.yaml", SnapshotFixture.rules + """

              people:
                columns: { id: keep, born: { transform: date_shift, max_days: 30 }, city: city }
              visits:
                columns: { city: city, token: hash }
            """)
        let snapshot = try setup.create("repeating")
        let checks = Dictionary(snapshot.leakChecks.map { ("\($0.table).\($0.column)", $0) }, uniquingKeysWith: { first, _ in first })
        for column in ["public.people.born", "public.people.city"] {
            #expect(checks[column]?.method == .byKey && checks[column]?.leaks == 0, "\(column): \(String(describing: checks[column]))")
            #expect((checks[column]?.sampled ?? 0) > 50, "the sampled rows were found in the snapshot and compared")
        }
        #expect(checks["public.visits.token"]?.method == .byValue && checks["public.visits.token"]?.sampled == 100)
        #expect(checks["public.visits.city"] == nil, "a dictionary value without a key proves nothing either way")

        // The restore compares the same rows again in its copy; the table without a kept key
        // reports what was checked while the snapshot was written.
        let report = try setup.restore("repeating")
        let restored = Dictionary(report.leakChecks.map { ("\($0.table).\($0.column)", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(restored["public.people.born"]?.method == .byKey && (restored["public.people.born"]?.sampled ?? 0) > 50)
        #expect(restored["public.visits.token"]?.method == .byValue && restored["public.visits.token"]?.sampled == 100)
    }

    /// The probe itself: an original in its own row is a leak, the same value in another row is not.
    @Test func theProbeFindsAnOriginalInItsOwnRow() throws {
        let setup = try SnapshotFixture("snapprobe")
        defer { setup.cleanup() }
        let (database, rules) = try setup.job.database("app")
        let engine = PostgresEngine(job: database)
        let source = try engine.openSource(readers: 1)
        defer { source.close() }
        let plan = try RestorePlan.make(rules: rules, schema: source.schema)
        let users = try #require(plan.table(named: "users"))
        let probe = LeakProbe(plan: users, engine: engine, keyColumns: ["id"], columns: [
            .init(name: "name", transformer: "full_name", method: .byKey,
                  originals: [["1"]: "First1 Last1", ["2"]: "First2 Last2"], values: []),
        ])
        // Columns as COPY sends them: id, email, name, notes, profile.
        let rows = "1\tmasked@example.com\tFirst1 Last1\t\\N\t\\N\n2\tm2@example.com\tFirst1 Last1\t\\N\t\\N\n"
        try probe.inspect(RowBatch(data: Array(rows.utf8), rowCount: 2, firstRow: 0))
        #expect(probe.results.map(\.leaks) == [1] && probe.results.map(\.sampled) == [2])
    }
}
