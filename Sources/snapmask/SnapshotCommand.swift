import ArgumentParser
import Foundation
import Snapmask
import SnapmaskStore

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Sanitized snapshots: masked once when made, restored any number of times.",
        discussion: """
            A snapshot is a folder in the job file's store (file:// or s3://): manifest.json and the masked rows in \
            parts, zstd-compressed and, with an archive key (SNAPMASK_ARCHIVE_KEY or archive_key in the job file), \
            sealed with AES-256-GCM. No personal data is ever at rest outside production. Restore one with \
            `snapmask restore --snapshot latest|NAME`.
            """,
        subcommands: [Create.self, List.self, Show.self, Prune.self, Delete.self])

    /// The job file's store and archive key.
    struct Store: ParsableArguments {
        @Option(name: .shortAndLong, help: "The job file (YAML); its store: holds the snapshots.")
        var config: String

        func open() throws -> (job: JobFile, catalog: SnapshotCatalog, key: ArchiveKey?) {
            try Store.open(config: config)
        }

        static func open(config: String) throws -> (job: JobFile, catalog: SnapshotCatalog, key: ArchiveKey?) {
            let job = try JobFile.load(path: config, environment: ProcessInfo.processInfo.environment)
            guard let location = job.store else {
                throw ConfigError("the job file \(config) has no store:; add one, e.g. store: file:///var/lib/snapmask/snapshots")
            }
            let store = try SnapshotCatalog.store(for: location, environment: ProcessInfo.processInfo.environment)
            return (job, SnapshotCatalog(store: store), try job.archiveKey.map { try ArchiveKey($0.value) })
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reads a source in one snapshot, masks it by the rules and writes a sanitized snapshot.")

        @OptionGroup var target: DatabaseOptions

        @Option(help: "The snapshot's name (default: DATABASE-yyyyMMddTHHmmssZ).")
        var name: String?

        @Option(name: .shortAndLong, help: "Tables read at the same time (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        func run() throws {
            let (job, database, rules) = try target.load()
            let (_, catalog, key) = try Store.open(config: target.config)
            let creator = SnapshotCreator(database: database, engine: try Engines.engine(for: database, sampling: target.sampling), rules: rules,
                                          store: catalog.store, archiveKey: key, options: RestoreOptions(jobs: jobs),
                                          observer: ConsoleObserver(logger: Logs.logger()))
            _ = job
            let manifest = try CheckFailure.reporting {
                try creator.create(name: name ?? SnapshotCreator.defaultName(database: database.name))
            }
            print("snapshot \(manifest.name): \(manifest.tables.count) tables, \(manifest.rows) rows, "
                  + "\(ByteCount.text(manifest.size))\(manifest.encrypted ? ", encrypted" : "") in \(catalog.store.location)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists the snapshots of the store, newest first.")

        @OptionGroup var store: Store

        @Flag(help: "Also list incomplete snapshots (interrupted; never restorable).")
        var all = false

        func run() throws {
            let (_, catalog, _) = try store.open()
            let entries = try catalog.entries().filter { all || $0.isComplete }
            let rows = entries.map { entry -> [String] in
                let manifest = entry.manifest
                return [entry.name, manifest?.database ?? "?", manifest?.engine ?? "?",
                        entry.created.map(ByteCount.date) ?? "?", manifest.map { String($0.rows) } ?? "?",
                        ByteCount.text(entry.storedBytes), manifest.map { $0.encrypted ? "yes" : "no" } ?? "?",
                        entry.isComplete ? "complete" : "incomplete"]
            }
            print(Table.render(header: ["NAME", "DATABASE", "ENGINE", "CREATED", "ROWS", "SIZE", "ENCRYPTED", "STATUS"],
                               rows: rows))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Shows a snapshot's manifest: tables, rows, parts, checks.")

        @OptionGroup var store: Store

        @Argument(help: "The snapshot's name, or latest.")
        var name: String

        @Flag(help: "Print the manifest as JSON.")
        var json = false

        func run() throws {
            let (_, catalog, _) = try store.open()
            let manifest = try catalog.manifest(named: name, database: nil)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(manifest), as: UTF8.self))
                return
            }
            print("""
                snapshot:   \(manifest.name)
                database:   \(manifest.database) (\(manifest.engine)) from \(manifest.source)
                made:       \(ByteCount.date(manifest.startedAt)) – \(ByteCount.date(manifest.finishedAt)) by snapmask \(manifest.snapmaskVersion)
                rules:      sha256 \(manifest.rulesDigest)
                storage:    \(manifest.compression)\(manifest.encrypted ? ", AES-256-GCM" : ", not encrypted"), \(ByteCount.text(manifest.size))
                rows:       \(manifest.rows) in \(manifest.tables.count) tables
                """)
            let rows = manifest.tables.map { table in
                [table.name, table.dataSkipped ? "schema only" : String(table.rows), String(table.parts.count),
                 ByteCount.text(table.parts.reduce(0) { $0 + $1.size }), table.maskedColumns.joined(separator: ", ")]
            }
            print(Table.render(header: ["TABLE", "ROWS", "PARTS", "SIZE", "MASKED"], rows: rows))
            let sampled = manifest.leakChecks.reduce(0) { $0 + $1.sampled }
            print("leak check: \(sampled) original values sampled in \(manifest.leakChecks.count) columns, "
                  + "\(manifest.leakChecks.reduce(0) { $0 + $1.leaks }) found")
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes old snapshots: beyond the newest N of each database, those older than a duration.")

        @OptionGroup var store: Store

        @Option(help: "Snapshots of each database always kept, newest first.")
        var keepLast: Int

        @Option(help: "Only snapshots older than this go (e.g. 30d, 12h, 2w); incomplete ones older than it go too.")
        var olderThan: String

        @Flag(help: "Show what would be deleted; delete nothing.")
        var dryRun = false

        func validate() throws {
            guard keepLast >= 0 else { throw ValidationError("--keep-last cannot be negative") }
        }

        func run() throws {
            let (_, catalog, _) = try store.open()
            let candidates = try catalog.pruneCandidates(keepLast: keepLast, olderThan: try DurationText.seconds(olderThan))
            for entry in candidates {
                print("\(dryRun ? "would delete" : "deleting") \(entry.name)\(entry.isComplete ? "" : " (incomplete)")")
                if !dryRun { try catalog.delete(entry.name) }
            }
            print("\(candidates.count) snapshot\(candidates.count == 1 ? "" : "s") \(dryRun ? "would be " : "")deleted")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deletes one snapshot.")

        @OptionGroup var store: Store

        @Argument(help: "The snapshot's name.")
        var name: String

        func run() throws {
            let (_, catalog, _) = try store.open()
            try catalog.delete(name)
            print("deleted \(name)")
        }
    }
}

/// Sizes and dates as people read them.
enum ByteCount {
    static func text(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func date(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Left-aligned columns for list output.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
