import ArgumentParser
import Foundation
import Snapmask
import SnapmaskStore

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Sanitized snapshots: masked once when made, restored any number of times.",
        discussion: """
            A snapshot is a folder in the job file's store (file:// or s3://): manifest.json (names, times, \
            counts; signed with a key derived from the archive key), the sealed metadata (schema, definition, part \
            list, leak samples) and the masked rows in parts, zstd-compressed and sealed with AES-256-GCM under the \
            archive key (SNAPMASK_ARCHIVE_KEY or archive_key in the job file). No personal data is ever at rest \
            outside production, and nothing read from the store is used unless its manifest verifies. Restore one \
            with `snapmask restore --snapshot latest|NAME` (no masking key needed).
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
            let key = try job.archiveKey.map { try ArchiveKey($0.value) }
            return (job, SnapshotCatalog(store: store, archiveKey: key), key)
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reads a source in one snapshot, masks it by the rules and writes a sanitized snapshot.",
            discussion: """
                Needs the masking key (it masks) and the archive key: without one it refuses, unless --unencrypted \
                is given (the snapshot is then plain text and unsigned; restoring it needs --allow-unencrypted).
                """)

        @OptionGroup var target: DatabaseOptions

        @Option(help: "The snapshot's name (default: DATABASE-yyyyMMddTHHmmssZ).")
        var name: String?

        @Option(name: .shortAndLong, help: "Tables read at the same time (default: the number of cores).")
        var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

        @Flag(help: "Write the snapshot without an archive key: plain text, no MAC. Restores then need --allow-unencrypted.")
        var unencrypted = false

        func run() throws {
            if let name { try SnapshotName.validate(name) }
            let (_, database, rules) = try target.load()
            let (_, catalog, key) = try Store.open(config: target.config)
            let observer = ConsoleObserver(logger: Logs.logger())
            // An aws-snapshot:/aws-clone: source is read from a temporary cluster made for this snapshot.
            let snapshot = try AWSSources.reading(database, observer: observer) { database in
                let creator = SnapshotCreator(database: database, engine: try Engines.engine(for: database, sampling: target.sampling),
                                              rules: rules, store: catalog.store, archiveKey: key, unencrypted: unencrypted,
                                              options: RestoreOptions(jobs: jobs), observer: observer)
                return try CheckFailure.reporting {
                    try creator.create(name: name ?? SnapshotCreator.defaultName(database: database.name))
                }
            }
            print("snapshot \(snapshot.name): \(snapshot.manifest.tables) tables, \(snapshot.rows) rows, "
                  + "\(ByteCount.text(snapshot.size))\(snapshot.encrypted ? ", encrypted and signed" : ", NOT encrypted") "
                  + "in \(catalog.store.location)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists the snapshots of the store, newest first, with how far each can be trusted.",
            discussion: """
                TRUST: verified (its manifest's MAC checks out under the archive key), unsigned (made with \
                --unencrypted: nothing proves who wrote it), not checked (no archive key set here), UNTRUSTED (changed, \
                made with another key, or unreadable: never restored, never chosen as latest; a warning says why).
                """)

        @OptionGroup var store: Store

        @Flag(help: "Also list incomplete snapshots (being written, or interrupted; never restorable).")
        var all = false

        func run() throws {
            let (_, catalog, _) = try store.open()
            let entries = try catalog.entries().filter { all || $0.isComplete }
            for entry in entries { if let problem = entry.problem { printError("warning: \(problem)") } }
            let rows = entries.map { entry -> [String] in
                // An untrusted manifest's own words are not repeated as if they were facts.
                let believable = entry.trust == .verified || entry.trust == .unencrypted || entry.trust == .unverified
                let manifest = believable ? entry.manifest : nil
                let status = entry.isComplete ? "complete"
                    : SnapshotLease.isLive(written: entry.leaseRenewed) ? "being written" : "incomplete"
                return [entry.name, manifest?.database ?? "?", manifest?.engine ?? "?",
                        entry.created.map(ByteCount.date) ?? "?", manifest.map { String($0.rows) } ?? "?",
                        ByteCount.text(entry.storedBytes), manifest.map { $0.encrypted ? "yes" : "no" } ?? "?",
                        entry.trust.label, status]
            }
            print(Table.render(header: ["NAME", "DATABASE", "ENGINE", "CREATED", "ROWS", "SIZE", "ENCRYPTED", "TRUST", "STATUS"],
                               rows: rows))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shows a snapshot: times, sizes and rules digest; with the archive key also its tables and checks.")

        @OptionGroup var store: Store

        @Argument(help: "The snapshot's name, or latest.")
        var name: String

        @Flag(help: "Print as JSON.")
        var json = false

        @Flag(help: "Show an unencrypted snapshot's contents too (nothing proves who wrote them).")
        var allowUnencrypted = false

        func run() throws {
            let (_, catalog, key) = try store.open()
            let (manifest, trust) = try catalog.inspect(named: name)
            var snapshot: Snapshot?
            switch trust {
            case .verified: snapshot = try catalog.metadata(of: manifest)
            case .unencrypted where allowUnencrypted: snapshot = try catalog.metadata(of: manifest)
            case let .untrusted(reason):
                throw SnapshotError("snapshot \(manifest.name) in \(catalog.store.location) cannot be trusted: \(reason); "
                                        + "nothing it says is shown")
            default: break
            }
            if json {
                struct Shown: Encodable {
                    var manifest: SnapshotManifest
                    var trust: String
                    var source: String?
                    var tables: [SnapshotMetadata.Table]?
                    var leakChecks: [LeakCheckResult]?
                }
                let shown = Shown(manifest: manifest, trust: trust.label, source: snapshot?.metadata.source,
                                  tables: snapshot?.tables, leakChecks: snapshot?.leakChecks)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(shown), as: UTF8.self))
                return
            }
            let storage: String
            switch trust {
            case .verified:
                storage = "AES-256-GCM (\(key?.isPassphrase == true ? "passphrase, PBKDF2" : "32-byte key")), manifest verified"
            case .unverified: storage = "AES-256-GCM, manifest NOT verified (no archive key set here)"
            default: storage = "NOT encrypted, unsigned: nothing proves who wrote it"
            }
            print("""
                snapshot:   \(manifest.name)
                database:   \(manifest.database) (\(manifest.engine))\(snapshot.map { " from \($0.metadata.source)" } ?? "")
                made:       \(ByteCount.date(manifest.startedAt)) – \(ByteCount.date(manifest.finishedAt)) by snapmask \(manifest.snapmaskVersion)
                rules:      sha256 \(manifest.rulesDigest)
                storage:    \(manifest.compression), \(storage), \(ByteCount.text(manifest.size))
                rows:       \(manifest.rows) in \(manifest.tables) tables
                """)
            guard let snapshot else {
                print(trust == .unverified
                      ? "tables, columns and checks are sealed: set SNAPMASK_ARCHIVE_KEY to see them"
                      : "tables, columns and checks of an unsigned snapshot are shown only with --allow-unencrypted")
                return
            }
            let rows = snapshot.tables.map { table in
                [table.name, table.dataSkipped ? "schema only" : String(table.rows), String(table.parts.count),
                 ByteCount.text(table.parts.reduce(0) { $0 + $1.size }), table.maskedColumns.joined(separator: ", ")]
            }
            print(Table.render(header: ["TABLE", "ROWS", "PARTS", "SIZE", "MASKED"], rows: rows))
            let sampled = snapshot.leakChecks.reduce(0) { $0 + $1.sampled }
            print("leak check: \(sampled) original values sampled in \(snapshot.leakChecks.count) columns, "
                  + "\(snapshot.leakChecks.reduce(0) { $0 + $1.leaks }) found; "
                  + "\(snapshot.metadata.leakSamples.reduce(0) { $0 + $1.rows.count }) sampled rows kept (as digests) for the restore's check")
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes old snapshots: beyond the newest N of each database, those older than a duration.",
            discussion: """
                Never deletes a snapshot being written (its writer's lease is live) or one whose objects are younger \
                than --grace. Snapshots that cannot be trusted (changed, another key, unreadable) are neither counted \
                nor deleted; a warning names them.
                """)

        @OptionGroup var store: Store

        @Option(help: "Snapshots of each database always kept, newest first.")
        var keepLast: Int

        @Option(help: "Only snapshots older than this go (e.g. 30d, 12h, 2w); incomplete ones older than it go too.")
        var olderThan: String

        @Option(help: "Never delete what was written less than this long ago (e.g. 6h).")
        var grace: String = "6h"

        @Flag(help: "Show what would be deleted; delete nothing.")
        var dryRun = false

        func validate() throws {
            guard keepLast >= 0 else { throw ValidationError("--keep-last cannot be negative") }
        }

        func run() throws {
            let (_, catalog, _) = try store.open()
            let plan = try catalog.prunePlan(keepLast: keepLast, olderThan: try DurationText.seconds(olderThan),
                                             grace: try DurationText.seconds(grace))
            for (name, reason) in plan.skipped { printError("warning: snapshot \(name) is left alone: \(reason)") }
            for entry in plan.candidates {
                print("\(dryRun ? "would delete" : "deleting") \(entry.name)\(entry.isComplete ? "" : " (incomplete)")")
                if !dryRun { try catalog.delete(entry.name) }
            }
            print("\(plan.candidates.count) snapshot\(plan.candidates.count == 1 ? "" : "s") \(dryRun ? "would be " : "")deleted")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deletes one snapshot.")

        @OptionGroup var store: Store

        @Argument(help: "The snapshot's name.")
        var name: String

        func run() throws {
            try SnapshotName.validate(name)
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
