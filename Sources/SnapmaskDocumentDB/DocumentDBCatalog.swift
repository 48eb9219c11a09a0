import CMongoC
import Foundation
import Snapmask

/// A source collection as the restore needs it: its options (validator, capped, collation, ...)
/// and index specifications, read once when the source is opened.
struct CollectionInfo: Sendable {
    var name: String
    /// `options` of listCollections, given to `create` for the shadow collection.
    var options: BSONDoc
    /// listIndexes entries except `_id_`.
    var indexes: [BSONDoc]
    var estimatedCount: Int
}

extension BSONDoc: @unchecked Sendable {}

/// Reads collections, indexes and the field paths of a sample of documents into the
/// engine-neutral shape `check` compares with the rules.
enum DocumentDBCatalog {
    /// Collections snapmask leaves alone: the server's own, views, and snapmask's bookkeeping
    /// (a source restored from a staging copy may hold them).
    static func isCopied(_ name: String) -> Bool {
        !name.hasPrefix("system.") && name != DocumentDBTarget.lockCollection
            && !name.hasPrefix(DocumentDBTarget.shadowPrefix)
    }

    static func collections(_ client: DocumentDBClient, database: String) throws -> [CollectionInfo] {
        var infos: [CollectionInfo] = []
        for entry in try client.listCollections(database) {
            guard let name = entry["name"]?.string, isCopied(name) else { continue }
            let options = entry["options"]?.document ?? [:]
            // Views hold no data (DocumentDB has none; the test server reports them as collections with viewOn).
            if let type = entry["type"]?.string, type != "collection" { continue }
            if options["viewOn"] != nil { continue }
            let collection = client.collection(database, name)
            let indexes = try client.allDocuments(try collection.indexes(context: "listing the indexes of \(name)"))
                .filter { $0["name"]?.string != "_id_" }
            let count = try client.run(["count": .string(name)], on: database,
                                       context: "counting the documents of \(name)")["n"]?.int ?? 0
            infos.append(CollectionInfo(name: name, options: options, indexes: indexes, estimatedCount: count))
        }
        return infos.sorted { $0.name < $1.name }
    }

    /// The collections with the field paths found in a sample of their documents (only the
    /// documents the rule's `filter:` selects, since only those are copied).
    static func schema(_ client: DocumentDBClient, database: String, collections: [CollectionInfo], rules: RuleSet,
                       sampling: SchemaSampling) throws -> SchemaShape {
        var tables: [TableShape] = []
        for info in collections {
            let rule = rules.table(named: info.name)
            var discovery = BSONPathDiscovery()
            if rule?.skipData != true {
                let filter = try rule?.filter.map { try BSONValue.from($0).document ?? [:] } ?? [:]
                try sample(client, database: database, collection: info.name, filter: filter, sampling: sampling) {
                    try discovery.add(document: $0)
                }
            }
            let columns = discovery.columns
            var uniqueKeys: [[String]] = [["_id"]]
            for index in info.indexes where index["unique"]?.bool == true {
                guard let key = index["key"]?.document else { continue }
                uniqueKeys.append(key.keys.flatMap { field in BSONPathDiscovery.paths(forIndexKey: field, among: columns) })
            }
            tables.append(TableShape(name: info.name, columns: columns, primaryKey: ["_id"], uniqueKeys: uniqueKeys,
                                     estimatedRows: info.estimatedCount))
        }
        return SchemaShape(tables: tables)
    }

    /// Reads the sample: the newest half (by `_id`, so recently added fields show up) and a
    /// random half (`$sample`); every document when `sampling.documents` is 0.
    static func sample(_ client: DocumentDBClient, database: String, collection name: String, filter: BSONDoc,
                       sampling: SchemaSampling, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let collection = client.collection(database, name)
        let context = "sampling documents of \(name) on \(client.displayName)"
        if sampling.readsEverything {
            let cursor = try collection.find(filter, options: ["batchSize": .int32(1000)], context: context)
            while let document = try cursor.next() { try body(document) }
            return
        }
        let newest = sampling.documents - sampling.documents / 2
        let cursor = try collection.find(filter, options: ["sort": .document(["_id": .int32(-1)]),
                                                          "limit": .int32(Int32(clamping: newest))], context: context)
        var read = 0
        while let document = try cursor.next() {
            read += 1
            try body(document)
        }
        // A collection smaller than that was read whole: a random sample would count documents twice.
        let random = sampling.documents / 2
        if random > 0 && read >= newest {
            var pipeline: [BSONValue] = []
            if !filter.fields.isEmpty { pipeline.append(.document(["$match": .document(filter)])) }
            pipeline.append(.document(["$sample": .document(["size": .int32(Int32(clamping: random))])]))
            let sampled = try collection.aggregate(pipeline, context: context)
            while let document = try sampled.next() { try body(document) }
        }
    }
}

/// Feeds the field paths of BSON documents into the core's `PathDiscovery` (which also finds
/// the levels that look like maps keyed by data).
struct BSONPathDiscovery {
    private var discovery = PathDiscovery()

    /// `valuesPerPath`: values kept per path, for `scan` (0 for check and restores).
    init(valuesPerPath: Int = 0) {
        discovery.valuesPerPath = valuesPerPath
    }

    mutating func add(document: UnsafeRawBufferPointer) throws {
        discovery.beginDocument()
        try walk(BSONReader(document), start: 0, at: PathDiscovery.root, isArray: false)
    }

    private mutating func walk(_ reader: BSONReader, start: Int, at cursor: PathDiscovery.Cursor, isArray: Bool) throws {
        if !isArray { discovery.object(at: cursor) }
        let elements = isArray ? discovery.elements(cursor) : cursor
        try reader.forEachElement(ofDocumentAt: start) { element in
            let here = isArray ? elements : discovery.child(cursor, key: reader.key(element))
            let empty = element.end - element.valueStart == 5
            switch element.type {
            case BSONType.document where !empty:
                try walk(reader, start: element.valueStart, at: here, isArray: false)
            case BSONType.array where !empty:
                try walk(reader, start: element.valueStart, at: here, isArray: true)
            default:
                let type = Self.typeOf(element, reader)
                let value = discovery.valuesPerPath > 0 && type.category != nil ? ValueText.text(element, reader) : nil
                discovery.leaf(here, type: type.name, category: type.category, value: value)
            }
        }
    }

    static func typeOf(_ element: BSONElement, _ reader: BSONReader) -> (name: String, category: ValueCategory?) {
        let empty = element.end - element.valueStart == 5
        switch element.type {
        case BSONType.document: return empty ? ("empty document", nil) : ("object", .other)
        case BSONType.array: return empty ? ("empty array", nil) : ("array", .other)
        case BSONType.null: return ("null", nil)
        case BSONType.string: return ("string", .text)
        case BSONType.int32, BSONType.int64, BSONType.double, BSONType.decimal128:
            return (BSONType.name(element.type), .number)
        case BSONType.dateTime: return ("date", .timestamp)
        case BSONType.bool: return ("bool", .boolean)
        case BSONType.binary:
            if reader.byte(at: element.valueStart + 4) == 4 && reader.int32(at: element.valueStart) == 16 {
                return ("binData(uuid)", .uuid)
            }
            return ("binData", .binary)
        default: return (BSONType.name(element.type), .other)
        }
    }

    /// The discovered paths as columns, in the order first seen.
    var columns: [ColumnShape] { discovery.columns(required: ["_id"], topMayBeMap: false) }

    var columnsWithValues: [(ColumnShape, [String])] { discovery.columnsWithValues(required: ["_id"], topMayBeMap: false) }

    /// The discovered paths an index key (`recipients.email`, arrays implicit) stands for.
    static func paths(forIndexKey key: String, among columns: [ColumnShape]) -> [String] {
        let matches = columns.map(\.name).filter { $0.replacingOccurrences(of: "[]", with: "") == key }
        return matches.isEmpty ? [key] : matches
    }
}
