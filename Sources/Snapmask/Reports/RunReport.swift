import Foundation

/// What `snapmask run` did for every database of the job file: the JSON report of `--report`.
public struct RunReport: Codable, Sendable {
    public struct Database: Codable, Sendable {
        public var name: String
        public var engine: String
        public var succeeded: Bool
        /// Why it failed (never a secret: errors name URLs without passwords).
        public var error: String?
        public var startedAt: Date
        public var finishedAt: Date
        public var restore: RestoreReport?
        /// The temporary cluster read from (a managed `source:`): its lifetime and instance minutes.
        public var temporarySource: TemporarySourceUsage?

        public init(name: String, engine: String, succeeded: Bool, error: String?, startedAt: Date, finishedAt: Date,
                    restore: RestoreReport?, temporarySource: TemporarySourceUsage? = nil) {
            self.temporarySource = temporarySource
            self.name = name
            self.engine = engine
            self.succeeded = succeeded
            self.error = error
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.restore = restore
        }

        public var seconds: Double { finishedAt.timeIntervalSince(startedAt) }
        public var leaks: Int { restore?.leakChecks.reduce(0) { $0 + $1.leaks } ?? 0 }
    }

    public var snapmaskVersion = SnapmaskVersion.current
    public var startedAt: Date
    public var finishedAt: Date?
    /// `source`, or the snapshot asked for (`latest` or a name).
    public var origin: String
    public var databases: [Database] = []

    public init(startedAt: Date = Date(), origin: String) {
        self.startedAt = startedAt
        self.origin = origin
    }

    public var succeeded: Bool { databases.allSatisfy(\.succeeded) }

    public func json() throws -> Data { try ReportJSON.encode(self) }

    /// The end-of-run summary for a person.
    public var summary: String {
        var lines = ["snapmask run: \(databases.filter(\.succeeded).count) of \(databases.count) databases restored from \(origin)"]
        for database in databases {
            if let restore = database.restore, database.succeeded {
                lines.append("  ok      " + restore.summary.replacingOccurrences(of: "\n", with: "\n          "))
            } else {
                lines.append("  FAILED  \(database.name) (\(database.engine)): \(database.error ?? "unknown error")")
            }
            if let temporary = database.temporarySource { lines.append("          " + temporary.summary) }
        }
        return lines.joined(separator: "\n")
    }
}
