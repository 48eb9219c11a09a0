import ArgumentParser
import Foundation
import Snapmask
import SnapmaskStore

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reads what runs and snapshots recorded.",
        subcommands: [Coverage.self])

    struct Coverage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per column and path: the rule that covered it, what a sample of its values looked like, the outcome.",
            discussion: """
                Every run and every snapshot records, for each column, JSON path and document path, the rule used, \
                the classification of a sample of its values (as scan makes it; never the values) and its status: \
                masked, kept and looks clean, kept and looks personal, computed by staging (generated columns), or \
                skipped (data: skip). Read it from a run's --report file, or from a snapshot (sealed with its \
                metadata: the archive key is needed).

                  snapmask report coverage --report /var/log/snapmask/run.json
                  snapmask report coverage -c snapmask.yaml -d app --snapshot latest --summary
                """)

        @Option(help: ArgumentHelp("A report written by run or restore --report.", valueName: "file"))
        var report: String?

        @Option(name: .shortAndLong, help: "The job file whose store holds the snapshot (with --snapshot).")
        var config: String?

        @Option(help: ArgumentHelp("A snapshot's name, or latest (with --config and --database).", valueName: "name"))
        var snapshot: String?

        @Option(name: .shortAndLong, help: "Only this database.")
        var database: String?

        @Flag(help: "A page for an audit (what was masked, by which rules, when) instead of the table.")
        var summary = false

        @Flag(help: "Print as JSON.")
        var json = false

        @Flag(help: "Read an unencrypted snapshot's coverage (nothing proves who wrote it).")
        var allowUnencrypted = false

        func validate() throws {
            switch (report, snapshot) {
            case (nil, nil): throw ValidationError("say where the coverage is: --report FILE, or --config F --snapshot NAME")
            case (.some, .some): throw ValidationError("--report and --snapshot exclude each other")
            case (nil, .some) where config == nil: throw ValidationError("--snapshot needs --config (the job file with the store)")
            default: break
            }
            if summary && json { throw ValidationError("--summary and --json exclude each other") }
        }

        func run() throws {
            let reports = try report.map(Self.fromReport) ?? fromSnapshot()
            let selected = database.map { name in reports.filter { $0.database == name } } ?? reports
            guard !selected.isEmpty else {
                throw ValidationError(database.map { "no coverage for database \($0) in what was read" }
                                      ?? "what was read holds no coverage (made by a snapmask that did not record it)")
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(selected), as: UTF8.self))
                return
            }
            print(selected.map { summary ? $0.summary() : "\($0.database) (\($0.engine)):\n\($0.table())" }
                .joined(separator: "\n\n"))
        }

        /// A run's report (every database) or a restore's (one).
        static func fromReport(_ path: String) throws -> [CoverageReport] {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ValidationError("cannot read \(path): \(error.localizedDescription)")
            }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            if let run = try? decoder.decode(RunReport.self, from: data) {
                return run.databases.compactMap { $0.restore?.coverage }
            }
            do {
                return try decoder.decode(RestoreReport.self, from: data).coverage.map { [$0] } ?? []
            } catch {
                throw ValidationError("\(path) is not a report written by snapmask run or restore --report (\(error))")
            }
        }

        func fromSnapshot() throws -> [CoverageReport] {
            let (job, catalog, _) = try SnapshotCommand.Store.open(config: config!)
            let name = try database ?? (job.databases.count == 1 ? job.databases[0].name : nil)
                ?? { throw ValidationError("--database is needed: \(config!) has \(job.databases.map(\.name).joined(separator: ", "))") }()
            let opened = try catalog.open(named: snapshot!, database: name, allowUnencrypted: allowUnencrypted,
                                          warn: { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) })
            return opened.metadata.coverage.map { [$0] } ?? []
        }
    }
}
