import Foundation
import Snapmask
import SnapmaskPostgres

/// Databases created for one test on the PostgreSQL test server, dropped by `drop()`.
public final class PostgresScratch {
    public let server: ConnectionString
    public let prefix: String
    private var created: [String] = []

    public init(_ label: String) throws {
        server = try TestServers.postgres()
        prefix = TestServers.uniqueName(label)
    }

    /// The URL of database `<prefix>_<suffix>` (created when `create` is true).
    public func url(_ suffix: String, create: Bool = false, sql: String? = nil) throws -> ConnectionString {
        let name = "\(prefix)_\(suffix)"
        if create {
            let admin = try PostgresConnection(url: server)
            try admin.execute("CREATE DATABASE \"\(name)\" TEMPLATE template0 ENCODING 'UTF8'")
            created.append(name)
        } else if !created.contains(name) {
            created.append(name)
        }
        let url = try TestServers.replacingDatabase(of: server, with: name)
        if let sql { try PostgresConnection(url: url).execute(sql) }
        return url
    }

    public func connect(_ suffix: String) throws -> PostgresConnection {
        try PostgresConnection(url: try TestServers.replacingDatabase(of: server, with: "\(prefix)_\(suffix)"))
    }

    /// Rows of a query as text, for comparisons.
    public func rows(_ suffix: String, _ sql: String) throws -> [[String?]] {
        try connect(suffix).execute(sql).rows
    }

    /// Databases of this test whose names match, e.g. leftover shadow copies.
    public func databases() throws -> [String] {
        let admin = try PostgresConnection(url: server)
        return try admin.execute("SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1", ["\(prefix)%"]).rows
            .compactMap { $0[0] }
    }

    /// A job restoring database `src` into `stage` with these rules (and overrides).
    public func job(rules: String, overrides: String? = nil) throws -> TestJob {
        try TestJob(engine: .postgres, source: url("src").raw, target: url("stage").raw, rules: rules, overrides: overrides)
    }

    public func drop() {
        guard let admin = try? PostgresConnection(url: server) else { return }
        for name in (try? databases()) ?? created {
            _ = try? admin.execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
        }
    }
}
