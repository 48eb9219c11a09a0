import Foundation
import Snapmask

/// `snapmask snapshot create`: the source goes through the same check and masking as a
/// restore, into parts in the store; the manifest is written last. A failure removes the parts
/// written so far; a snapshot that was interrupted harder has no manifest and is never listed
/// as restorable.
public struct SnapshotCreator: Sendable {
    public let database: DatabaseJob
    public let engine: any DatabaseEngine
    public let rules: CompiledRules
    public let store: any ObjectStore
    public let archiveKey: ArchiveKey?
    public let options: RestoreOptions
    public let observer: any RestoreObserver

    public init(database: DatabaseJob, engine: any DatabaseEngine, rules: CompiledRules, store: any ObjectStore,
                archiveKey: ArchiveKey?, options: RestoreOptions, observer: any RestoreObserver) {
        self.database = database
        self.engine = engine
        self.rules = rules
        self.store = store
        self.archiveKey = archiveKey
        self.options = options
        self.observer = observer
    }

    /// `app-20261127T020000Z`: sorts by time, readable in `snapshot list`.
    public static func defaultName(database: String, at date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "\(database)-\(formatter.string(from: date))"
    }

    public static func validate(name: String) throws {
        guard !name.isEmpty, name != "latest", name.count <= 200,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !name.hasPrefix(".") else {
            throw ConfigError("'\(name)' cannot name a snapshot: use letters, digits, '-', '_' and '.' (and not 'latest')")
        }
    }

    public func create(name: String) throws -> SnapshotManifest {
        try Self.validate(name: name)
        guard try store.list(prefix: "\(name)/").isEmpty else {
            throw SnapshotError("snapshot \(name) already exists in \(store.location); choose another --name or delete it")
        }
        let started = Date()
        observer.phase(database.name, "opening the source snapshot (\(database.source))")
        let source = try engine.openSource(readers: options.jobs)
        defer { source.close() }
        for notice in source.notices { observer.phase(database.name, notice) }
        let plan = try RestorePlan.make(rules: rules, source: source)
        var definition = try source.schemaDefinition()
        definition.record(plan)
        let rulesDigest = try RulesDigest.of(rulesFile: database.rules.path, overridesFile: database.overrides.path)

        observer.phase(database.name, "sampling original values for the leak check")
        var probeList: [String: LeakProbe] = [:]
        for table in plan.tables where !table.skipData && !table.masks.isEmpty {
            let keys = LeakCheck.keptKey(of: table)
            var columns: [LeakProbe.Column] = []
            for column in table.maskedColumns {
                guard let method = LeakCheck.method(for: column, keyColumns: keys) else { continue }
                let sample = try source.sampleRows(table, keyColumns: keys, column: column.name, limit: options.leakSampleSize)
                    .filter { LeakCheck.canLeak($0.value, column: column) }
                columns.append(.init(name: column.name, transformer: column.transformer.name, method: method,
                                     originals: method == .byKey ? Dictionary(sample.map { ($0.key, $0.value) },
                                                                              uniquingKeysWith: { first, _ in first }) : [:],
                                     values: method == .byValue ? Set(sample.map(\.value)) : []))
            }
            probeList[table.name] = LeakProbe(plan: table, engine: engine, keyColumns: keys, columns: columns)
        }
        let probes = probeList

        let ledger = PartLedger()
        let store = self.store, key = archiveKey
        let tables: [RestoreReport.Table]
        do {
            observer.phase(database.name, "writing \(plan.tables.count) tables to snapshot \(name) in \(store.location)")
            let engine = self.engine
            tables = try TableCopier(database: database.name, options: options, observer: observer).copy(
                plan.tables, source: source,
                makeWriter: { table in
                    SnapshotPartWriter(store: store, key: key, snapshot: name, table: table.name, ledger: ledger,
                                       probe: probes[table.name])
                },
                makeMasker: { engine.makeMasker(for: $0) })
            let leaks = probes.values.flatMap(\.results)
            if leaks.contains(where: { $0.leaks > 0 }) {
                throw LeakFound(results: leaks, place: "the rows of snapshot \(name)", consequence: "the snapshot was not kept")
            }
            let manifest = SnapshotManifest(
                name: name, database: database.name, engine: database.engine.rawValue, source: database.source.description,
                startedAt: started, finishedAt: Date(), snapmaskVersion: SnapmaskVersion.current, rulesDigest: rulesDigest,
                encrypted: archiveKey != nil, schema: plan.schema, definition: definition,
                tables: tables.map { table in
                    .init(name: table.name, rows: table.rowsWritten, dataSkipped: table.dataSkipped,
                          maskedColumns: table.maskedColumns, parts: ledger.parts(of: table.name))
                },
                leakChecks: leaks.sorted { ($0.table, $0.column) < ($1.table, $1.column) })
            observer.phase(database.name, "writing the manifest of \(name)")
            try store.put("\(name)/\(SnapshotManifest.fileName)", data: try manifest.encoded())
            return manifest
        } catch {
            observer.phase(database.name, "failed; removing the parts of \(name)")
            try? store.delete(ledger.allKeys)
            throw error
        }
    }
}

/// What `restore --snapshot` needs: the manifest checked against the rules in use, and a reader.
public enum SnapshotRestore {
    /// Fails when the snapshot was made for another database or engine, or under other rules
    /// (unless `allowRulesChange`).
    public static func input(catalog: SnapshotCatalog, name: String, database: DatabaseJob, archiveKey: ArchiveKey?,
                             allowRulesChange: Bool) throws -> SnapshotInput {
        let manifest = try catalog.manifest(named: name, database: database.name)
        guard manifest.database == database.name, manifest.engine == database.engine.rawValue else {
            throw SnapshotError("snapshot \(manifest.name) holds \(manifest.database) (\(manifest.engine)), not "
                                    + "\(database.name) (\(database.engine.rawValue))")
        }
        let digest = try RulesDigest.of(rulesFile: database.rules.path, overridesFile: database.overrides.path)
        if digest != manifest.rulesDigest && !allowRulesChange {
            throw SnapshotError("snapshot \(manifest.name) was made under other rules or overrides than \(database.rules.path) "
                                    + "now holds (rules digest differs); restore it anyway with --allow-rules-change, or "
                                    + "make a new snapshot")
        }
        if manifest.encrypted && archiveKey == nil {
            throw SnapshotError("snapshot \(manifest.name) is encrypted: set SNAPMASK_ARCHIVE_KEY (or archive_key in the job file)")
        }
        let store = catalog.store
        return SnapshotInput(name: manifest.name, definition: manifest.definition, leakChecks: manifest.leakChecks) {
            SnapshotSource(manifest: manifest, store: store, key: archiveKey)
        }
    }
}
