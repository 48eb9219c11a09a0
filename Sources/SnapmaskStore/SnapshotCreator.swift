import Crypto
import Foundation
import Snapmask

/// `snapmask snapshot create`: the source goes through the same check and masking as a
/// restore, into parts in the store; the sealed metadata next, the manifest last, once every
/// part is confirmed in the store. A failure removes what was written; a snapshot that was
/// interrupted harder has no manifest and is never listed as restorable. While it runs, its
/// lease keeps `prune` away.
public struct SnapshotCreator: Sendable {
    public let database: DatabaseJob
    public let engine: any DatabaseEngine
    public let rules: CompiledRules
    public let store: any ObjectStore
    public let archiveKey: ArchiveKey?
    /// Without an archive key, a snapshot is written only when this says so (`--unencrypted`).
    public let unencrypted: Bool
    public let options: RestoreOptions
    public let observer: any RestoreObserver
    /// How often the writer's lease is renewed.
    public var leaseRenewal: TimeInterval = SnapshotLease.defaultRenewal

    public init(database: DatabaseJob, engine: any DatabaseEngine, rules: CompiledRules, store: any ObjectStore,
                archiveKey: ArchiveKey?, unencrypted: Bool = false, options: RestoreOptions, observer: any RestoreObserver) {
        self.database = database
        self.engine = engine
        self.rules = rules
        self.store = store
        self.archiveKey = archiveKey
        self.unencrypted = unencrypted
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
        try SnapshotName.validate(name)
    }

    public func create(name: String) throws -> Snapshot {
        try SnapshotName.validate(name)
        if archiveKey == nil && !unencrypted {
            throw ConfigError("no archive key: a snapshot holds masked rows and the schema, and without a key anyone who can "
                                + "read the store reads them and anyone who can write to it can change them unnoticed. Set "
                                + "SNAPMASK_ARCHIVE_KEY (or archive_key: in the job file), e.g. from `openssl rand -base64 32`, "
                                + "or pass --unencrypted to store it in plain text (restoring it will need --allow-unencrypted)")
        }
        if archiveKey != nil && unencrypted {
            throw ConfigError("--unencrypted asks for a plain-text snapshot but an archive key is set; leave one of them out")
        }
        guard try store.list(prefix: "\(name)/").isEmpty else {
            throw SnapshotError("snapshot \(name) already exists in \(store.location); choose another --name or delete it")
        }
        let started = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let snapshotID = SnapshotManifest.hex((0..<16).map { _ in UInt8.random(in: 0...255) })
        let derivation = archiveKey?.newDerivation()
        let keys = try derivation.map { try archiveKey!.keys(for: $0, snapshotID: snapshotID, snapshot: name) }

        let lease = LeaseKeeper(store: store, snapshot: name, renewal: leaseRenewal)
        try lease.start()
        defer { lease.stop() }

        let ledger = PartLedger()
        var metadataKey: String?
        do {
            observer.phase(database.name, "opening the source snapshot (\(database.source))")
            let source = try engine.openSource(readers: options.jobs)
            defer { source.close() }
            for notice in source.notices { observer.phase(database.name, notice) }
            let plan = try RestorePlan.make(rules: rules, source: source)
            var definition = try source.schemaDefinition()
            definition.record(plan)
            let rulesDigest = try RulesDigest.of(rulesFile: database.rules.path, overridesFile: database.overrides.path)
            observer.phase(database.name, "classifying a sample of every column's values for the coverage report")
            let coverage = try CoverageAudit.report(for: database, plan: plan, source: source,
                                                    warn: { observer.warning(database.name, $0) })

            observer.phase(database.name, "sampling original values for the leak checks")
            let (probes, samples) = try sample(plan, source: source, digest: keys.map { LeakDigest(key: $0.leakDigest) })

            let copySource = try SubsetSelection.select(for: plan, source: source, database: database.name, observer: observer)
                .map { $0.filtering(source) } ?? source
            observer.phase(database.name, "writing \(plan.tables.count) tables to snapshot \(name) in \(store.location)")
            let numbers = Dictionary(plan.tables.enumerated().map { ($0.element.name, $0.offset + 1) }, uniquingKeysWith: { first, _ in first })
            let store = self.store, engine = self.engine, sealing = keys?.sealing
            let tables = try TableCopier(database: database.name, options: options, observer: observer).copy(
                plan.tables, source: copySource,
                makeWriter: { table in
                    SnapshotPartWriter(store: store, key: sealing, snapshot: name, snapshotID: snapshotID, table: table.name,
                                       tableNumber: numbers[table.name] ?? 0, ledger: ledger, probe: probes[table.name])
                },
                makeMasker: { engine.makeMasker(for: $0) })
            let leaks = probes.values.flatMap(\.results)
            if leaks.contains(where: { $0.leaks > 0 }) {
                throw LeakFound(results: leaks, place: "the rows of snapshot \(name)", consequence: "the snapshot was not kept")
            }

            let metadata = SnapshotMetadata(
                formatVersion: SnapshotFormat.version, snapshotID: snapshotID, source: database.source.description,
                schema: plan.schema, definition: definition,
                tables: tables.map { table in
                    .init(name: table.name, rows: table.rowsWritten, dataSkipped: table.dataSkipped,
                          maskedColumns: table.maskedColumns, parts: ledger.parts(of: table.name))
                },
                leakChecks: leaks.sorted { ($0.table, $0.column) < ($1.table, $1.column) }, leakSamples: samples,
                coverage: coverage)
            let metadataBytes = Array(try SnapshotManifest.encoder(pretty: false).encode(metadata))
            guard metadataBytes.count <= SnapshotFormat.metadataLimit else {
                throw SnapshotError("the metadata of snapshot \(name) is \(metadataBytes.count) bytes, more than the "
                                        + "\(SnapshotFormat.metadataLimit) a restore reads; the schema is too large for a snapshot")
            }
            let sealedMetadata = try PartCodec.encode(metadataBytes, key: keys?.sealing.key,
                                                      context: SnapshotFormat.metadataContext(snapshotID: snapshotID))
            let metadataObject = SnapshotManifest.Object(key: "\(name)/\(SnapshotMetadataFile.name(encrypted: keys != nil))",
                                                         sha256: SHA256Hex.of(sealedMetadata), size: sealedMetadata.count,
                                                         bytes: metadataBytes.count)
            metadataKey = metadataObject.key
            try store.put(metadataObject.key, data: sealedMetadata)

            try verifyWritten(name, parts: ledger.all, metadata: metadataObject)

            var manifest = SnapshotManifest(
                formatVersion: SnapshotFormat.version, snapshotID: snapshotID, name: name, database: database.name,
                engine: database.engine.rawValue, startedAt: started,
                finishedAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)),
                snapmaskVersion: SnapmaskVersion.current, rulesDigest: rulesDigest, compression: "zstd",
                encryption: keys == nil ? SnapshotManifest.noEncryption : SnapshotManifest.sealedWith,
                keyDerivation: derivation, tables: metadata.tables.count, rows: metadata.rows,
                size: ledger.all.reduce(sealedMetadata.count) { $0 + $1.size }, metadata: metadataObject, mac: nil)
            if let keys { manifest = try manifest.signed(with: keys) }
            observer.phase(database.name, "writing the manifest of \(name)")
            try store.put("\(name)/\(SnapshotManifest.fileName)", data: try manifest.encoded())
            return Snapshot(manifest: manifest, metadata: metadata)
        } catch {
            observer.phase(database.name, "failed; removing the parts of \(name)")
            try? store.delete(ledger.all.map(\.key) + [metadataKey].compactMap { $0 })
            throw error
        }
    }

    /// Every part and the metadata are in the store with the size written, before the manifest
    /// makes them a snapshot: a part lost meanwhile (a prune from an older snapmask, a bucket
    /// lifecycle rule) fails the create instead of leaving a snapshot that cannot be restored.
    private func verifyWritten(_ name: String, parts: [SnapshotMetadata.Part], metadata: SnapshotManifest.Object) throws {
        let stored = Dictionary(try store.list(prefix: "\(name)/").map { ($0.key, $0.size) }, uniquingKeysWith: { first, _ in first })
        let expected = parts.map { ($0.key, $0.size) } + [(metadata.key, metadata.size)]
        let missing = expected.filter { stored[$0.0] != $0.1 }
        guard missing.isEmpty else {
            throw SnapshotError("\(missing.count) object\(missing.count == 1 ? "" : "s") of snapshot \(name) \(missing.count == 1 ? "is" : "are") "
                                    + "missing from \(store.location) or of the wrong size after being written (first: "
                                    + "\(missing[0].0)); something removed or changed them while the snapshot was made (a "
                                    + "prune, a lifecycle rule). The snapshot was not kept; make it again")
        }
    }

    /// Samples the originals of every masked column once, for both leak checks: the one made
    /// now against the masked output (`LeakProbe`), and the one a restore makes against its copy
    /// (`LeakSampleSet`, only with an archive key to digest them under).
    private func sample(_ plan: RestorePlan, source: any SourceSession,
                        digest: LeakDigest?) throws -> (probes: [String: LeakProbe], samples: [LeakSampleSet]) {
        var probes: [String: LeakProbe] = [:]
        var samples: [LeakSampleSet] = []
        for table in plan.tables where !table.skipData && !table.maskedColumns.isEmpty {
            let keys = LeakCheck.keptKey(of: table)
            var columns: [LeakProbe.Column] = []
            let isCollection = table.rule?.kind == .collections
            for column in table.maskedColumns {
                guard let method = LeakCheck.method(for: column, keyColumns: keys) else { continue }
                let sample = try source.sampleRows(table, keyColumns: keys, column: column.name, limit: options.leakSampleSize)
                if let digest, method == .byKey, !isCollection {
                    if let tree = column.transformer.jsonRules {
                        samples.append(SnapshotLeakSamples.paths(table, column: column.name, rules: tree.rules.filter { !$0.isKeep },
                                                                 tree: tree, keys: keys, sample: sample, digest: digest))
                    } else {
                        samples.append(try SnapshotLeakSamples.column(table, column: column, keys: keys,
                                                                      sample: sample.filter { LeakCheck.canLeak($0.value, column: column) },
                                                                      digest: digest, arrays: engine.arrayCodec))
                    }
                }
                let leakable = sample.filter { LeakCheck.canLeak($0.value, column: column) }
                let perElement = column.rule.perElement
                let values = method != .byValue ? [] : perElement
                    ? try LeakCheck.leakableElements(of: leakable.map(\.value), column: column, table: table, arrays: engine.arrayCodec)
                    : leakable.map(\.value)
                columns.append(.init(name: column.name, transformer: column.transformer.name, method: method,
                                     originals: method == .byKey ? Dictionary(leakable.map { ($0.key, $0.value) },
                                                                              uniquingKeysWith: { first, _ in first }) : [:],
                                     values: Set(values), elementsOf: perElement ? column : nil,
                                     paths: isCollection ? nil : column.transformer.jsonRules))
            }
            if let digest, isCollection, !keys.isEmpty {
                let documents = try source.sampleRows(table, keyColumns: keys, column: LeakCheck.wholeDocument,
                                                      limit: options.leakSampleSize)
                samples.append(SnapshotLeakSamples.paths(table, column: LeakCheck.wholeDocument, rules: table.maskedColumns,
                                                         tree: FieldPathRules(table.rule), keys: keys, sample: documents,
                                                         digest: digest))
            }
            probes[table.name] = LeakProbe(plan: table, engine: engine, keyColumns: keys, columns: columns)
        }
        return (probes, samples)
    }
}

/// What `restore --snapshot` needs: the snapshot checked (manifest MAC, metadata), matched with
/// the database and the rules in use, and a reader.
public enum SnapshotRestore {
    /// Fails when the snapshot cannot be trusted, was made for another database or engine, or
    /// under other rules (unless `allowRulesChange`); an unencrypted one needs `allowUnencrypted`.
    /// Snapshots `latest` passes over are reported to `warn`.
    public static func input(catalog: SnapshotCatalog, name: String, database: DatabaseJob, archiveKey: ArchiveKey?,
                             allowRulesChange: Bool, allowUnencrypted: Bool = false,
                             warn: (String) -> Void = { _ in }) throws -> SnapshotInput {
        let catalog = SnapshotCatalog(store: catalog.store, archiveKey: archiveKey)
        let manifest = try catalog.restorableManifest(named: name, database: database.name, allowUnencrypted: allowUnencrypted,
                                                      warn: warn)
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
        let snapshot = try catalog.open(manifest)
        let keys = try catalog.keys(of: manifest)
        let store = catalog.store
        let leakDigest = keys.map { LeakDigest(key: $0.leakDigest) }
        return SnapshotInput(name: manifest.name, definition: snapshot.metadata.definition,
                             coverage: snapshot.metadata.coverage, checkLeaks: { plan, target, arrays in
            try SnapshotLeakSamples.check(snapshot.metadata.leakSamples, written: snapshot.metadata.leakChecks, plan: plan,
                                          target: target, digest: leakDigest, arrays: arrays)
        }, open: {
            SnapshotSource(snapshot: snapshot, store: store, key: keys?.sealing)
        })
    }
}
