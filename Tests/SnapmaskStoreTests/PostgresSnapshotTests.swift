import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport
import Testing
@testable import SnapmaskStore

/// Sanitized snapshots of a PostgreSQL database in a local folder and in an S3 bucket: made
/// once, restored like a direct restore, and refused when damaged, foreign or half-made.
@Suite struct PostgresSnapshotTests {
    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text, notes text, profile jsonb);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', 'First' || g || ' Last' || g,
               E'line one\\tcol\\nline ' || g, jsonb_build_object('contact', jsonb_build_object('email', 'c' || g || '@corp.example.org'))
          FROM generate_series(1, 3000) g;
        CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users(id), total numeric(10,2));
        INSERT INTO orders (user_id, total) SELECT 1 + g % 3000, g / 100.0 FROM generate_series(1, 6000) g;
        CREATE TABLE audit (id int, what text);
        INSERT INTO audit VALUES (1, 'secret@corp.example.org');
        """

    static let rules = """
        tables:
          users:
            columns:
              id: keep
              email: { transform: email, unique: true }
              name: full_name
              notes: lorem
              profile: { transform: json, paths: { contact.email: email } }
          orders:
            columns: { id: keep, user_id: keep, total: keep }
          audit: { data: skip }
        """

    struct Setup {
        let scratch: PostgresScratch
        let job: TestJob
        let storePath: String
    }

    /// A source, two staging databases (direct and from the snapshot), a store.
    static func setup(_ label: String, store: String? = nil, archiveKey: String? = nil) throws -> Setup {
        let scratch = try PostgresScratch(label)
        _ = try scratch.url("src", create: true, sql: sourceSQL)
        let storePath = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("store")).path
        let source = try scratch.url("src").raw
        var databases = ""
        for (name, target) in [("app", "fromsnap"), ("direct", "direct")] {
            databases += """
                \(name):
                  engine: postgres
                  source: \(source)
                  target: \(try scratch.url(target).raw)
                  rules: rules.yaml
                  overrides: overrides.yaml

                """
        }
        let job = try TestJob(databases: databases, files: [
            "rules.yaml": rules,
            "overrides.yaml": "- table: users\n  set: { name: \"Staging Admin\" }\n  where: \"id = 1\"\n",
        ])
        var header = "store: \(store ?? "file://\(storePath)")\n"
        if let archiveKey { header += "archive_key: \(archiveKey)\n" }
        let text = try String(contentsOfFile: job.path, encoding: .utf8)
        try job.write("snapmask.yaml", header + text)
        return Setup(scratch: scratch, job: job, storePath: storePath)
    }

    static func cleanup(_ setup: Setup) {
        setup.scratch.drop()
        setup.job.remove()
        try? FileManager.default.removeItem(atPath: setup.storePath)
    }

    /// The S3 test server's endpoint and throwaway credentials (moto accepts any).
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let s3 = try? TestServers.s3() {
            environment["SNAPMASK_S3_ENDPOINT"] = s3.endpoint
            environment["AWS_ACCESS_KEY_ID"] = environment["AWS_ACCESS_KEY_ID"] ?? "test"
            environment["AWS_SECRET_ACCESS_KEY"] = environment["AWS_SECRET_ACCESS_KEY"] ?? "test"
        }
        return environment
    }

    static func catalog(_ setup: Setup) throws -> (SnapshotCatalog, ArchiveKey?) {
        let job = try setup.job.load()
        let store = try SnapshotCatalog.store(for: job.store!, environment: environment)
        return (SnapshotCatalog(store: store), try job.archiveKey.map { try ArchiveKey($0.value) })
    }

    static func create(_ setup: Setup, name: String) throws -> SnapshotManifest {
        let (database, rules) = try setup.job.database("app")
        let (catalog, key) = try catalog(setup)
        return try SnapshotCreator(database: database, engine: PostgresEngine(job: database), rules: rules, store: catalog.store,
                                   archiveKey: key, options: RestoreOptions(jobs: 2), observer: RecordingObserver())
            .create(name: name)
    }

    static func restore(_ setup: Setup, snapshot: String?, database name: String = "app",
                        allowRulesChange: Bool = false) throws -> RestoreReport {
        let (database, rules) = try setup.job.database(name)
        let (catalog, key) = try catalog(setup)
        let input = try snapshot.map {
            try SnapshotRestore.input(catalog: catalog, name: $0, database: database, archiveKey: key,
                                      allowRulesChange: allowRulesChange)
        }
        return try RestoreRunner(database: database, engine: PostgresEngine(job: database), rules: rules,
                                 options: RestoreOptions(jobs: 2), observer: RecordingObserver(), snapshot: input).run()
    }

    static let contents = "SELECT u::text FROM users u ORDER BY id"

    func roundTrip(_ setup: Setup) throws {
        let manifest = try Self.create(setup, name: "app-weekly-1")
        #expect(manifest.rows == 9000 && manifest.tables.count == 3)
        #expect(manifest.leakChecks.count == 4 && manifest.leakChecks.allSatisfy { $0.leaks == 0 && $0.sampled > 0 })
        let (catalog, _) = try Self.catalog(setup)
        #expect(try catalog.entries().map(\.name) == ["app-weekly-1"])

        _ = try Self.restore(setup, snapshot: nil, database: "direct")
        let report = try Self.restore(setup, snapshot: "latest")
        #expect(report.outcome == "swapped" && report.snapshot == "app-weekly-1" && report.rowCountsVerified)
        #expect(try setup.scratch.rows("fromsnap", Self.contents) == setup.scratch.rows("direct", Self.contents))
        #expect(try setup.scratch.rows("fromsnap", "SELECT o::text FROM orders o ORDER BY id")
                    == setup.scratch.rows("direct", "SELECT o::text FROM orders o ORDER BY id"))
        #expect(try setup.scratch.rows("fromsnap", "SELECT name FROM users WHERE id = 1") == [["Staging Admin"]])
        #expect(try setup.scratch.rows("fromsnap", "SELECT count(*) FROM audit") == [["0"]])
        // No original value is at rest in the store.
        for object in try catalog.store.list(prefix: "") {
            let data = try catalog.store.get(object.key)
            #expect(data.range(of: Data("@corp.example.org".utf8)) == nil, "\(object.key)")
        }
        // By name too, once a second snapshot exists.
        _ = try Self.create(setup, name: "app-weekly-2")
        #expect(try catalog.entries().map(\.name).sorted() == ["app-weekly-1", "app-weekly-2"])
        #expect(try Self.restore(setup, snapshot: "app-weekly-1").snapshot == "app-weekly-1")
    }

    @Test func localStoreRoundTripEqualsADirectRestore() throws {
        let setup = try Self.setup("snaplocal", archiveKey: "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Yta2V5IQ==")
        defer { Self.cleanup(setup) }
        try roundTrip(setup)
    }

    @Test func s3StoreRoundTripEqualsADirectRestore() throws {
        let s3 = try TestServers.s3()
        let setup = try Self.setup("snaps3", store: "s3://\(s3.bucket)/\(TestServers.uniqueName("prefix"))")
        defer { Self.cleanup(setup) }
        try roundTrip(setup)
    }

    @Test func damagedPartStopsTheRestoreAndLeavesStagingUntouched() throws {
        let setup = try Self.setup("snapflip")
        defer { Self.cleanup(setup) }
        let manifest = try Self.create(setup, name: "flip")
        _ = try setup.scratch.url("fromsnap", create: true, sql: "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('old');")
        let (catalog, _) = try Self.catalog(setup)
        let part = try #require(manifest.tables.first { $0.name == "public.users" }?.parts.first)
        var data = try catalog.store.get(part.key)
        data[data.count / 2] ^= 0x01
        try catalog.store.put(part.key, data: data)
        #expect {
            try Self.restore(setup, snapshot: "flip")
        } throws: { error in
            "\(error)".contains(part.key) && "\(error)".contains("does not match its manifest")
        }
        #expect(try setup.scratch.rows("fromsnap", "SELECT v FROM marker") == [["old"]])
        #expect(try setup.scratch.databases().filter { $0.contains("shadow") }.isEmpty)
        // A missing part is named as well.
        try catalog.store.delete([part.key])
        #expect {
            try Self.restore(setup, snapshot: "flip")
        } throws: { error in "\(error)".contains("missing part \(part.key)") }
    }

    @Test func wrongArchiveKeyIsAClearError() throws {
        let setup = try Self.setup("snapkey", archiveKey: "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Yta2V5IQ==")
        defer { Self.cleanup(setup) }
        _ = try Self.create(setup, name: "sealed")
        let text = try String(contentsOfFile: setup.job.path, encoding: .utf8)
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(
            of: "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Yta2V5IQ==", with: "YW5vdGhlci1rZXktb2YtMzItYnl0ZXMtLS0tLS0tLS0="))
        #expect {
            try Self.restore(setup, snapshot: "sealed")
        } throws: { error in
            "\(error)".contains("cannot be opened with this archive key")
        }
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: "archive_key: Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Yta2V5IQ==\n", with: ""))
        #expect {
            try Self.restore(setup, snapshot: "sealed")
        } throws: { error in "\(error)".contains("is encrypted") }
    }

    @Test func rulesChangedSinceTheSnapshotNeedsConsent() throws {
        let setup = try Self.setup("snaprules")
        defer { Self.cleanup(setup) }
        _ = try Self.create(setup, name: "before")
        try setup.job.write("overrides.yaml", "- table: users\n  set: { name: \"Someone Else\" }\n")
        #expect {
            try Self.restore(setup, snapshot: "before")
        } throws: { error in "\(error)".contains("rules digest differs") && "\(error)".contains("--allow-rules-change") }
        #expect(try Self.restore(setup, snapshot: "before", allowRulesChange: true).outcome == "swapped")
    }

    @Test func failedOrInterruptedCreateLeavesNoRestorableSnapshot() throws {
        let setup = try Self.setup("snapfail")
        defer { Self.cleanup(setup) }
        // A failing create removes what it wrote.
        try setup.job.write("rules.yaml", Self.rules.replacingOccurrences(of: "orders:\n    columns:",
                                                                         with: "orders:\n    where: \"1/(id - 4000) IS NOT NULL\"\n    columns:"))
        #expect(throws: (any Error).self) { try Self.create(setup, name: "broken") }
        let (catalog, _) = try Self.catalog(setup)
        #expect(try catalog.store.list(prefix: "broken/").isEmpty)
        // One stopped outright leaves parts without a manifest: listed only with --all, never restored.
        try catalog.store.put("halfway/parts/public.users/000001.zst", data: Data("not finished".utf8))
        #expect(try catalog.entries().filter(\.isComplete).isEmpty)
        #expect(try catalog.entries().map(\.name) == ["halfway"])
        #expect {
            try Self.restore(setup, snapshot: "halfway")
        } throws: { error in "\(error)".contains("incomplete") }
        #expect {
            try Self.restore(setup, snapshot: "latest")
        } throws: { error in "\(error)".contains("no complete snapshot") }
    }

    @Test func pruneKeepsTheNewestAndRemovesOldOnes() throws {
        let setup = try Self.setup("snapprune")
        defer { Self.cleanup(setup) }
        for name in ["app-1", "app-2", "app-3"] { _ = try Self.create(setup, name: name) }
        let (catalog, _) = try Self.catalog(setup)
        #expect(try catalog.pruneCandidates(keepLast: 1, olderThan: 3600).isEmpty, "nothing is an hour old")
        let future = Date().addingTimeInterval(7200)
        let candidates = try catalog.pruneCandidates(keepLast: 1, olderThan: 3600, now: future).map(\.name)
        #expect(Set(candidates) == ["app-1", "app-2"])
        for name in candidates { try catalog.delete(name) }
        #expect(try catalog.entries().map(\.name) == ["app-3"])
        #expect(try catalog.manifest(named: "latest", database: "app").name == "app-3")
    }

    /// Real data repeats: many people share a birthday month or a city, so one row's masked date
    /// or city is often another row's original. The snapshot's leak check compares the same rows
    /// (by the kept primary key), as the restore's does, and a table without one is searched by
    /// value only for transformers whose outputs cannot coincide with real values.
    @Test func repeatingValuesAreComparedRowByRow() throws {
        let setup = try Self.setup("snaprepeat")
        defer { Self.cleanup(setup) }
        let source = try PostgresConnection(url: try setup.scratch.url("src"))
        try source.execute("""
            CREATE TABLE people (id int PRIMARY KEY, born date, city text);
            INSERT INTO people SELECT g, DATE '1990-01-01' + g % 20, (ARRAY['Oslo', 'Paris', 'Lima', 'Cairo'])[1 + g % 4]
              FROM generate_series(1, 2000) g;
            CREATE TABLE visits (city text, token text);
            INSERT INTO visits SELECT (ARRAY['Oslo', 'Paris'])[1 + g % 2], 'token-' || g FROM generate_series(1, 500) g;
            """)
        try setup.job.write("rules.yaml", Self.rules + """

              people:
                columns: { id: keep, born: { transform: date_shift, max_days: 30 }, city: city }
              visits:
                columns: { city: city, token: hash }
            """)
        let manifest = try Self.create(setup, name: "repeating")
        let checks = Dictionary(manifest.leakChecks.map { ("\($0.table).\($0.column)", $0) }, uniquingKeysWith: { first, _ in first })
        for column in ["public.people.born", "public.people.city"] {
            #expect(checks[column]?.method == .byKey && checks[column]?.leaks == 0, "\(column): \(String(describing: checks[column]))")
            #expect((checks[column]?.sampled ?? 0) > 50, "the sampled rows were found in the snapshot and compared")
        }
        #expect(checks["public.visits.token"]?.method == .byValue && checks["public.visits.token"]?.sampled == 100)
        #expect(checks["public.visits.city"] == nil, "a dictionary value without a key proves nothing either way")
    }

    /// The probe itself: an original in its own row is a leak, the same value in another row is not.
    @Test func theProbeFindsAnOriginalInItsOwnRow() throws {
        let setup = try Self.setup("snapprobe")
        defer { Self.cleanup(setup) }
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
