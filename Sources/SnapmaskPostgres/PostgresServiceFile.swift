import Foundation
import Snapmask

/// How pg_dump gets its connection without any secret on its command line (`ps` and
/// /proc/PID/cmdline show it to every user) or in its environment: a libpq service file, mode
/// 0600 in a 0700 folder of its own, holding every connection keyword of the URL — the password
/// and any `password=`/`sslpassword=` parameter included — removed as soon as pg_dump is done.
/// pg_dump is then given only `--dbname=service=snapmask`.
struct PostgresServiceFile {
    static let serviceName = "snapmask"

    let directory: URL
    let path: String

    init(for url: ConnectionString) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapmask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        path = directory.appendingPathComponent("pg_service.conf").path
        let text = try Self.contents(for: url)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            try? FileManager.default.removeItem(at: directory)
            throw PostgresError("cannot write a connection file for pg_dump in \(directory.path)")
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `[snapmask]` and one `keyword=value` line per connection setting.
    static func contents(for url: ConnectionString) throws -> String {
        var lines = ["[\(serviceName)]"]
        var hosts: [String] = [], ports: [String] = []
        for entry in url.hosts.split(separator: ",") {
            let host = ConnectionString.hostAndPort(String(entry))
            hosts.append(host.host)
            ports.append(host.port.map(String.init) ?? "")
        }
        if !hosts.isEmpty && hosts != [""] { lines.append("host=\(hosts.joined(separator: ","))") }
        if ports.contains(where: { !$0.isEmpty }) {
            lines.append("port=\(ports.map { $0.isEmpty ? "5432" : $0 }.joined(separator: ","))")
        }
        if let database = url.database { lines.append("dbname=\(database)") }
        if let user = url.user { lines.append("user=\(user)") }
        try PostgresIAM.check(url)
        // With IAM authentication, a token made now: pg_dump connects at once, well within its 15 minutes.
        if let password = try url.passwordForNewConnection() { lines.append("password=\(password)") }
        for (key, value) in url.query { lines.append("\(key)=\(value)") }
        // pg_dump verifies the server as snapmask's own connections do.
        for (key, value) in PostgresTLS.defaults(for: url) where url.queryValue(key) == nil { lines.append("\(key)=\(value)") }
        // A line break inside a value would start another keyword: no URL should hold one.
        for line in lines where line.contains("\n") || line.contains("\r") {
            throw PostgresError("the source URL holds a line break in \(line.prefix { $0 != "=" }); remove it")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
