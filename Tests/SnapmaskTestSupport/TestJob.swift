import Foundation
import Snapmask
import SnapmaskDocumentDB
import SnapmaskMySQL
import SnapmaskPostgres

/// A job file with its rule and override files in a temporary folder, as a DBA would write them.
public struct TestJob: Sendable {
    public static let maskingKey = "engine-test-masking-key-0123456789"

    public let directory: URL
    public var path: String { directory.appendingPathComponent("snapmask.yaml").path }

    /// `databases` is the YAML under `databases:`; `files` maps file names (relative to the job
    /// file) to their contents.
    public init(databases: String, files: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("job"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let indented = databases.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        try write("snapmask.yaml", "masking_key: \(Self.maskingKey)\ndatabases:\n\(indented)\n")
        for (name, text) in files { try write(name, text) }
    }

    public func write(_ name: String, _ text: String) throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    public func load() throws -> JobFile {
        try JobFile.load(path: path, environment: ProcessInfo.processInfo.environment)
    }

    /// The database `name` with its rules compiled, ready for a RestoreRunner.
    public func database(_ name: String) throws -> (job: DatabaseJob, rules: CompiledRules) {
        let job = try load()
        let database = try job.database(named: name)
        return (database, try CompiledRules.compile(database.rules, key: job.maskingKey))
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

extension TestJob {
    /// A job file with one database `name` of `engine`, from `source` to `target`, its rules in
    /// rules.yaml and, when given, its overrides in overrides.yaml.
    public init(database name: String = "app", engine: Engine, source: String, target: String, rules: String,
                overrides: String? = nil) throws {
        var database = """
            \(name):
              engine: \(engine.rawValue)
              source: "\(source)"
              target: "\(target)"
              rules: rules.yaml
            """
        var files = ["rules.yaml": rules]
        if let overrides {
            database += "\n  overrides: overrides.yaml"
            files["overrides.yaml"] = overrides
        }
        try self.init(databases: database, files: files)
    }

    /// Restores database `name` (the job file's only one when nil) as `snapmask restore` does,
    /// through `engine` (by default the driver the job file names).
    public func restore(_ name: String? = nil, jobs: Int = 2, observer: any RestoreObserver = RecordingObserver(),
                        engine: ((DatabaseJob) -> any DatabaseEngine)? = nil) throws -> RestoreReport {
        try restore(name, options: RestoreOptions(jobs: jobs), observer: observer, engine: engine)
    }

    public func restore(_ name: String? = nil, options: RestoreOptions, observer: any RestoreObserver = RecordingObserver(),
                        engine: ((DatabaseJob) -> any DatabaseEngine)? = nil) throws -> RestoreReport {
        let (database, rules) = try self.database(name ?? onlyDatabase())
        return try RestoreRunner(database: database, engine: engine?(database) ?? Self.engine(for: database), rules: rules,
                                 options: options, observer: observer).run()
    }

    /// The driver of a database of the job file, as the command line picks it.
    public static func engine(for database: DatabaseJob) -> any DatabaseEngine {
        switch database.engine {
        case .postgres: return PostgresEngine(job: database)
        case .mysql: return MySQLEngine(job: database)
        case .documentdb: return DocumentDBEngine(job: database)
        }
    }

    private func onlyDatabase() throws -> String {
        let names = try load().databases.map(\.name)
        guard names.count == 1 else { throw ConfigError("the test job has \(names.count) databases; name the one to restore") }
        return names[0]
    }
}

/// Collects what a restore reports, for assertions.
public final class RecordingObserver: RestoreObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []

    public init() {}

    public var phases: [String] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    public func phase(_ database: String, _ message: String) {
        lock.lock()
        recorded.append(message)
        lock.unlock()
    }

    public func tableStarted(_ database: String, table: String, estimatedRows: Int) {}
    public func tableProgress(_ database: String, table: String, rows: Int) {}
    public func tableFinished(_ database: String, table: String, rows: Int, seconds: Double) {}
}
