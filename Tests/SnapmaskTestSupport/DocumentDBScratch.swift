import Foundation
import Snapmask
import SnapmaskDocumentDB
import Testing

/// Databases created for one test on the MongoDB-wire test server, dropped by `drop()`.
public final class DocumentDBScratch {
    public let server: ConnectionString
    public let prefix: String
    private var used: [String] = []

    public init(_ label: String, server: ConnectionString? = nil) throws {
        self.server = try server ?? TestServers.mongodb()
        prefix = TestServers.uniqueName(label)
    }

    /// The URL of database `<prefix>_<suffix>` (created by the first write into it).
    public func url(_ suffix: String) throws -> ConnectionString {
        let name = database(suffix)
        if !used.contains(name) { used.append(name) }
        return try TestServers.replacingDatabase(of: server, with: name)
    }

    public func database(_ suffix: String) -> String { "\(prefix)_\(suffix)" }

    public func client() throws -> DocumentDBClient { try DocumentDBClient(url: server, applicationName: "snapmask tests") }

    /// Inserts documents (extended JSON) into a collection of database `suffix`.
    public func insert(_ suffix: String, _ collection: String, _ documents: [String]) throws {
        _ = try url(suffix)
        try client().insert(database: database(suffix), collection: collection, json: documents)
    }

    /// Runs a command (extended JSON) on database `suffix`; returns the reply (relaxed extended JSON).
    @discardableResult
    public func command(_ suffix: String, _ json: String) throws -> String {
        _ = try url(suffix)
        return try client().command(json, database: database(suffix))
    }

    /// A collection's documents in `_id` order, as canonical extended JSON.
    public func documents(_ suffix: String, _ collection: String, filter: String = "{}") throws -> [String] {
        try client().canonicalDocuments(database: database(suffix), collection: collection, filter: filter)
    }

    public func rawDocuments(_ suffix: String, _ collection: String) throws -> [[UInt8]] {
        try client().rawDocuments(database: database(suffix), collection: collection)
    }

    public func collections(_ suffix: String) throws -> [String] {
        try client().collectionNames(database: database(suffix))
    }

    /// The repository's fixtures/documentdb folder.
    public static let fixtureDirectory = Repository.file("fixtures/documentdb")

    /// The fixture's documents of one collection (canonical extended JSON, one per line).
    public static func fixtureDocuments(_ collection: String) throws -> [String] {
        let text = try String(contentsOf: fixtureDirectory.appendingPathComponent("\(collection).jsonl"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// Loads the demo fixture (fixtures/documentdb, as load.py does) into database `suffix`:
    /// each collection created with its options, filled, then indexed.
    public func loadFixture(_ suffix: String, only: Set<String>? = nil) throws {
        _ = try url(suffix)
        try DocumentDBFixture.load(directory: Self.fixtureDirectory, into: try client(), database: database(suffix), only: only)
    }

    /// A job restoring database `messages` from `src` (or `source`) into `stage` with these rules
    /// (and overrides).
    public func job(rules: String, overrides: String? = nil, source: ConnectionString? = nil) throws -> TestJob {
        try TestJob(database: "messages", engine: .documentdb, source: (source ?? url("src")).raw, target: url("stage").raw,
                    rules: rules, overrides: overrides)
    }

    public func drop() {
        guard let client = try? client() else { return }
        for name in used { _ = try? client.command(#"{"dropDatabase": 1}"#, database: name) }
    }
}

extension DocumentDBScratch {
    /// Staging as a test leaves it before a restore: two collections with one document each.
    public func markStaging() throws {
        try insert("stage", "marker", [#"{"_id": 1, "v": "previous staging"}"#])
        try insert("stage", "users", [#"{"_id": "old", "email": "old@staging.test"}"#])
    }

    /// Staging as `markStaging` left it: no shadow collection beside it, its lock released.
    public func expectStagingUntouched(sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try documents("stage", "marker") == [#"{ "_id" : { "$numberInt" : "1" }, "v" : "previous staging" }"#],
                sourceLocation: sourceLocation)
        #expect(try documents("stage", "users") == [#"{ "_id" : "old", "email" : "old@staging.test" }"#],
                sourceLocation: sourceLocation)
        let names = try collections("stage")
        #expect(!names.contains { $0.hasPrefix("snapmask_shadow.") }, "no shadow collection left: \(names)",
                sourceLocation: sourceLocation)
        #expect(try documents("stage", "snapmask_locks").isEmpty, "the lock was released", sourceLocation: sourceLocation)
    }
}
