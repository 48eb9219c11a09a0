import Crypto
import Foundation
import Snapmask

/// Collects the parts written for each table, from several copy threads.
final class PartLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String: [SnapshotMetadata.Part]] = [:]

    func add(_ part: SnapshotMetadata.Part, table: String) {
        lock.lock()
        parts[table, default: []].append(part)
        lock.unlock()
    }

    func parts(of table: String) -> [SnapshotMetadata.Part] {
        lock.lock()
        defer { lock.unlock() }
        return parts[table] ?? []
    }

    var all: [SnapshotMetadata.Part] {
        lock.lock()
        defer { lock.unlock() }
        return parts.values.flatMap { $0 }
    }
}

/// Writes one table's masked rows as parts: rows gather up to `partBytes`, then the part is
/// compressed, sealed (bound to snapshot, table and position), stored and recorded. Only the
/// part being filled is held in memory. Parts are named by the table's number, not its name:
/// table names are part of the confidential schema.
final class SnapshotPartWriter: BatchWriter {
    static let defaultPartBytes = 16 << 20

    private let store: any ObjectStore
    private let key: KeyBytes?
    private let snapshotID: String
    private let prefix: String
    private let table: String
    private let ledger: PartLedger
    private let probe: LeakProbe?
    private let partBytes: Int
    private var buffer: [UInt8] = []
    private var rowsInBuffer = 0
    private var rowsTotal = 0
    private var partNumber = 0

    init(store: any ObjectStore, key: KeyBytes?, snapshot: String, snapshotID: String, table: String, tableNumber: Int,
         ledger: PartLedger, probe: LeakProbe?, partBytes: Int = SnapshotPartWriter.defaultPartBytes) {
        self.store = store
        self.key = key
        self.snapshotID = snapshotID
        prefix = "\(snapshot)/parts/\(String(format: "%04d", tableNumber))"
        self.table = table
        self.ledger = ledger
        self.probe = probe
        self.partBytes = min(partBytes, SnapshotFormat.partLimit)
    }

    func write(_ batch: RowBatch) throws {
        try probe?.inspect(batch)
        // A part is never larger than a restore accepts to read.
        if !buffer.isEmpty && buffer.count + batch.data.count > SnapshotFormat.partLimit { try flush() }
        guard batch.data.count <= SnapshotFormat.partLimit else {
            throw SnapshotError("table \(table) has a batch of \(batch.data.count) bytes (rows \(batch.firstRow + 1) to "
                                    + "\(batch.firstRow + batch.rowCount)), more than the \(SnapshotFormat.partLimit) bytes of one "
                                    + "snapshot part; a row this large cannot be kept in a snapshot: restore this database from "
                                    + "the source, or skip the column")
        }
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
        let stored = try PartCodec.encode(buffer, key: key?.key, context: SnapshotFormat.partContext(
            snapshotID: snapshotID, table: table, index: partNumber))
        try store.put(name, data: stored)
        ledger.add(SnapshotMetadata.Part(key: name, sha256: SHA256Hex.of(stored), size: stored.count, rows: rowsInBuffer,
                                         bytes: buffer.count), table: table)
        rowsTotal += rowsInBuffer
        rowsInBuffer = 0
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A snapshot read back as a source: each part is fetched (never more than its recorded size),
/// its size and SHA-256 checked against the metadata before anything else, opened as the part
/// of this table at this position, decompressed within bounds, and handed on as one batch.
final class SnapshotSource: SourceSession, @unchecked Sendable {
    let snapshot: Snapshot
    private let store: any ObjectStore
    private let key: KeyBytes?

    init(snapshot: Snapshot, store: any ObjectStore, key: KeyBytes?) {
        self.snapshot = snapshot
        self.store = store
        self.key = key
    }

    var schema: SchemaShape { snapshot.metadata.schema }
    var isMasked: Bool { true }

    func schemaDefinition() throws -> SchemaDefinition { snapshot.metadata.definition }

    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let parts = snapshot.metadata.tables.first { $0.name == plan.name }?.parts ?? []
        return PartReader(parts: parts, table: plan.name, store: store, key: key, snapshotID: snapshot.manifest.snapshotID,
                          snapshot: snapshot.name)
    }

    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] { [] }

    func close() {}

    final class PartReader: BatchReader {
        private var remaining: ArraySlice<SnapshotMetadata.Part>
        private let table: String
        private let store: any ObjectStore
        private let key: KeyBytes?
        private let snapshotID: String
        private let snapshot: String
        private var rows = 0
        private var index = 0

        init(parts: [SnapshotMetadata.Part], table: String, store: any ObjectStore, key: KeyBytes?, snapshotID: String,
             snapshot: String) {
            remaining = parts[...]
            self.table = table
            self.store = store
            self.key = key
            self.snapshotID = snapshotID
            self.snapshot = snapshot
        }

        func next() throws -> RowBatch? {
            guard let part = remaining.popFirst() else { return nil }
            index += 1
            let data = try SnapshotObjects.read(part.key, size: part.size, sha256: part.sha256, bytes: part.bytes,
                                                limit: SnapshotFormat.partLimit, store: store, key: key,
                                                context: SnapshotFormat.partContext(snapshotID: snapshotID, table: table, index: index),
                                                what: "part \(part.key) of snapshot \(snapshot)")
            defer { rows += part.rows }
            return RowBatch(data: data, rowCount: part.rows, firstRow: rows)
        }
    }
}

/// Reading one sealed object of a snapshot (a part or the metadata), every check in order.
enum SnapshotObjects {
    static func read(_ objectKey: String, size: Int, sha256: String, bytes: Int, limit: Int, store: any ObjectStore,
                     key: KeyBytes?, context: [UInt8], what: String) throws -> [UInt8] {
        guard (0...limit).contains(size), (0...limit).contains(bytes) else {
            throw SnapshotError("\(what) is recorded as \(size) bytes (\(bytes) once decompressed), more than the \(limit) "
                                    + "bytes snapmask reads of one object: the snapshot was forged or damaged; it cannot be restored")
        }
        let stored: Data
        do {
            stored = try store.get(objectKey, maxBytes: size)
        } catch let error as StoreError where error.kind == .notFound {
            throw SnapshotError("\(what) is missing; the snapshot cannot be restored")
        } catch let error as StoreError where error.kind == .tooLarge {
            throw SnapshotError("\(what) does not match its manifest (larger than the \(size) bytes recorded): it was "
                                    + "changed; the snapshot cannot be restored")
        }
        guard stored.count == size, SHA256Hex.of(stored) == sha256 else {
            throw SnapshotError("\(what) does not match its manifest (\(stored.count) bytes, \(size) expected; SHA-256 "
                                    + "differs): it was truncated or changed; the snapshot cannot be restored")
        }
        return try PartCodec.decode(stored, key: key?.key, context: context, expectedBytes: bytes, limit: limit, what: what)
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
        /// By value: the sampled originals, or for an `array: true` column their elements.
        var values: Set<String>
        /// An `array: true` column's rule: its arrays are compared element by element.
        var elementsOf: CompiledColumn?
        /// A JSON column's path rules: compared leaf by leaf, one result per masking rule.
        var paths: FieldPathRules?
    }

    private let lock = NSLock()
    private let plan: TablePlan
    private let engine: any DatabaseEngine
    private let keyColumns: [String]
    private let columns: [Column]
    private var hits: [String: Int] = [:]
    /// By key: the sampled rows met in the snapshot (the others are not compared).
    private var compared: [String: Int] = [:]
    /// A JSON column's leaves compared and found, per column and rule.
    private var leaves: [String: [String: PathLeakCheck.Tally]] = [:]

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
        var batchLeaves: [String: [String: PathLeakCheck.Tally]] = [:]
        for column in columns {
            for row in found[column.name] ?? [] {
                switch column.method {
                case .byKey:
                    guard let original = column.originals[row.key] else { continue }
                    batchCompared[column.name, default: 0] += 1
                    if let tree = column.paths {
                        PathLeakCheck.compare(original: original, copy: row.value, tree: tree, into: &batchLeaves[column.name, default: [:]])
                    } else if try leaks(original, row.value, column) {
                        batchHits[column.name, default: 0] += 1
                    }
                case .byValue:
                    let found = column.elementsOf == nil ? column.values.contains(row.value)
                        : try elements(of: row.value, column).contains { $0.map(column.values.contains) ?? false }
                    if found { batchHits[column.name, default: 0] += 1 }
                case .notCheckable:
                    continue
                }
            }
        }
        lock.lock()
        hits.merge(batchHits, uniquingKeysWith: +)
        compared.merge(batchCompared, uniquingKeysWith: +)
        leaves.merge(batchLeaves) { total, more in
            total.merging(more) { .init(searched: $0.searched + $1.searched, leaks: $0.leaks + $1.leaks) }
        }
        lock.unlock()
    }

    private func leaks(_ original: String, _ copy: String, _ column: Column) throws -> Bool {
        guard let rule = column.elementsOf else { return original == copy }
        return LeakCheck.leaksAnElement(original: original, copy: copy, column: rule, arrays: try arrays(column))
    }

    /// A masked array's elements (the whole value when it does not parse).
    private func elements(of copy: String, _ column: Column) throws -> [String?] {
        let arrays = try arrays(column)
        return (try? arrays.elements(of: copy)) ?? [copy]
    }

    private func arrays(_ column: Column) throws -> any ArrayLiteralCodec {
        try LeakCheck.requireArrays(engine.arrayCodec, table: plan.name, column: column.name)
    }

    var results: [LeakCheckResult] {
        lock.lock()
        defer { lock.unlock() }
        return columns.flatMap { column -> [LeakCheckResult] in
            guard let tree = column.paths else {
                return [LeakCheckResult(table: plan.name, column: column.name, transformer: column.transformer, method: column.method,
                                        sampled: column.method == .byKey ? compared[column.name] ?? 0 : column.values.count,
                                        leaks: hits[column.name] ?? 0)]
            }
            return tree.rules.filter { !$0.isKeep }.map { rule in
                let found = leaves[column.name]?[PathLeakCheck.slot(rule)] ?? PathLeakCheck.Tally()
                return LeakCheckResult(table: plan.name, column: column.name, path: rule.displayName, transformer: rule.transformer.name,
                                       method: .byKey, sampled: found.searched, leaks: found.leaks)
            }
        }
    }
}
