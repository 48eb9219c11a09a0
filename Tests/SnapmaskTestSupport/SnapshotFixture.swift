import Foundation
import Snapmask
import SnapmaskPostgres
import Testing
import SnapmaskStore

/// The two kinds of store every snapshot test runs against.
public enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case local, s3

    public var testDescription: String { rawValue }
}

/// A PostgreSQL source, two staging databases (`fromsnap` restored from snapshots, `direct`
/// straight from the source), a job file and a store (a local folder or a prefix in the moto
/// bucket), for the snapshot tests.
public struct SnapshotFixture: @unchecked Sendable {
    public static let archiveKey = "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Yta2V5ISE="
    public static let otherKey = "YW5vdGhlci1rZXktb2YtMzItYnl0ZXMtLS0tLS0tLS0="

    public static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text, notes text, profile jsonb);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', 'First' || g || ' Last' || g,
               E'line one\\tcol\\nline ' || g, jsonb_build_object('contact', jsonb_build_object('email', 'c' || g || '@corp.example.org'))
          FROM generate_series(1, 3000) g;
        CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users(id), total numeric(10,2));
        INSERT INTO orders (user_id, total) SELECT 1 + g % 3000, g / 100.0 FROM generate_series(1, 6000) g;
        CREATE TABLE audit (id int, what text);
        INSERT INTO audit VALUES (1, 'secret@corp.example.org');
        COMMENT ON TABLE users IS 'confidential-comment-about-users';
        """

    public static let rules = """
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

    public static let overrides = "- table: users\n  set: { name: \"Staging Admin\" }\n  where: \"id = 1\"\n"

    public let scratch: PostgresScratch
    public let job: TestJob
    public let kind: StoreKind
    public let storePath: String
    public let storeURL: String

    /// `archiveKey`: nil for a job file without one (unencrypted snapshots); `sourceSQL` and
    /// `rules` replace the source's tables and their rules.
    public init(_ label: String, kind: StoreKind = .local, archiveKey: String? = SnapshotFixture.archiveKey,
                sourceSQL: String = SnapshotFixture.sourceSQL, rules: String = SnapshotFixture.rules,
                overrides: String = SnapshotFixture.overrides, files: [String: String] = [:]) throws {
        scratch = try PostgresScratch(label)
        _ = try scratch.url("src", create: true, sql: sourceSQL)
        storePath = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("store")).path
        self.kind = kind
        switch kind {
        case .local: storeURL = "file://\(storePath)"
        case .s3: storeURL = "s3://\(try TestServers.s3().bucket)/\(TestServers.uniqueName("snapprefix"))"
        }
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
        job = try TestJob(databases: databases, files: ["rules.yaml": rules, "overrides.yaml": overrides].merging(files) { $1 })
        var header = "store: \(storeURL)\n"
        if let archiveKey { header += "archive_key: \(archiveKey)\n" }
        let text = try String(contentsOfFile: job.path, encoding: .utf8)
        try job.write("snapmask.yaml", header + text)
    }

    public func cleanup() {
        scratch.drop()
        job.remove()
        try? FileManager.default.removeItem(atPath: storePath)
        if kind == .s3, let store = try? rawStore() {
            if let keys = try? store.list(prefix: "").map(\.key) { try? store.delete(keys) }
        }
    }

    /// The S3 test server's endpoint and throwaway credentials (moto accepts any).
    public static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let s3 = try? TestServers.s3() {
            environment["SNAPMASK_S3_ENDPOINT"] = s3.endpoint
            environment["AWS_ACCESS_KEY_ID"] = environment["AWS_ACCESS_KEY_ID"] ?? "test"
            environment["AWS_SECRET_ACCESS_KEY"] = environment["AWS_SECRET_ACCESS_KEY"] ?? "test"
        }
        return environment
    }

    public func rawStore() throws -> any ObjectStore {
        try SnapshotCatalog.store(for: storeURL, environment: Self.environment)
    }

    /// The job file's store and archive key, as the commands open them.
    public func catalog() throws -> SnapshotCatalog {
        let job = try self.job.load()
        return SnapshotCatalog(store: try rawStore(), archiveKey: try job.archiveKey.map { try ArchiveKey($0.value) })
    }

    public func create(_ name: String, unencrypted: Bool = false, store: (any ObjectStore)? = nil,
                leaseRenewal: TimeInterval = SnapshotLease.defaultRenewal) throws -> Snapshot {
        let (database, rules) = try job.database("app")
        let catalog = try catalog()
        var creator = SnapshotCreator(database: database, engine: PostgresEngine(job: database), rules: rules,
                                      store: store ?? catalog.store, archiveKey: catalog.archiveKey, unencrypted: unencrypted,
                                      options: RestoreOptions(jobs: 2), observer: RecordingObserver())
        creator.leaseRenewal = leaseRenewal
        return try creator.create(name: name)
    }

    /// A restore of `database` from `snapshot` (nil: from the source), as `snapmask restore` runs it:
    /// from a snapshot, the rules are not compiled (no masking key is used).
    public func restore(_ snapshot: String?, database name: String = "app", allowRulesChange: Bool = false,
                 allowUnencrypted: Bool = false, warnings: WarningLog = WarningLog()) throws -> RestoreReport {
        let loaded = try job.load()
        let database = try loaded.database(named: name)
        let catalog = try catalog()
        let input = try snapshot.map {
            try SnapshotRestore.input(catalog: catalog, name: $0, database: database, archiveKey: catalog.archiveKey,
                                      allowRulesChange: allowRulesChange, allowUnencrypted: allowUnencrypted,
                                      warn: warnings.add)
        }
        let rules = snapshot == nil ? try CompiledRules.compile(database.rules, key: loaded.maskingKey)
                                    : CompiledRules.forMaskedSnapshot(database.rules)
        return try RestoreRunner(database: database, engine: PostgresEngine(job: database), rules: rules,
                                 options: RestoreOptions(jobs: 2), observer: RecordingObserver(), snapshot: input).run()
    }

    /// Staging as a DBA last left it: a marker table whose survival shows a refused restore
    /// changed nothing.
    public func markStaging() throws {
        let exists = try scratch.databases().contains("\(scratch.prefix)_fromsnap")
        _ = try scratch.url("fromsnap", create: !exists,
                            sql: "DROP TABLE IF EXISTS marker; CREATE TABLE marker (v text); INSERT INTO marker VALUES ('old');")
    }

    public func expectStagingUnchanged(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try scratch.rows("fromsnap", "SELECT v FROM marker") == [["old"]], sourceLocation: sourceLocation)
        #expect(try scratch.databases().filter { $0.contains("shadow") }.isEmpty, "no shadow copy is left",
                sourceLocation: sourceLocation)
    }

    public static let contents = "SELECT u::text FROM users u ORDER BY id"

    // MARK: Editing what is stored, as anyone with write access to the store could

    /// The stored manifest as a JSON object.
    public func manifestObject(_ name: String) throws -> [String: Any] {
        let data = try rawStore().get("\(name)/manifest.json")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    public func writeManifest(_ name: String, _ object: [String: Any]) throws {
        try rawStore().put("\(name)/manifest.json", data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    public func editManifest(_ name: String, _ edit: (inout [String: Any]) -> Void) throws {
        var object = try manifestObject(name)
        edit(&object)
        try writeManifest(name, object)
    }

    /// Copies every object of one snapshot folder to another name.
    public func copySnapshot(_ from: String, to: String) throws {
        let store = try rawStore()
        for object in try store.list(prefix: "\(from)/") {
            try store.put(to + object.key.dropFirst(from.count), data: try store.get(object.key))
        }
    }
}

/// Warnings a restore passes on (snapshots `latest` skipped).
public final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    public init() {}

    public func add(_ message: String) { lock.withLock { messages.append(message) } }
    public var all: [String] { lock.withLock { messages } }
}
