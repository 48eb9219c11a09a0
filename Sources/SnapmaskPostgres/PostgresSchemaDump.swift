import Foundation
import Snapmask

/// The source's schema as SQL, from `pg_dump --schema-only` in its two sections: `pre-data`
/// (types, tables, functions, views: created before the rows) and `post-data` (indexes,
/// constraints, foreign keys, triggers: created after). pg_dump reads inside the exported
/// snapshot, so schema and rows are of the same moment.
///
/// pg_dump refuses servers newer than itself: the newest pg_dump found is used
/// (`SNAPMASK_PG_DUMP`, then /usr/lib/postgresql/*/bin, then PATH), and a server newer than it
/// stops the run with the package to install.
struct PostgresSchemaDump {
    enum Section: String {
        case preData = "pre-data"
        case postData = "post-data"
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let source: ConnectionString
    /// How long pg_dump waits for its table locks. Only a session queued for an exclusive lock
    /// behind the snapshot's own locks can block it, and that would wait for the whole run.
    var lockTimeoutMilliseconds = 60_000

    func sql(_ section: Section, snapshot: String?, serverVersion: Int) throws -> String {
        let (executable, version) = try Self.pgDump()
        let serverMajor = serverVersion / 10_000
        if serverMajor > version {
            throw Failed(description: "pg_dump \(version) cannot read the schema of a PostgreSQL \(serverMajor) server; "
                            + "install postgresql-client-\(serverMajor) or point SNAPMASK_PG_DUMP at its pg_dump")
        }
        var arguments = ["--schema-only", "--section=\(section.rawValue)", "--no-owner", "--no-publications",
                         "--no-subscriptions", "--no-security-labels", "--lock-wait-timeout=\(lockTimeoutMilliseconds)"]
        if let snapshot { arguments.append("--snapshot=\(snapshot)") }
        // The password goes through the environment, never on the command line (visible in ps).
        arguments.append("--dbname=\(Self.withoutPassword(source))")
        var environment = ProcessInfo.processInfo.environment
        if let password = source.password { environment["PGPASSWORD"] = password }
        environment["PGAPPNAME"] = "snapmask schema"
        environment["PGOPTIONS"] = "-c default_transaction_read_only=on"
        let output = try Self.run(executable, arguments, environment: environment)
        return Self.withoutClientCommands(output)
    }

    /// pg_dump 15.14 and later frame plain dumps with psql commands (`\restrict`, `\unrestrict`)
    /// that are not SQL; they are dropped before the text is sent to the server.
    static func withoutClientCommands(_ sql: String) -> String {
        sql.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\") }
            .joined(separator: "\n")
    }

    static func withoutPassword(_ url: ConnectionString) -> String {
        guard url.password != nil, let at = url.raw.lastIndex(of: "@"), let schemeEnd = url.raw.range(of: "://") else {
            return url.raw
        }
        let userInfo = url.raw[schemeEnd.upperBound..<at]
        let user = userInfo.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return String(url.raw[..<schemeEnd.upperBound]) + user + String(url.raw[at...])
    }

    static func pgDump() throws -> (path: String, major: Int) {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["SNAPMASK_PG_DUMP"] { candidates.append(configured) }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) { candidates.append("/usr/lib/postgresql/\(version)/bin/pg_dump") }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/pg_dump")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let text = try run(candidate, ["--version"], environment: ProcessInfo.processInfo.environment)
            // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
            if let number = text.split(separator: " ").first(where: { $0.first?.isNumber == true }),
               let major = Int(number.split(separator: ".").first ?? "") {
                return (candidate, major)
            }
        }
        throw Failed(description: "pg_dump was not found; install postgresql-client (Debian) or set SNAPMASK_PG_DUMP")
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failed(description: "\(URL(fileURLWithPath: executable).lastPathComponent) failed: \(message)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
