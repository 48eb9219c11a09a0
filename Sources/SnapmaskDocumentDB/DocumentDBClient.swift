import CMongoC
import Foundation
import Snapmask

/// libmongoc's global state, initialized once per process before the first client.
enum MongoC {
    static let initialized: Bool = {
        mongoc_init()
        // libmongoc's own log lines (warnings such as a failed endSessions at shutdown) would
        // break the JSON log on stderr; every failure that matters comes back as an error.
        mongoc_log_set_handler(nil, nil)
        return true
    }()
}

/// One libmongoc client (`mongoc_client_t *`), destroyed in `deinit`. Used by one thread at a
/// time: every reader, writer and the coordinator have a client of their own.
public final class DocumentDBClient {
    let handle: OpaquePointer
    public let displayName: String
    /// The database named in the URL path.
    public let databaseName: String?
    /// Whether the URL sets `readConcernLevel` (then it wins over snapmask's default).
    let urlSetsReadConcern: Bool

    /// `primaryOnly`: reads go to the primary whatever the URL's read preference (the target
    /// must read what it has just written).
    public init(url: ConnectionString, applicationName: String = "snapmask", primaryOnly: Bool = false) throws {
        _ = MongoC.initialized
        displayName = url.description
        databaseName = url.database
        urlSetsReadConcern = url.query.contains { $0.key.lowercased() == "readconcernlevel" }
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url.forDriver, &error) else {
            // libmongoc's message may quote the URL; say only what is wrong with it.
            throw DocumentDBError("not a valid MongoDB URL: \(url.description) (check the host list, the "
                                      + "percent-encoding of the password and the options)", domain: error.domain,
                                  code: error.code)
        }
        defer { mongoc_uri_destroy(uri) }
        if !url.query.contains(where: { $0.key.lowercased() == "serverselectiontimeoutms" }) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 15_000)
        }
        if !url.query.contains(where: { $0.key.lowercased() == "connecttimeoutms" }) {
            mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 10_000)
        }
        // DocumentDB refuses retryable writes; a write that fails fails the run anyway.
        if !url.query.contains(where: { $0.key.lowercased() == "retrywrites" }) {
            mongoc_uri_set_option_as_bool(uri, MONGOC_URI_RETRYWRITES, false)
        }
        guard let client = mongoc_client_new_from_uri_with_error(uri, &error) else {
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                                  context: "cannot create a client for \(url.description)")
        }
        mongoc_client_set_appname(client, String(applicationName.utf8.prefix(120)) ?? "snapmask")
        mongoc_client_set_error_api(client, 2)
        if primaryOnly, let primary = mongoc_read_prefs_new(MONGOC_READ_PRIMARY) {
            mongoc_client_set_read_prefs(client, primary)
            mongoc_read_prefs_destroy(primary)
        }
        handle = client
    }

    deinit { mongoc_client_destroy(handle) }

    /// Runs a command document (extended JSON) on `database` and returns the reply as relaxed
    /// extended JSON.
    @discardableResult
    public func command(_ json: String, database: String) throws -> String {
        try run(BSONDoc(bytes: try BSONDocument(json: json).bytes), on: database).json
    }

    /// Runs a command on the primary and returns its reply; a reply with `ok: 0` is an error.
    @discardableResult
    func run(_ command: BSONDoc, on database: String, context: @autoclosure () -> String? = nil) throws -> BSONDoc {
        let document = try BSONDocument(bytes: command.bytes)
        let reply = BSONOutput()
        var error = bson_error_t()
        let ok = mongoc_client_command_simple(handle, database, document.handle, nil, reply.pointer, &error)
        reply.markInitialized()
        guard ok else {
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                                  context: context() ?? "\(command.keys.first ?? "command") on \(displayName)")
        }
        return try BSONDoc(bytes: BSONDocument.bytes(of: reply.pointer))
    }

    func collection(_ database: String, _ name: String) -> MongoCollection {
        MongoCollection(client: self, database: database, name: name)
    }

    /// Every document of a command cursor (listCollections, listIndexes): small results only.
    func allDocuments(_ cursor: MongoCursor) throws -> [BSONDoc] {
        var documents: [BSONDoc] = []
        while let bytes = try cursor.next() {
            documents.append(try BSONDoc(bytes: Array(bytes)))
        }
        return documents
    }

    /// The collections (not views) of `database` with their options.
    func listCollections(_ database: String, filter: BSONDoc = [:]) throws -> [BSONDoc] {
        let cursor = try MongoCursor(client: self, database: database,
                                     command: ["listCollections": .int32(1), "filter": .document(filter),
                                               "cursor": .document([:])],
                                     readConcern: nil, context: "listing the collections of \(database) on \(displayName)")
        return try allDocuments(cursor)
    }
}

/// A collection of a client's database: builds the cursor commands.
final class MongoCollection {
    let client: DocumentDBClient
    let database: String
    let name: String

    init(client: DocumentDBClient, database: String, name: String) {
        self.client = client
        self.database = database
        self.name = name
    }

    /// `find`: `options` are find's own fields (sort, hint, limit, batchSize, projection, readConcern).
    func find(_ filter: BSONDoc, options: BSONDoc, context: String) throws -> MongoCursor {
        var command: BSONDoc = ["find": .string(name), "filter": .document(filter)]
        var readConcern: BSONValue?
        for (key, value) in options.fields {
            if key == "readConcern" { readConcern = value } else { command[key] = value }
        }
        if command["batchSize"] == nil, let limit = command["limit"] { command["batchSize"] = limit }
        return try MongoCursor(client: client, database: database, command: command, readConcern: readConcern,
                               context: context)
    }

    func aggregate(_ pipeline: [BSONValue], batchSize: Int32? = nil, context: String) throws -> MongoCursor {
        let cursor: BSONDoc = batchSize.map { ["batchSize": .int32($0)] } ?? [:]
        return try MongoCursor(client: client, database: database,
                               command: ["aggregate": .string(name), "pipeline": .array(pipeline), "cursor": .document(cursor)],
                               readConcern: nil, context: context)
    }

    func indexes(context: String) throws -> MongoCursor {
        try MongoCursor(client: client, database: database, command: ["listIndexes": .string(name), "cursor": .document([:])],
                        readConcern: nil, context: context)
    }
}

/// A server cursor driven by commands through libmongoc: `find`/`aggregate`/`list...` and then
/// `getMore` until the cursor id is 0. Every command of one cursor goes to the same server (its
/// `serverId`) in the same explicit session, as a cursor requires. The cursor id is sent back in
/// the BSON type the server gave it (MongoDB and DocumentDB give a long; the test server an int,
/// and it refuses a long, which libmongoc's own cursor always sends).
final class MongoCursor {
    private let client: DocumentDBClient
    private let database: String
    private let context: String
    private var session: OpaquePointer?
    private var options: BSONDocument
    private var collection = ""
    private var id: BSONValue = .int64(0)
    /// The current reply (kept alive: documents are read in place) and where its batch's documents are.
    private var reply: BSONOutput?
    private var replyBytes = UnsafeRawBufferPointer(start: nil, count: 0)
    private var documents: [Range<Int>] = []
    private var position = 0
    private var failed = false
    /// The batch size of the first command, asked for in every getMore too (without one a
    /// getMore returns up to 16 MiB at once).
    private let batchSize: BSONValue?

    init(client: DocumentDBClient, database: String, command: BSONDoc, readConcern: BSONValue?, context: String) throws {
        self.client = client
        batchSize = command["batchSize"] ?? command["cursor"]?.document?["batchSize"]
        self.database = database
        self.context = context
        var error = bson_error_t()
        let prefs = mongoc_client_get_read_prefs(client.handle)
        guard let server = mongoc_client_select_server(client.handle, false, prefs, &error) else {
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code, context: context)
        }
        let serverId = mongoc_server_description_id(server)
        mongoc_server_description_destroy(server)
        var base: BSONDoc = ["serverId": .int64(Int64(serverId))]
        if let readConcern { base["readConcern"] = readConcern }
        options = try BSONDocument(bytes: base.bytes)
        // An explicit session, so the getMore runs in the session the cursor was created in.
        // Not causally consistent: the cursor is its session's only reader (and DocumentDB does
        // not take afterClusterTime).
        let sessionOptions = mongoc_session_opts_new()
        mongoc_session_opts_set_causal_consistency(sessionOptions, false)
        session = mongoc_client_start_session(client.handle, sessionOptions, &error)
        mongoc_session_opts_destroy(sessionOptions)
        if let session {
            guard mongoc_client_session_append(session, options.handle, &error) else {
                mongoc_client_session_destroy(session)
                throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code, context: context)
            }
        }
        try run(command, first: true)
    }

    deinit {
        if !failed, id.int != 0 {
            // Not read to the end: free the server's cursor now rather than at its timeout.
            _ = try? runCommand(["killCursors": .string(collection), "cursors": .array([id])])
        }
        if let session { mongoc_client_session_destroy(session) }
    }

    private func runCommand(_ command: BSONDoc) throws -> BSONOutput {
        let document = try BSONDocument(bytes: command.bytes)
        let reply = BSONOutput()
        var error = bson_error_t()
        let ok = mongoc_client_read_command_with_opts(client.handle, database, document.handle,
                                                      mongoc_client_get_read_prefs(client.handle), options.handle,
                                                      reply.pointer, &error)
        reply.markInitialized()
        guard ok else {
            failed = true
            throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code, context: context)
        }
        return reply
    }

    private func run(_ command: BSONDoc, first: Bool) throws {
        let output = try runCommand(command)
        reply = output
        guard let data = bson_get_data(output.pointer) else { throw DocumentDBError("an empty reply", context: context) }
        replyBytes = UnsafeRawBufferPointer(start: data, count: Int(Int32(littleEndian: UnsafeRawPointer(data).loadUnaligned(as: Int32.self))))
        documents.removeAll(keepingCapacity: true)
        position = 0
        do {
            let reader = BSONReader(replyBytes)
            var cursorStart: Int?
            try reader.forEachElement(ofDocumentAt: 0) { element in
                if element.type == BSONType.document && reader.key(element) == "cursor" { cursorStart = element.valueStart }
            }
            guard let cursorStart else {
                failed = true
                throw DocumentDBError("the reply holds no cursor", context: context)
            }
            try reader.forEachElement(ofDocumentAt: cursorStart) { element in
                switch reader.key(element) {
                case "id": id = try BSONDoc.decodeValue(reader, element)
                case "ns":
                    let namespace = reader.stringValue(element)
                    collection = namespace.firstIndex(of: ".").map { String(namespace[namespace.index(after: $0)...]) }
                        ?? namespace
                case "firstBatch", "nextBatch":
                    guard element.type == BSONType.array else { return }
                    try reader.forEachElement(ofDocumentAt: element.valueStart) { item in
                        guard item.type == BSONType.document else { return }
                        documents.append(item.valueStart..<item.end)
                    }
                default: break
                }
            }
        }
    }

    /// The next document's bytes, valid until the next call; nil at the end.
    func next() throws -> UnsafeRawBufferPointer? {
        while position == documents.count {
            guard id.int != 0, !failed else { return nil }
            var getMore: BSONDoc = ["getMore": id, "collection": .string(collection)]
            if let batchSize { getMore["batchSize"] = batchSize }
            try run(getMore, first: false)
        }
        let range = documents[position]
        position += 1
        return UnsafeRawBufferPointer(rebasing: replyBytes[range])
    }
}

extension DocumentDBClient {
    /// Every document of a collection in `_id` order, as canonical extended JSON (every BSON type
    /// spelled out), for tests, the fixture loader and people comparing copies.
    public func canonicalDocuments(database: String, collection: String, filter json: String = "{}") throws -> [String] {
        let filter = try BSONDoc(bytes: try BSONDocument(json: json).bytes)
        let cursor = try self.collection(database, collection).find(
            filter, options: ["sort": .document(["_id": .int32(1)])], context: "reading \(collection)")
        var documents: [String] = []
        while let bytes = try cursor.next() {
            documents.append(try BSONDocument(bytes: Array(bytes)).canonicalJSON)
        }
        return documents
    }

    /// Every document of a collection in `_id` order, as BSON bytes.
    public func rawDocuments(database: String, collection: String) throws -> [[UInt8]] {
        let cursor = try self.collection(database, collection).find(
            [:], options: ["sort": .document(["_id": .int32(1)])], context: "reading \(collection)")
        var documents: [[UInt8]] = []
        while let bytes = try cursor.next() { documents.append(Array(bytes)) }
        return documents
    }

    /// Inserts documents given as (canonical or relaxed) extended JSON, in one unordered insert
    /// command per 500 documents.
    public func insert(database: String, collection: String, json documents: [String]) throws {
        var start = 0
        while start < documents.count {
            let slice = documents[start..<min(documents.count, start + 500)]
            let values = try slice.map { BSONValue.document(try BSONDoc(bytes: try BSONDocument(json: $0).bytes)) }
            let reply = try run(["insert": .string(collection), "documents": .array(values), "ordered": .bool(false)],
                                on: database, context: "inserting into \(collection)")
            if let error = reply["writeErrors"]?.array?.first?.document {
                throw DocumentDBError(error["errmsg"]?.string ?? "insert refused", code: UInt32(error["code"]?.int ?? 0),
                                      context: "inserting into \(collection)")
            }
            start += 500
        }
    }

    /// The names of the collections (and views) of a database, sorted.
    public func collectionNames(database: String) throws -> [String] {
        try listCollections(database).compactMap { $0["name"]?.string }.sorted()
    }
}
