import CMongoC
import Foundation
import Snapmask

/// How the source is read; the defaults suit production, tests make batches small.
struct DocumentDBTuning: Sendable {
    /// Documents per cursor batch (find's `batchSize`).
    var cursorBatchSize: Int32 = 2_000
    /// A RowBatch is handed on once it holds this many bytes...
    var batchBytes = 4 << 20
    /// ...or this many documents.
    var batchDocuments = 20_000
    /// How often a run renews its lock, and after how long without renewal a lock is stale
    /// (its holder was killed: the next run need not wait long).
    var lockRenewal: TimeInterval = 15
    var lockExpiry: TimeInterval = 60
}

/// The source database. DocumentDB has no snapshot across collections (and MongoDB's snapshot
/// reads last only minutes), so each collection is read by one cursor of its own:
///
/// - `find` with the rule's `filter:`, sorted and hinted on `_id`: an index scan in `_id` order,
///   so a document updated while the collection is read is still returned once, never twice;
/// - `readConcern: majority` unless the URL sets `readConcernLevel`: only data that survives a
///   failover is copied (on DocumentDB a write is acknowledged only once durable on a storage
///   quorum, so this is what a primary read returns anyway);
/// - the read preference is the URL's (`readPreference=secondaryPreferred` to spare the primary).
///
/// Each document is copied as one committed version of itself. Documents inserted, updated or
/// deleted while their collection is read may or may not be in the copy, and different
/// collections are read at different moments: references between collections can dangle. For an
/// exact point in time, restore a cluster snapshot and point `source:` at it.
final class DocumentDBSource: SourceSession, @unchecked Sendable {
    // The coordinator client is used under `lock`: copy threads call makeReader and the leak
    // check calls sampleRows while others may still read.
    private let lock = NSLock()
    private let coordinator: DocumentDBClient
    let url: ConnectionString
    let database: String
    let collections: [CollectionInfo]
    let schema: SchemaShape
    let tuning: DocumentDBTuning

    init(url: ConnectionString, rules: RuleSet, sampling: SchemaSampling, tuning: DocumentDBTuning) throws {
        guard let database = url.database else {
            throw DocumentDBError("the source URL \(url) names no database; end it with /DATABASE (before any ?options)")
        }
        self.url = url
        self.database = database
        self.tuning = tuning
        coordinator = try DocumentDBClient(url: url, applicationName: "snapmask source \(database)")
        do {
            collections = try DocumentDBCatalog.collections(coordinator, database: database)
            schema = try DocumentDBCatalog.schema(coordinator, database: database, collections: collections, rules: rules,
                                                  sampling: sampling)
        } catch let error as DocumentDBError {
            throw error.adding(context: "reading the collections of \(url)")
        }
    }

    func info(_ name: String) -> CollectionInfo? { collections.first { $0.name == name } }

    /// Each collection's options and indexes, as a snapshot stores them.
    func schemaDefinition() throws -> SchemaDefinition {
        try DocumentDBSchemaDefinition.make(collections)
    }

    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let client = try DocumentDBClient(url: url, applicationName: "snapmask read \(plan.name)")
        return try DocumentDBReader(client: client, database: database, plan: plan, tuning: tuning)
    }

    static func filter(of plan: TablePlan) throws -> BSONDoc {
        guard let filter = plan.rule?.rule.filter else { return [:] }
        return try BSONValue.from(filter).document ?? [:]
    }

    /// Ranges of ObjectId `_id`s, split evenly over their first eight bytes (creation second and
    /// what follows) between the smallest and the largest `_id` now. Every document falls in
    /// exactly one slice whatever its `_id`: the first slice also takes every `_id` that is not
    /// an ObjectId, and the first and last are open-ended, so documents inserted since fall in
    /// one of them. Collections whose `_id`s are not ObjectIds are not split.
    func slices(of plan: TablePlan, into count: Int) throws -> [TableSlice] {
        guard count > 1 else { return [] }
        let ends = try withCoordinator { client -> (low: UInt64, high: UInt64)? in
            func end(_ direction: Int32) throws -> UInt64? {
                let cursor = try client.collection(database, plan.name).find(
                    ["_id": .document(["$type": .string("objectId")])],
                    options: ["sort": .document(["_id": .int32(direction)]), "hint": .document(["_id": .int32(1)]),
                              "limit": .int32(1), "projection": .document(["_id": .int32(1)])],
                    context: "finding the \(direction > 0 ? "smallest" : "largest") _id of \(plan.name) to split its read")
                guard let document = try cursor.next(),
                      case let .objectId(bytes)? = try BSONDoc(bytes: Array(document))["_id"], bytes.count == 12 else { return nil }
                return bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            }
            guard let low = try end(1), let high = try end(-1) else { return nil }
            return (low, high)
        }
        guard let ends, ends.high > ends.low, ends.high - ends.low >= UInt64(count) else { return [] }
        let step = (ends.high - ends.low) / UInt64(count)
        func bound(_ index: Int) -> Int { Int(bitPattern: UInt(ends.low + step * UInt64(index))) }
        return (0..<count).map { index in
            TableSlice(index: index, count: count, lower: index == 0 ? nil : bound(index),
                       upper: index == count - 1 ? nil : bound(index + 1))
        }
    }

    /// The documents of one slice (see `slices`). `$type` on both sides keeps the ranges to
    /// ObjectIds whether or not the server compares across types.
    static func condition(of slice: TableSlice) -> BSONDoc {
        func objectId(_ bound: Int) -> BSONValue {
            let prefix = UInt64(bitPattern: Int64(bound))
            return .objectId((0..<8).map { UInt8(truncatingIfNeeded: prefix >> UInt64(56 - 8 * $0)) } + [0, 0, 0, 0])
        }
        var range: BSONDoc = ["$type": .string("objectId")]
        if let lower = slice.lower { range["$gte"] = objectId(lower) }
        if let upper = slice.upper { range["$lt"] = objectId(upper) }
        let inRange: BSONDoc = ["_id": .document(range)]
        guard slice.lower == nil else { return inRange }
        return ["$or": .array([.document(inRange),
                               .document(["_id": .document(["$not": .document(["$type": .string("objectId")])])])])]
    }

    /// Values at `column` (a path) in documents of the collection: one row per value, keyed by the
    /// document's `_id` and the value's position, so arrays are compared element by element.
    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] {
        if column == LeakCheck.wholeDocument { return try sampleDocuments(plan, limit: limit) }
        guard let path = try? FieldPath(column) else { return [] }
        var filter = try Self.filter(of: plan)
        let dotted = column.replacingOccurrences(of: "[]", with: "")
        let condition: BSONDoc = ["$exists": .bool(true), "$nin": .array([.null, .string("")])]
        if filter.fields.isEmpty {
            filter = [dotted: .document(condition)]
        } else {
            filter = ["$and": .array([.document(filter), .document([dotted: .document(condition)])])]
        }
        return try withCoordinator { client in
            let cursor = try client.collection(database, plan.name).find(
                filter, options: ["limit": .int32(Int32(clamping: limit)), "batchSize": .int32(Int32(max(1, min(limit, 1000))))],
                context: "sampling \(plan.name).\(column) for the leak check")
            var rows: [SampledRow] = []
            while rows.count < limit, let document = try cursor.next() {
                for found in try PathValues.values(at: path, in: document) where !(found.text ?? "").isEmpty {
                    rows.append(SampledRow(key: keyColumns.isEmpty ? [] : [found.id, found.position], value: found.text!))
                    if rows.count == limit { break }
                }
            }
            return rows
        }
    }

    /// Documents picked at random (`$sample`, after the rule's filter), each keyed by its `_id`
    /// and given as relaxed extended JSON: the leak check compares them path by path with their
    /// copies.
    func sampleDocuments(_ plan: TablePlan, limit: Int) throws -> [SampledRow] {
        let filter = try Self.filter(of: plan)
        var pipeline: [BSONValue] = []
        if !filter.fields.isEmpty { pipeline.append(.document(["$match": .document(filter)])) }
        pipeline.append(.document(["$sample": .document(["size": .int32(Int32(clamping: limit))])]))
        return try withCoordinator { client in
            let cursor = try client.collection(database, plan.name).aggregate(
                pipeline, context: "sampling documents of \(plan.name) for the leak check")
            var rows: [SampledRow] = []
            while let document = try cursor.next() {
                guard let row = DocumentJSON.keyed(document) else { continue }
                rows.append(row)
            }
            return rows
        }
    }

    private func withCoordinator<T>(_ body: (DocumentDBClient) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(coordinator)
    }

    /// DocumentDB cannot read all collections at one point in time: the log says so.
    var notices: [String] {
        ["each collection is read by a cursor of its own (in _id order, readConcern "
            + "\(url.query.first { $0.key.lowercased() == "readconcernlevel" }?.value ?? "majority")); DocumentDB has no "
            + "snapshot across collections, so documents changed during the copy may or may not be in it"]
    }

    func close() {}
}

/// Reads one collection with a cursor of its own, in large batches of whole documents.
final class DocumentDBReader: BatchReader {
    private let client: DocumentDBClient
    private let collection: MongoCollection
    private var cursor: MongoCursor?
    private let plan: TablePlan
    private let tuning: DocumentDBTuning
    private var documentsRead = 0
    private var finished = false
    private var exhausted = false

    init(client: DocumentDBClient, database: String, plan: TablePlan, tuning: DocumentDBTuning) throws {
        self.client = client
        self.plan = plan
        self.tuning = tuning
        collection = client.collection(database, plan.name)
        var options: BSONDoc = ["sort": .document(["_id": .int32(1)]), "hint": .document(["_id": .int32(1)]),
                                "batchSize": .int32(tuning.cursorBatchSize)]
        if !client.urlSetsReadConcern { options["readConcern"] = .document(["level": .string("majority")]) }
        var filter = try DocumentDBSource.filter(of: plan)
        if let scan = plan.keyScan {
            // A subset reads only the key paths; a root adds its filter and its order and limit.
            options["projection"] = .document(BSONDoc(scan.columns.map { ($0, BSONValue.int32(1)) }))
            if let root = try scan.filter.map({ try BSONValue.from($0).document ?? [:] }), !root.fields.isEmpty {
                filter = filter.fields.isEmpty ? root : ["$and": .array([.document(filter), .document(root)])]
            }
            if let order = scan.orderBy {
                let descending = order.hasPrefix("-")
                options["sort"] = .document([String(descending ? order.dropFirst() : order[...]): .int32(descending ? -1 : 1)])
                options["hint"] = nil
            } else if let columns = scan.orderColumns, columns != ["_id"] {
                options["sort"] = .document(BSONDoc(columns.map { ($0, BSONValue.int32(1)) }))
                options["hint"] = nil
            }
            if let limit = scan.limit { options["limit"] = .int64(Int64(limit)) }
        }
        if let slice = plan.slice {
            let part = DocumentDBSource.condition(of: slice)
            filter = filter.fields.isEmpty ? part : ["$and": .array([.document(filter), .document(part)])]
        }
        cursor = try collection.find(filter, options: options, context: "reading \(plan.name) on \(client.displayName)")
    }

    func next() throws -> RowBatch? {
        guard !finished, let cursor else { return nil }
        var data: [UInt8] = []
        data.reserveCapacity(min(tuning.batchBytes + (64 << 10), 8 << 20))
        var count = 0
        do {
            while !exhausted {
                guard let document = try cursor.next() else {
                    exhausted = true
                    break
                }
                data.append(contentsOf: document)
                count += 1
                if data.count >= tuning.batchBytes || count >= tuning.batchDocuments { break }
            }
        } catch let error as DocumentDBError {
            if plan.rule?.rule.filter != nil && error.isQueryError {
                throw error.adding(context: "the filter: of \(plan.name) (\(plan.rule!.rule.location)) was refused")
            }
            throw error.adding(context: "reading \(plan.name) after \(documentsRead + count) documents")
        }
        if count == 0 {
            finished = true
            return nil
        }
        defer { documentsRead += count }
        return RowBatch(data: data, rowCount: count, firstRow: documentsRead)
    }

    func close() {
        cursor = nil
    }
}

/// The values found at a rule path in one document, with where they are.
enum PathValues {
    struct Found {
        /// The document's `_id` as canonical extended JSON of `{"_id": ...}`.
        var id: String?
        /// The concrete position (`recipients.2.email`).
        var position: String
        var text: String?
    }

    /// `containers`: a document or array at the end of the path is a value too (its extended JSON).
    static func values(at path: FieldPath, in document: UnsafeRawBufferPointer, containers: Bool = false) throws -> [Found] {
        let reader = BSONReader(document)
        var id: String?
        var found: [Found] = []
        try reader.forEachElement(ofDocumentAt: 0) { element in
            if id == nil && reader.key(element) == "_id" { id = idKey(reader, element) }
        }
        func walk(_ start: Int, _ segments: ArraySlice<FieldPath.Segment>, _ position: String, isArray: Bool) throws {
            try reader.forEachElement(ofDocumentAt: start) { element in
                let key = reader.key(element)
                let here = position.isEmpty ? key : position + "." + key
                if !isArray {
                    switch segments.first {
                    case let .key(wanted)?: guard wanted == key else { return }
                    case .anyKey?: break
                    default: return
                    }
                } else if segments.first != .elements {
                    return
                }
                let rest = segments.dropFirst()
                if rest.isEmpty {
                    if containers || (element.type != BSONType.document && element.type != BSONType.array) {
                        found.append(Found(id: id, position: here, text: ValueText.text(element, reader)))
                    }
                } else if element.type == BSONType.document {
                    try walk(element.valueStart, rest, here, isArray: false)
                } else if element.type == BSONType.array {
                    try walk(element.valueStart, rest, here, isArray: true)
                } else if rest.allSatisfy({ $0 == .elements }) {
                    found.append(Found(id: id, position: here, text: ValueText.text(element, reader)))
                }
            }
        }
        try walk(0, path.segments[...], "", isArray: false)
        return found
    }

    static func idKey(_ reader: BSONReader, _ element: BSONElement) -> String? {
        var writer = BSONWriter()
        let begin = writer.beginDocument()
        writer.append(reader.bytes(element.start..<element.end))
        writer.endDocument(begin)
        return try? BSONDocument(bytes: writer.bytes).canonicalJSON
    }

    /// The value at a concrete position (`recipients.2.email`) as text.
    static func value(atPosition position: String, in document: UnsafeRawBufferPointer) throws -> String?? {
        let reader = BSONReader(document)
        var start = 0
        let parts = position.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for (index, part) in parts.enumerated() {
            var next: BSONElement?
            try reader.forEachElement(ofDocumentAt: start) { element in
                if next == nil && reader.key(element) == part { next = element }
            }
            guard let element = next else { return .none }
            if index == parts.count - 1 { return .some(ValueText.text(element, reader)) }
            guard element.type == BSONType.document || element.type == BSONType.array else { return .none }
            start = element.valueStart
        }
        return .none
    }
}

/// A whole document as the leak check compares it: keyed by its `_id` (canonical extended JSON,
/// as `PathValues` keys it), its content as relaxed extended JSON.
enum DocumentJSON {
    static func keyed(_ document: UnsafeRawBufferPointer) -> SampledRow? {
        let reader = BSONReader(document)
        var id: String?
        try? reader.forEachElement(ofDocumentAt: 0) { element in
            if id == nil && reader.key(element) == "_id" { id = PathValues.idKey(reader, element) }
        }
        guard let id, let json = try? BSONDocument(bytes: Array(document)).json else { return nil }
        return SampledRow(key: [id], value: json)
    }
}
