import Foundation

/// What `check` found for one database: how the source's schema drifted from the rules (with
/// the rules `scan` suggests for what is new), and the kept columns that look personal. Printed
/// for people, or as JSON (`--format json`) for a daily job to act on.
public struct DatabaseCheck: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// The rules match the source.
        case ok
        /// The source's schema and the rules disagree: a run would stop.
        case drift
        /// Kept columns look personal under strict_keep: a run would stop.
        case keptPersonal = "kept personal data"
        /// The source could not be read.
        case failed
        /// Files only (--offline).
        case offline
    }

    public var database: String
    public var engine: String
    public var source: String
    public var status: Status
    /// Rule counts, for the one-line summary.
    public var summary: String
    public var problems: [CheckProblem] = []
    /// What the rule file lacks, as `scan --patch` writes it (nil when nothing is missing).
    public var suggestedRules: String?
    /// Kept columns and paths whose sampled values look personal.
    public var keptPersonal: [CoverageEntry] = []
    public var strictKeep = false
    public var warnings: [String] = []
    public var error: String?

    public init(database: DatabaseJob, summary: String) {
        self.database = database.name
        engine = database.engine.rawValue
        source = database.source.description
        status = .ok
        self.summary = summary
        strictKeep = database.rules.strictKeep
    }

    /// Tables, columns and paths of the source without a rule.
    public var unruled: Int { problems.filter { $0.drift == .added }.count }

    /// Whether a run would stop on what was found.
    public var failed: Bool { status == .drift || status == .keptPersonal || status == .failed }

    public var text: String {
        var lines: [String] = []
        lines += warnings.map { "warning: \(database): \($0)" }
        switch status {
        case .offline:
            lines.append("ok: \(database) (\(engine)): \(summary)")
        case .ok, .keptPersonal:
            lines.append("\(status == .ok ? "ok" : "FAILED"): \(database) (\(engine)): \(summary)")
        case .drift:
            lines.append("FAILED: \(database) (\(engine)): \(problems.count) problem\(problems.count == 1 ? "" : "s") "
                             + "against \(source):")
            for drift in [CheckProblem.Drift.added, .removed, .changed] {
                let matching = problems.filter { $0.drift == drift }
                guard !matching.isEmpty else { continue }
                lines.append("  \(drift.rawValue) (\(matching.count)):")
                lines += matching.map { "    \($0)" }
            }
        case .failed:
            lines.append("FAILED: \(database) (\(engine)): \(error ?? "unknown error")")
        }
        if !keptPersonal.isEmpty {
            let one = keptPersonal.count == 1
            lines.append("  \(strictKeep ? "refused (strict_keep: true)" : "warning"): \(keptPersonal.count) kept column"
                             + (one ? " or path looks" : "s or paths look") + " personal:")
            lines += keptPersonal.map { "    \($0.table).\($0.column) (\($0.rule)): \($0.classification.rawValue); \($0.reason)" }
        }
        if let suggestedRules {
            lines.append("  suggested rules (merge them, and decide each line marked review:):")
            lines += suggestedRules.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "    \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

/// Every database's check, as `check --format json` prints it.
public struct CheckReport: Codable, Sendable {
    public var snapmaskVersion = SnapmaskVersion.current
    public var checkedAt = Date()
    public var databases: [DatabaseCheck]

    public init(databases: [DatabaseCheck]) {
        self.databases = databases
    }

    public var failed: Bool { databases.contains(where: \.failed) }

    public func json() throws -> String { String(decoding: try ReportJSON.encode(self), as: UTF8.self) }
}
