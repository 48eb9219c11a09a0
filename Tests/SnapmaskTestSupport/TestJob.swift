import Foundation
import Snapmask

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
