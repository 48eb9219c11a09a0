import Foundation
import Snapmask
import SnapmaskMySQL

/// Databases (and accounts) created for one test on the MySQL test server, dropped by `drop()`.
public final class MySQLScratch {
    public let server: ConnectionString
    public let prefix: String
    private var users: [String] = []

    public init(_ label: String) throws {
        server = try TestServers.mysql()
        prefix = TestServers.uniqueName(label)
    }

    public func name(_ suffix: String) -> String { "\(prefix)_\(suffix)" }

    /// The URL of database `<prefix>_<suffix>` (created when `create` is true, then `sql` is run in it).
    public func url(_ suffix: String, create: Bool = false, sql: String? = nil) throws -> ConnectionString {
        let name = name(suffix)
        if create {
            try MySQLConnection(url: server, database: .none)
                .query("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        }
        let url = try TestServers.replacingDatabase(of: server, with: name)
        if let sql { try MySQLConnection(url: url).executeScript(sql) }
        return url
    }

    public func connect(_ suffix: String) throws -> MySQLConnection {
        try MySQLConnection(url: try TestServers.replacingDatabase(of: server, with: name(suffix)))
    }

    /// Rows of a query as text (nil for NULL), for comparisons.
    public func rows(_ suffix: String, _ sql: String) throws -> [[String?]] {
        try connect(suffix).query(sql)
    }

    /// Databases of this test, e.g. to see that no shadow copy was left.
    public func databases() throws -> [String] {
        try MySQLConnection(url: server, database: .none).query("SHOW DATABASES").compactMap { $0[0] }
            .filter { $0.hasPrefix(prefix + "_") }.sorted()
    }

    /// An account with exactly these grants (each `ON ... ` clause is completed with `TO` the
    /// account), reachable as the returned URL to database `<prefix>_<suffix>`.
    public func account(_ label: String, suffix: String, grants: [String]) throws -> ConnectionString {
        let user = String("\(prefix)_\(label)".suffix(32))
        let admin = try MySQLConnection(url: server, database: .none)
        try admin.query("CREATE USER '\(user)'@'%' IDENTIFIED BY 'Scr4tch-pw'")
        users.append(user)
        for grant in grants { try admin.query("GRANT \(grant) TO '\(user)'@'%'") }
        let (host, port) = server.primaryHost
        return try ConnectionString("mysql://\(user):Scr4tch-pw@\(host):\(port ?? 3306)/\(name(suffix))")
    }

    /// A job restoring database `src` (or `source`) into `stage` with these rules (and overrides).
    public func job(rules: String, overrides: String? = nil, source: ConnectionString? = nil) throws -> TestJob {
        try TestJob(engine: .mysql, source: (source ?? url("src")).raw, target: url("stage").raw, rules: rules,
                    overrides: overrides)
    }

    public func drop() {
        guard let admin = try? MySQLConnection(url: server, database: .none) else { return }
        for name in (try? databases()) ?? [] {
            _ = try? admin.query("DROP DATABASE IF EXISTS `\(name)`")
        }
        for user in users { _ = try? admin.query("DROP USER IF EXISTS '\(user)'@'%'") }
    }
}

/// Restores through another engine, for tests that compare engines (the same input must mask
/// to the same output in PostgreSQL and MySQL).
public enum CrossEngine {
    public static func restorePostgres(_ job: TestJob, name: String = "app") throws -> RestoreReport {
        try job.restore(name)
    }
}
