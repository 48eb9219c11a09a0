import Foundation
import Snapmask

/// Collects the parts written for each table, from several copy threads.
final class PartLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String: [SnapshotManifest.Part]] = [:]

    func add(_ part: SnapshotManifest.Part, table: String) {
        lock.lock()
        parts[table, default: []].append(part)
        lock.unlock()
    }

    func parts(of table: String) -> [SnapshotManifest.Part] {
        lock.lock()
        defer { lock.unlock() }
        return parts[table] ?? []
    }

    var allKeys: [String] {
        lock.lock()
        defer { lock.unlock() }
        return parts.values.flatMap { $0.map(\.key) }
    }
}

/// Writes one table's masked rows as parts: rows gather up to `partBytes`, then the part is
/// compressed, sealed, stored and recorded. Only the part being filled is held in memory.
final class SnapshotPartWriter: BatchWriter {
    static let defaultPartBytes = 16 << 20

    private let store: any ObjectStore
    private let key: ArchiveKey?
    private let prefix: String
    private let table: String
    private let ledger: PartLedger
    private let probe: LeakProbe?
    private let partBytes: Int
    private var buffer: [UInt8] = []
    private var rowsInBuffer = 0
    private var rowsTotal = 0
    private var partNumber = 0

    init(store: any ObjectStore, key: ArchiveKey?, snapshot: String, table: String, ledger: PartLedger, probe: LeakProbe?,
         partBytes: Int = SnapshotPartWriter.defaultPartBytes) {
        self.store = store
        self.key = key
        // Table names become one path segment: a slash could not be told from a folder.
        prefix = "\(snapshot)/parts/\(table.replacingOccurrences(of: "/", with: "%2F"))"
        self.table = table
        self.ledger = ledger
        self.probe = probe
        self.partBytes = partBytes
    }

    func write(_ batch: RowBatch) throws {
        try probe?.inspect(batch)
        buffer.append(contentsOf: batch.data)
        rowsInBuffer += batch.rowCount
        if buffer.count >= partBytes { try flush() }
    }

    func finish() throws -> Int {
        if rowsInBuffer > 0 { try flush() }
        return rowsTotal
    }

    private func flush() throws {
        partNumber += 1
        let name = "\(prefix)/\(String(format: "%06d", partNumber)).zst\(key == nil ? "" : ".aes")"
        let stored = try PartCodec.encode(buffer, key: key)
        try store.put(name, data: stored)
        ledger.add(SnapshotManifest.Part(key: name, sha256: SHA256Hex.of(stored), size: stored.count, rows: rowsInBuffer,
                                         bytes: buffer.count), table: table)
        rowsTotal += rowsInBuffer
        rowsInBuffer = 0
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A snapshot read back as a source: each part is fetched, its SHA-256 checked against the
/// manifest before anything else, opened and decompressed, and handed on as one batch.
final class SnapshotSource: SourceSession, @unchecked Sendable {
    let manifest: SnapshotManifest
    private let store: any ObjectStore
    private let key: ArchiveKey?

    init(manifest: SnapshotManifest, store: any ObjectStore, key: ArchiveKey?) {
        self.manifest = manifest
        self.store = store
        self.key = key
    }

    var schema: SchemaShape { manifest.schema }
    var isMasked: Bool { true }

    func schemaDefinition() throws -> SchemaDefinition { manifest.definition }

    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let parts = manifest.tables.first { $0.name == plan.name }?.parts ?? []
        return PartReader(parts: parts, store: store, key: key, encrypted: manifest.encrypted, snapshot: manifest.name)
    }

    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] { [] }

    func close() {}

    final class PartReader: BatchReader {
        private var remaining: ArraySlice<SnapshotManifest.Part>
        private let store: any ObjectStore
        private let key: ArchiveKey?
        private let encrypted: Bool
        private let snapshot: String
        private var rows = 0

        init(parts: [SnapshotManifest.Part], store: any ObjectStore, key: ArchiveKey?, encrypted: Bool, snapshot: String) {
            remaining = parts[...]
            self.store = store
            self.key = key
            self.encrypted = encrypted
            self.snapshot = snapshot
        }

        func next() throws -> RowBatch? {
            guard let part = remaining.popFirst() else { return nil }
            let stored: Data
            do {
                stored = try store.get(part.key)
            } catch let error as StoreError where error.kind == .notFound {
                throw SnapshotError("snapshot \(snapshot) is missing part \(part.key); it cannot be restored")
            }
            guard stored.count == part.size, SHA256Hex.of(stored) == part.sha256 else {
                throw SnapshotError("part \(part.key) of snapshot \(snapshot) does not match its manifest "
                                        + "(\(stored.count) bytes, \(part.size) expected; SHA-256 differs): it was truncated or "
                                        + "changed; the snapshot cannot be restored")
            }
            let data = try PartCodec.decode(stored, key: key, encrypted: encrypted, part: part.key)
            defer { rows += part.rows }
            return RowBatch(data: data, rowCount: part.rows, firstRow: rows)
        }
    }
}

/// While a snapshot is written, compares masked values with a sample of the source's originals
/// of their column, as the restore's leak check does: the same rows where the table has a kept
/// primary key (any transformer), else the whole column where its transformer's outputs cannot
/// coincide with real values. One found means the snapshot would carry personal data.
final class LeakProbe: @unchecked Sendable {
    struct Column {
        var name: String
        var transformer: String
        var method: LeakCheckResult.Method
        /// By key: the original of each sampled row; by value: the sampled originals (keys empty).
        var originals: [[String?]: String]
        var values: Set<String>
    }

    private let lock = NSLock()
    private let plan: TablePlan
    private let engine: any DatabaseEngine
    private let keyColumns: [String]
    private let columns: [Column]
    private var hits: [String: Int] = [:]
    /// By key: the sampled rows met in the snapshot (the others are not compared).
    private var compared: [String: Int] = [:]

    init(plan: TablePlan, engine: any DatabaseEngine, keyColumns: [String], columns: [Column]) {
        self.plan = plan
        self.engine = engine
        self.keyColumns = keyColumns
        self.columns = columns.filter { !$0.originals.isEmpty || !$0.values.isEmpty }
    }

    func inspect(_ batch: RowBatch) throws {
        guard !columns.isEmpty else { return }
        let found = try engine.keyedValues(in: batch, plan: plan, keyColumns: keyColumns, columns: columns.map(\.name))
        var batchHits: [String: Int] = [:], batchCompared: [String: Int] = [:]
        for column in columns {
            for row in found[column.name] ?? [] {
                switch column.method {
                case .byKey:
                    guard let original = column.originals[row.key] else { continue }
                    batchCompared[column.name, default: 0] += 1
                    if original == row.value { batchHits[column.name, default: 0] += 1 }
                case .byValue:
                    if column.values.contains(row.value) { batchHits[column.name, default: 0] += 1 }
                case .notCheckable:
                    continue
                }
            }
        }
        lock.lock()
        hits.merge(batchHits, uniquingKeysWith: +)
        compared.merge(batchCompared, uniquingKeysWith: +)
        lock.unlock()
    }

    var results: [LeakCheckResult] {
        lock.lock()
        defer { lock.unlock() }
        return columns.map {
            LeakCheckResult(table: plan.name, column: $0.name, transformer: $0.transformer, method: $0.method,
                            sampled: $0.method == .byKey ? compared[$0.name] ?? 0 : $0.values.count,
                            leaks: hits[$0.name] ?? 0)
        }
    }
}
