import Foundation

/// What a restore did, table by table: written as JSON with `--report` and summed up at the end.
public struct RestoreReport: Codable, Sendable {
    public struct Table: Codable, Sendable {
        public var name: String
        public var rowsRead: Int
        public var rowsWritten: Int
        public var maskedColumns: [String]
        public var dataSkipped: Bool
        public var seconds: Double
    }

    public var database: String
    public var engine: String
    public var source: String
    public var target: String
    public var snapmaskVersion: String
    public var startedAt: Date
    public var finishedAt: Date?
    /// The sanitized snapshot restored from (nil: straight from the source).
    public var snapshot: String?
    public var tables: [Table] = []
    public var overrides: [OverrideOutcome] = []
    public var rowCountsVerified: Bool = false
    public var leakChecks: [LeakCheckResult] = []
    /// `swapped`, `dry run`, or `failed: <reason>`.
    public var outcome: String = "running"
    /// After a failure: what staging holds, as the target found it.
    public var staging: StagingState?
    /// What the source said about how it was read, as the log says it: the consistency the run got
    /// (parallel readers sharing one snapshot, or one connection because they could not).
    public var notices: [String] = []
    /// Per column and path: its rule, what a sample of its values looked like, and the outcome.
    public var coverage: CoverageReport?
    /// What a `subset:` selected, table by table.
    public var subset: SubsetReport?
    /// The temporary cluster read from (a managed `source:` restored with `snapmask restore`).
    public var temporarySource: TemporarySourceUsage?

    public init(database: DatabaseJob) {
        self.database = database.name
        engine = database.engine.rawValue
        source = database.source.description
        target = database.target.description
        snapmaskVersion = SnapmaskVersion.current
        startedAt = Date()
    }

    public var rowsWritten: Int { tables.reduce(0) { $0 + $1.rowsWritten } }

    public var seconds: Double { (finishedAt ?? Date()).timeIntervalSince(startedAt) }

    /// A few lines for a person at the end of a run.
    public var summary: String {
        let rate = seconds > 0 ? Int(Double(rowsWritten) / seconds) : 0
        let (entities, rows) = engine == Engine.documentdb.rawValue ? ("collections", "documents") : ("tables", "rows")
        var lines = ["\(database) (\(engine)): \(outcome) — \(tables.count) \(entities), \(rowsWritten) \(rows) in "
                         + String(format: "%.1f", seconds) + " s (\(rate) \(rows)/s)"]
        let masked = tables.reduce(0) { $0 + $1.maskedColumns.count }
        lines.append("  masked columns: \(masked); overrides applied: \(overrides.count); row counts verified: "
                         + (rowCountsVerified ? "yes" : "no"))
        for notice in notices { lines.append("  note: \(notice)") }
        if let coverage {
            lines.append("  coverage: \(coverage.count(.masked)) columns and paths masked, \(coverage.count(.keptClean)) kept "
                             + "and clean in a sample, \(coverage.count(.keptPersonal)) kept though they look personal "
                             + "(snapmask report coverage)")
        }
        if !leakChecks.isEmpty {
            let sampled = leakChecks.reduce(0) { $0 + $1.sampled }
            let leaks = leakChecks.reduce(0) { $0 + $1.leaks }
            let unchecked = leakChecks.filter { $0.method == .notCheckable }.count
            lines.append("  leak check: \(sampled) original values searched for \(leakChecks.count - unchecked) rules, \(leaks) "
                             + "found in staging" + (unchecked > 0 ? "; \(unchecked) not checkable (no kept key)" : ""))
        }
        return lines.joined(separator: "\n")
    }

    public func json() throws -> Data { try ReportJSON.encode(self) }
}

/// The leak check of one masked column.
public struct LeakCheckResult: Codable, Sendable {
    public enum Method: String, Codable, Sendable {
        /// The same rows (by a primary key that is kept) compared in source and shadow.
        case byKey = "by key"
        /// The sampled values searched for anywhere in the shadow column.
        case byValue = "by value"
        /// Neither works: no kept key to match rows, and the transformer's outputs may equal
        /// other rows' originals.
        case notCheckable = "not checkable"
    }

    public var table: String
    public var column: String
    /// For a JSON column: the rule's path inside it.
    public var path: String?
    public var transformer: String
    public var method: Method
    public var sampled: Int
    public var leaks: Int

    public init(table: String, column: String, path: String? = nil, transformer: String, method: Method, sampled: Int,
                leaks: Int) {
        self.table = table
        self.column = column
        self.path = path
        self.transformer = transformer
        self.method = method
        self.sampled = sampled
        self.leaks = leaks
    }
}

/// How reports are written: readable, stable key order, ISO dates, and scrubbed of configured
/// secrets (a driver's message in an outcome may quote a password).
enum ReportJSON {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return Data(SecretScrubber.scrub(String(decoding: try encoder.encode(value), as: UTF8.self)).utf8)
    }
}
