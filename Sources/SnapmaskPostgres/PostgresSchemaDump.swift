import Foundation
import Snapmask

/// The source's schema as SQL in its two sections: `pre-data` (types, tables, functions, views:
/// created before the rows) and `post-data` (indexes, constraints, foreign keys, triggers:
/// created after). pg_dump reads inside the exported snapshot, so schema and rows are of the
/// same moment.
///
/// Foreign data never reaches the text: foreign tables and the views reading them are excluded
/// by pg_dump itself (`--exclude-table`), and foreign servers and user mappings, which pg_dump
/// cannot exclude, are dropped from the archive's table of contents: one custom-format dump, then
/// `pg_restore --list` / `--use-list` writes each section. Filtering pg_restore's own list of
/// entries (type and name as pg_dump recorded them) rather than the script's text means no
/// function body or comment that looks like an entry header can carry a user mapping's password
/// past the filter. The archive stays in memory (piped to pg_restore), never on disk.
///
/// pg_dump refuses servers newer than itself: the newest pg_dump found is used
/// (`SNAPMASK_PG_DUMP`, then /usr/lib/postgresql/*/bin, then PATH), with the pg_restore beside it,
/// and a server newer than it stops the run with the package to install.
struct PostgresSchemaDump {
    enum Section: String, CaseIterable {
        case preData = "pre-data"
        case postData = "post-data"
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let source: ConnectionString
    /// Relations left out of the schema (foreign tables and what reads them).
    var leftOut: [PostgresForeignData.LeftOut] = []
    /// How long pg_dump waits for its table locks. Only a session queued for an exclusive lock
    /// behind the snapshot's own locks can block it, and that would wait for the whole run.
    var lockTimeoutMilliseconds = 60_000

    func sections(snapshot: String?, serverVersion: Int) throws -> [Section: String] {
        let (executable, version) = try Self.pgDump()
        let serverMajor = serverVersion / 10_000
        if serverMajor > version {
            throw Failed(description: "pg_dump \(version) cannot read the schema of a PostgreSQL \(serverMajor) server; "
                            + "install postgresql-client-\(serverMajor) or point SNAPMASK_PG_DUMP at its pg_dump")
        }
        let restore = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("pg_restore").path
        guard FileManager.default.isExecutableFile(atPath: restore) else {
            throw Failed(description: "pg_restore was not found next to \(executable); install the whole postgresql-client package")
        }
        var arguments = ["--format=custom", "--schema-only", "--no-publications", "--no-subscriptions",
                         "--no-security-labels", "--lock-wait-timeout=\(lockTimeoutMilliseconds)"]
        if let snapshot { arguments.append("--snapshot=\(snapshot)") }
        arguments += leftOut.map { "--exclude-table=\(Self.exactPattern($0))" }
        // No secret on the command line or in the environment: a 0600 service file holds them.
        let service = try PostgresServiceFile(for: source)
        defer { service.remove() }
        arguments.append("--dbname=service=\(PostgresServiceFile.serviceName)")
        var environment = Self.environmentWithoutSecrets
        environment["PGSERVICEFILE"] = service.path
        environment["PGAPPNAME"] = "snapmask schema"
        environment["PGOPTIONS"] = "-c default_transaction_read_only=on"
        let archive = try Self.run(executable, arguments, environment: environment)

        // pg_restore only reads the archive; it never connects.
        let offline = Self.environmentWithoutSecrets
        let list = String(decoding: try Self.run(restore, ["--list"], environment: offline, input: archive), as: UTF8.self)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapmask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let listFile = directory.appendingPathComponent("entries.list")
        try Data(PostgresForeignData.withoutServersAndMappings(list).utf8).write(to: listFile)

        var sections: [Section: String] = [:]
        for section in Section.allCases {
            let output = try Self.run(restore, ["--section=\(section.rawValue)", "--use-list=\(listFile.path)", "--no-owner",
                                                "--file=-"], environment: offline, input: archive)
            let sql = Self.withoutClientCommands(String(decoding: output, as: UTF8.self))
            if PostgresForeignData.holdsLinks(sql) {
                throw Failed(description: "the \(section.rawValue) schema of the source still defines a foreign server, user "
                                + "mapping or foreign table after they were filtered out; snapmask stops rather than give "
                                + "staging a link (this pg_dump may name its entries differently: please report it)")
            }
            sections[section] = sql
        }
        return sections
    }

    /// A pg_dump pattern that matches exactly one relation: inside double quotes `*`, `?` and `.`
    /// are literal and `""` is a quote.
    static func exactPattern(_ relation: PostgresForeignData.LeftOut) -> String {
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return quoted(relation.schema) + "." + quoted(relation.name)
    }

    /// pg_dump 15.14 and later frame plain dumps with psql commands (`\restrict`, `\unrestrict`)
    /// that are not SQL; they are dropped before the text is sent to the server.
    static func withoutClientCommands(_ sql: String) -> String {
        sql.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\") }
            .joined(separator: "\n")
    }

    /// This process's environment without what would override the service file or carry a password.
    static var environmentWithoutSecrets: [String: String] {
        ProcessInfo.processInfo.environment.filter { !["PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE"].contains($0.key) }
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
            let text = String(decoding: try run(candidate, ["--version"], environment: ProcessInfo.processInfo.environment),
                              as: UTF8.self)
            // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
            if let number = text.split(separator: " ").first(where: { $0.first?.isNumber == true }),
               let major = Int(number.split(separator: ".").first ?? "") {
                return (candidate, major)
            }
        }
        throw Failed(description: "pg_dump was not found; install postgresql-client (Debian) or set SNAPMASK_PG_DUMP")
    }

    /// Runs a client program; `input` is written to its standard input while its output is read.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    input: Data? = nil) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe(), errors = Pipe(), feed = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : feed
        try process.run()
        nonisolated(unsafe) var errorData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        if let input {
            // A program that stops reading early (it failed) ends the write with EPIPE; its exit
            // status says why. SIGPIPE is blocked on this thread only, so it cannot end snapmask,
            // and a pending one is discarded with the thread.
            group.enter()
            let writer = Thread {
                var blocked = sigset_t()
                sigemptyset(&blocked)
                sigaddset(&blocked, SIGPIPE)
                pthread_sigmask(SIG_BLOCK, &blocked, nil)
                try? feed.fileHandleForWriting.write(contentsOf: input)
                try? feed.fileHandleForWriting.close()
                group.leave()
            }
            writer.start()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failed(description: "\(URL(fileURLWithPath: executable).lastPathComponent) failed: \(message)")
        }
        return data
    }
}
