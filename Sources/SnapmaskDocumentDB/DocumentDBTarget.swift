import CMongoC
import Foundation
import Snapmask

/// The staging database. The restore builds shadow collections `snapmask_shadow.<name>` in the
/// staging database itself, because `renameCollection` is atomic only within one database (and
/// DocumentDB and the MongoDB-wire test server rename only within one). After overrides and
/// verification, each shadow collection replaces its staging collection with
/// `renameCollection ... dropTarget: true`: atomic per collection, one collection after another,
/// not across collections. Collections staging has and the source does not are dropped last, so
/// staging ends up with the source's collections. A swap cut off half-way (a kill, a lost
/// server) is finished by the next run, from the journal the swap writes first.
///
/// One run at a time per staging database: a lock document `{_id: <database>}` in
/// `snapmask_locks` (DocumentDBLock), with a lease renewed every 15 s.
final class DocumentDBTarget: TargetSession, @unchecked Sendable {
    static let shadowPrefix = "snapmask_shadow."
    static let lockCollection = "snapmask_locks"
    /// MongoDB's limit on `database.collection`.
    static let maxNamespaceBytes = 255

    // `admin` is used under `mutex`; writers have clients of their own.
    private let mutex = NSLock()
    let url: ConnectionString
    let database: String
    let tuning: DocumentDBTuning
    private let admin: DocumentDBClient
    private var lockKeeper: LockKeeper?
    /// The collections of the restore (swapped in), and those with a validator (loaded with
    /// bypassDocumentValidation, as if the validator came after the data).
    private var collections: [String] = []
    private var validated: Set<String> = []
    private var shadowCreated = false
    /// The swap began (its journal is written); the collections it renamed into place so far.
    private var swapStarted = false
    private var swapped: [String] = []
    /// The shadow collections discardShadow found after a failure, before it removed any.
    private var shadowsSeen: Set<String>?
    /// What this run found of an earlier one when it took the lock (and finished or removed).
    private(set) var recovered: String?
    /// Set by interrupt(): writers stop before their next bulk insert.
    private let stopping = StopFlag()
    /// Part of every client name of this run, to find its operations in currentOp.
    let tag = String(UUID().uuidString.prefix(8))

    init(url: ConnectionString, tuning: DocumentDBTuning) throws {
        guard let database = url.database else {
            throw DocumentDBError("the target URL \(url) names no database; end it with /DATABASE (before any ?options)")
        }
        self.url = url
        self.database = database
        self.tuning = tuning
        admin = try DocumentDBClient(url: url, applicationName: DocumentDBLock.holderName(database), primaryOnly: true)
    }

    static func shadowName(_ collection: String) -> String { shadowPrefix + collection }

    private func withAdmin<T>(_ body: (DocumentDBClient) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(admin)
    }

    /// Which server this is, for refusing a target that is the source under another name.
    func serverIdentity() throws -> String? {
        try withAdmin { try DocumentDBIdentity.of($0) }
    }

    // MARK: Lock

    /// Takes the lock (over from a run that is gone, if need be), then deals with what such a run
    /// left: its half-done swap is finished, its shadow collections removed.
    func lock() throws {
        let keeper = try withAdmin { try DocumentDBLock.acquire(on: $0, database: database, tuning: tuning) }
        keeper.start(url: url, tuning: tuning)
        lockKeeper = keeper
        do {
            try withAdmin { try recover($0, tookOver: keeper.tookOver) }
        } catch {
            unlock()
            throw error
        }
    }

    func unlock() {
        guard let keeper = lockKeeper else { return }
        keeper.stop()
        _ = try? withAdmin { try DocumentDBLock.release(on: $0, database: database, run: keeper.run) }
        lockKeeper = nil
    }

    // MARK: Shadow



    func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws {
        let stored = try DocumentDBSchemaDefinition(definition)
        collections = plan.tables.map(\.name)
        for name in collections where (database + "." + Self.shadowName(name)).utf8.count > Self.maxNamespaceBytes {
            throw DocumentDBError("the shadow collection of \(name) would be \(database).\(Self.shadowName(name)), longer than "
                                      + "\(Self.maxNamespaceBytes) bytes; shorten the collection name")
        }
        for name in collections where try stored.options(of: name)["timeseries"] != nil {
            throw DocumentDBError("\(name) is a time-series collection, which renameCollection cannot move into place; "
                                      + "snapmask cannot restore it (nothing was changed)")
        }
        // Shadows left by a run that died are ours to remove: we hold the lock.
        try withAdmin { admin in
            for name in try Self.names(admin, database: database) where name.hasPrefix(Self.shadowPrefix) {
                try admin.run(["drop": .string(name)], on: database, context: "dropping the shadow collection \(name)")
            }
        }
        shadowCreated = true
        try withAdmin { admin in
            for name in collections {
                var command: BSONDoc = ["create": .string(Self.shadowName(name))]
                let options = try stored.options(of: name)
                for (key, value) in options.fields where !["viewOn", "pipeline", "autoIndexId"].contains(key) {
                    command[key] = value
                }
                if options["validator"] != nil { validated.insert(name) }
                do {
                    try admin.run(command, on: database)
                } catch let error as DocumentDBError {
                    throw error.adding(context: "creating the shadow collection of \(name) with the source's options "
                                           + "(\(options.keys.joined(separator: ", ")))")
                }
            }
        }
    }

    func makeWriter(for plan: TablePlan) throws -> any BatchWriter {
        let client = try DocumentDBClient(url: url, applicationName: "snapmask load \(plan.name) \(tag)", primaryOnly: true)
        return DocumentDBWriter(client: client, database: database, collection: plan.name,
                                shadow: Self.shadowName(plan.name), bypassValidation: validated.contains(plan.name),
                                stopping: stopping)
    }

    /// Indexes after the data: each collection's indexes in one createIndexes (unique, compound,
    /// TTL, partial, sparse, collation, text, ... as listIndexes describes them).
    func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws {
        let stored = try DocumentDBSchemaDefinition(definition)
        try withAdmin { admin in
            for name in collections {
                let indexes = try stored.indexes(of: name).map { index -> BSONValue in
                    var spec = index
                    spec["ns"] = nil
                    return .document(spec)
                }
                guard !indexes.isEmpty else { continue }
                do {
                    try admin.run(["createIndexes": .string(Self.shadowName(name)), "indexes": .array(indexes)], on: database)
                } catch let error as DocumentDBError {
                    let names = indexes.compactMap { $0.document?["name"]?.string }.joined(separator: ", ")
                    throw error.adding(context: "creating the indexes of \(name) (\(names))"
                                           + (error.isDuplicateKey ? "; masked values collide under a unique index: use a "
                                                + "transformer that promises distinct outputs" : ""))
                }
            }
        }
    }

    func countRows(_ plan: TablePlan) throws -> Int {
        try withAdmin { try Self.count($0, database: database, collection: Self.shadowName(plan.name)) }
    }

    static func count(_ client: DocumentDBClient, database: String, collection: String) throws -> Int {
        let cursor = try client.collection(database, collection).aggregate(
            [.document(["$count": .string("n")])], context: "counting the documents of \(collection)")
        guard let first = try cursor.next() else { return 0 }
        return try BSONDoc(bytes: Array(first))["n"]?.int ?? 0
    }

    func applyOverrides(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        try withAdmin { admin in
            try DocumentDBOverrides.apply(overrides, on: admin, database: database) { [collections] name in
                guard collections.contains(name) else {
                    throw DocumentDBError("the override names collection \(name), which this restore does not copy "
                                              + "(collections: \(collections.joined(separator: ", ")))")
                }
                return Self.shadowName(name)
            }
        }
    }

    func applyOverridesToStaging(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        try withAdmin { admin in try DocumentDBOverrides.apply(overrides, on: admin, database: database) { $0 } }
    }

    /// Values at the keyed positions (`[_id, position]` as `sampleRows` made them) in the shadow.
    func values(_ plan: TablePlan, keyColumns: [String], column: String, keys: [[String?]]) throws -> [[String?]: String?] {
        if column == LeakCheck.wholeDocument { return try documents(plan, keys: keys) }
        var wanted: [String: [[String?]]] = [:]
        var ids: [BSONValue] = []
        for key in keys {
            guard key.count == 2, let id = key[0] else { continue }
            if wanted[id] == nil, let parsed = try? BSONDoc(bytes: try BSONDocument(json: id).bytes)["_id"] { ids.append(parsed) }
            wanted[id, default: []].append(key)
        }
        var result: [[String?]: String?] = [:]
        guard !ids.isEmpty else { return result }
        try withAdmin { admin in
            let cursor = try admin.collection(database, Self.shadowName(plan.name)).find(
                ["_id": .document(["$in": .array(ids)])], options: [:], context: "reading back \(plan.name) for the leak check")
            while let document = try cursor.next() {
                let reader = BSONReader(document)
                var id: String?
                try reader.forEachElement(ofDocumentAt: 0) { element in
                    if id == nil && reader.key(element) == "_id" { id = PathValues.idKey(reader, element) }
                }
                guard let id, let keys = wanted[id] else { continue }
                for key in keys {
                    guard let position = key[1], let value = try PathValues.value(atPosition: position, in: document) else {
                        continue
                    }
                    result[key] = value
                }
            }
        }
        return result
    }

    /// The shadow's documents with these `_id`s (keys as `DocumentJSON` makes them), as relaxed
    /// extended JSON.
    private func documents(_ plan: TablePlan, keys: [[String?]]) throws -> [[String?]: String?] {
        let ids = keys.compactMap { key in
            key.first.flatMap { $0 }.flatMap { try? BSONDoc(bytes: try BSONDocument(json: $0).bytes)["_id"] }
        }
        var result: [[String?]: String?] = [:]
        guard !ids.isEmpty else { return result }
        try withAdmin { admin in
            let cursor = try admin.collection(database, Self.shadowName(plan.name)).find(
                ["_id": .document(["$in": .array(ids)])], options: [:], context: "reading back \(plan.name) for the leak check")
            while let document = try cursor.next() {
                if let row = DocumentJSON.keyed(document) { result[row.key] = row.value }
            }
        }
        return result
    }

    func occurrences(_ plan: TablePlan, column: String, of values: [String]) throws -> Set<String> {
        guard !values.isEmpty, let path = try? FieldPath(column) else { return [] }
        let dotted = column.replacingOccurrences(of: "[]", with: "")
        let wanted = Set(values)
        var found = Set<String>()
        try withAdmin { admin in
            let cursor = try admin.collection(database, Self.shadowName(plan.name)).find(
                [dotted: .document(["$in": .array(values.map(BSONValue.string))])], options: [:],
                context: "searching \(plan.name).\(column) for original values")
            while let document = try cursor.next() {
                for value in try PathValues.values(at: path, in: document) {
                    if let text = value.text, wanted.contains(text) { found.insert(text) }
                }
            }
        }
        return found
    }

    // MARK: Swap

    /// Renames each shadow collection over its staging collection, then drops the staging
    /// collections the source no longer has. Before the first rename a journal document
    /// (`<database>:swap` in `snapmask_locks`) records what the swap is to do, and it is removed
    /// after the last step: if this run dies (or fails) half-way, the next run finds it and finishes
    /// the swap with the shadows that are left (they passed every check), so staging is whole again.
    /// Each step is retried a few times (after a lost answer, the server is asked whether it
    /// happened) before the swap gives up.
    func swap() throws {
        guard let keeper = lockKeeper else { throw DocumentDBError("the swap needs the lock, which this run does not hold") }
        try withAdmin { admin in
            try DocumentDBLock.confirm(on: admin, database: database, run: keeper.run)
            let keep = Set(collections)
            let extras = try admin.listCollections(database).compactMap { entry -> String? in
                guard let name = entry["name"]?.string, DocumentDBCatalog.isCopied(name), !keep.contains(name),
                      entry["type"]?.string ?? "collection" == "collection", entry["options"]?.document?["viewOn"] == nil
                else { return nil }
                return name
            }
            try Self.writeJournal(admin, database: database, run: keeper.run, collections: collections, drop: extras)
            swapStarted = true
            for name in collections {
                try Self.retrying("swapping \(name) in", admin, database: database) {
                    let present = try Self.names(admin, database: database)
                    // After an answer that was lost, the rename may have happened already.
                    if !present.contains(Self.shadowName(name)) && present.contains(name) { return }
                    try Self.rename(admin, database: database, from: Self.shadowName(name), to: name)
                }
                swapped.append(name)
            }
            for name in extras {
                try Self.retrying("dropping \(name), which the source no longer has", admin, database: database) {
                    guard try Self.names(admin, database: database).contains(name) else { return }
                    try admin.run(["drop": .string(name)], on: database)
                }
            }
            _ = try? Self.deleteJournal(admin, database: database)
        }
    }

    static let journalSuffix = ":swap"

    static func writeJournal(_ client: DocumentDBClient, database: String, run: String, collections: [String],
                             drop: [String]) throws {
        let id = database + journalSuffix
        let journal: BSONDoc = [
            "_id": .string(id), "run": .string(run), "collections": .array(collections.map(BSONValue.string)),
            "drop": .array(drop.map(BSONValue.string)), "started": .date(DocumentDBLock.millis(Date())),
        ]
        let reply = try client.run([
            "update": .string(lockCollection),
            "updates": .array([.document(["q": .document(["_id": .string(id)]), "u": .document(journal), "upsert": .bool(true)])]),
        ], on: database, context: "recording the swap of \(database) in \(lockCollection)")
        if let error = reply["writeErrors"]?.array?.first?.document {
            throw DocumentDBError("the swap's journal could not be written (code \(error["code"]?.int ?? 0)); nothing was swapped",
                                  context: "recording the swap of \(database)")
        }
    }

    static func deleteJournal(_ client: DocumentDBClient, database: String) throws {
        try client.run(["delete": .string(lockCollection),
                        "deletes": .array([.document(["q": .document(["_id": .string(database + journalSuffix)]),
                                                      "limit": .int32(1)])])], on: database)
    }

    /// The names of the collections of the database.
    static func names(_ client: DocumentDBClient, database: String) throws -> Set<String> {
        Set(try client.listCollections(database).compactMap { $0["name"]?.string })
    }

    /// Runs `step` up to three times, a second apart; the last failure is thrown.
    static func retrying(_ what: String, _ client: DocumentDBClient, database: String, _ step: () throws -> Void) throws {
        var attempt = 1
        while true {
            do {
                try step()
                return
            } catch let error as DocumentDBError {
                guard attempt < 3 else { throw error.adding(context: what) }
                attempt += 1
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// What a run that died left behind, found once this run holds the lock: a swap it had begun
    /// is finished (each shadow left renamed into place, then what the source no longer had
    /// dropped), and its other shadow collections are removed.
    private func recover(_ admin: DocumentDBClient, tookOver: String?) throws {
        var notes: [String] = tookOver.map { ["took over the lock of \($0)"] } ?? []
        let journal = try admin.allDocuments(try admin.collection(database, Self.lockCollection).find(
            ["_id": .string(database + Self.journalSuffix)], options: [:], context: "reading the swap journal of \(database)")).first
        if let journal {
            let planned = journal["collections"]?.array?.compactMap(\.string) ?? []
            let present = try Self.names(admin, database: database)
            var finished: [String] = []
            for name in planned where present.contains(Self.shadowName(name)) {
                try Self.retrying("finishing an earlier run's swap of \(name)", admin, database: database) {
                    try Self.rename(admin, database: database, from: Self.shadowName(name), to: name)
                }
                finished.append(name)
            }
            for name in journal["drop"]?.array?.compactMap(\.string) ?? [] where present.contains(name) {
                try admin.run(["drop": .string(name)], on: database, context: "finishing an earlier run's swap: dropping \(name)")
            }
            try Self.deleteJournal(admin, database: database)
            notes.append("finished the swap that an earlier run (run \(journal["run"]?.string ?? "?")) had left half-done"
                             + (finished.isEmpty ? "" : " by swapping in \(finished.joined(separator: ", "))"))
        }
        let shadows = try Self.names(admin, database: database).filter { $0.hasPrefix(Self.shadowPrefix) }.sorted()
        for name in shadows {
            try admin.run(["drop": .string(name)], on: database, context: "dropping the shadow collection \(name)")
        }
        if !shadows.isEmpty { notes.append("removed the shadow collections an earlier run left (\(shadows.joined(separator: ", ")))") }
        recovered = notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    /// `renameCollection` runs on the admin database on MongoDB and DocumentDB; the test server
    /// only accepts it on the collection's own database, so that is tried when admin refuses.
    static func rename(_ client: DocumentDBClient, database: String, from: String, to: String) throws {
        let command: BSONDoc = ["renameCollection": .string("\(database).\(from)"), "to": .string("\(database).\(to)"),
                                "dropTarget": .bool(true)]
        do {
            try client.run(command, on: "admin")
        } catch let error as DocumentDBError where error.message.contains("current database") {
            try client.run(command, on: database)
        }
    }

    /// A client to look at the server after a failure: the admin client when it still answers,
    /// else a new one (libmongoc reconnects, but a new client starts from a clean state).
    private func inspectionClient() -> (DocumentDBClient?, String?) {
        if (try? admin.run(["ping": .int32(1)], on: "admin")) != nil { return (admin, nil) }
        do {
            let client = try DocumentDBClient(url: url, applicationName: DocumentDBLock.holderName(database), primaryOnly: true)
            try client.run(["ping": .int32(1)], on: "admin")
            return (client, nil)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Removes the shadow collections. After a swap that replaced some collections but not all,
    /// the shadows of the others are kept with the swap's journal: the next run finishes that
    /// swap before anything else, and staging is whole again.
    func discardShadow() {
        mutex.lock()
        defer { mutex.unlock() }
        let (found, _) = inspectionClient()
        guard let client = found, let present = try? Self.names(client, database: database) else { return }
        let shadows = present.filter { $0.hasPrefix(Self.shadowPrefix) }
        shadowsSeen = shadows
        if swapStarted && collections.contains(where: { !shadows.contains(Self.shadowName($0)) }) { return }
        for name in shadows.sorted() {
            _ = try? client.run(["drop": .string(name)], on: database)
        }
        if swapStarted { _ = try? Self.deleteJournal(client, database: database) }
    }

    /// Staging collection by collection: a collection whose shadow is gone (renamed into place)
    /// holds the new copy; one whose shadow is left still holds its previous data.
    func inspectStaging(swapStarted: Bool) -> StagingState {
        mutex.lock()
        defer { mutex.unlock() }
        let (found, unreachable) = inspectionClient()
        let present = found.flatMap { try? Self.names($0, database: database) }
        let shadow: StagingState.Shadow
        if let present {
            shadow = present.contains { $0.hasPrefix(Self.shadowPrefix) } ? .left : (shadowCreated ? .removed : .none)
        } else {
            shadow = shadowCreated ? .unknown : .none
        }
        guard swapStarted, self.swapStarted else {
            return StagingState(data: .previous, shadow: shadow, detail: recovered.map { "before its own work, this run \($0)" })
        }
        let shadows = shadowsSeen ?? present?.filter { $0.hasPrefix(Self.shadowPrefix) }
        guard let shadows else {
            return StagingState(data: .unknown, shadow: shadow,
                                detail: "the swap had replaced \(swapped.count) of \(collections.count) collections when this "
                                    + "run last saw it; the server cannot be reached now: \(unreachable ?? "no answer")")
        }
        // New: renamed by this run, or (an answer lost on the way) its shadow gone and the
        // collection there. Anything else still holds its previous data.
        let names = present ?? Set(swapped)
        let replaced = collections.filter {
            swapped.contains($0) || (!shadows.contains(Self.shadowName($0)) && names.contains($0))
        }
        let left = collections.filter { !replaced.contains($0) }
        if left.isEmpty {
            return StagingState(data: .new, shadow: shadow, detail: swapped.count == collections.count ? nil
                                    : "every collection was swapped in; collections the source no longer has may still be "
                                    + "there, and the next run drops them")
        }
        if replaced.isEmpty { return StagingState(data: .previous, shadow: shadow) }
        let kept = left.filter { shadows.contains(Self.shadowName($0)) }
        return StagingState(data: .partlyReplaced, shadow: shadow,
                            detail: "the new copy is in \(replaced.joined(separator: ", ")); the previous data is still in "
                                + "\(left.joined(separator: ", "))"
                                + (kept.isEmpty ? "" : ", whose shadows are kept (\(kept.map(Self.shadowName).joined(separator: ", ")))")
                                + "; the next run finishes this swap before anything else")
    }

    /// Asks the server to stop this run's operations on the shadow collections (bulk inserts,
    /// index builds) with killOp, from a thread and a client of their own, and makes the writers
    /// refuse further batches: returns at once. Servers that do not list running operations
    /// (the test server) stop at the end of the current bulk insert.
    func interrupt() {
        stopping.set()
        let url = self.url, database = self.database, tag = self.tag
        let thread = Thread {
            guard let client = try? DocumentDBClient(url: url, applicationName: "snapmask interrupt \(database)", primaryOnly: true),
                  let reply = try? client.run(["currentOp": .int32(1)], on: "admin") else { return }
            for case let .document(operation)? in reply["inprog"]?.array ?? [] {
                guard let opid = operation["opid"] else { continue }
                let namespace = operation["ns"]?.string ?? ""
                let target = operation["command"]?.document?.fields.first?.value.string ?? ""
                let ours = (operation["appName"]?.string ?? "").contains(tag)
                    || namespace.hasPrefix("\(database).\(Self.shadowPrefix)")
                    || (namespace.hasPrefix("\(database).") && target.hasPrefix(Self.shadowPrefix))
                if ours { _ = try? client.run(["killOp": .int32(1), "op": opid], on: "admin") }
            }
        }
        thread.name = "interrupt-\(database)"
        thread.start()
    }

    func close() {
        unlock()
    }
}

/// Set once a signal asked the run to stop; writers look before each bulk insert.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// Bulk-inserts batches into one shadow collection: unordered, so the server may apply the
/// documents of a batch in any order and in parallel.
final class DocumentDBWriter: BatchWriter {
    private let client: DocumentDBClient
    /// The shadow collection's `mongoc_collection_t *`.
    private let collection: OpaquePointer
    private let name: String
    private let bypassValidation: Bool
    private let stopping: StopFlag
    private var written = 0
    /// A `bson_t` for `bson_init_static` over each document (128-byte aligned, never moved).
    private let staticDocument = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
    private let options: BSONDocument

    init(client: DocumentDBClient, database: String, collection name: String, shadow: String, bypassValidation: Bool,
         stopping: StopFlag = StopFlag()) {
        self.client = client
        self.stopping = stopping
        self.name = name
        self.bypassValidation = bypassValidation
        collection = mongoc_client_get_collection(client.handle, database, shadow)
        options = try! BSONDocument(bytes: (["ordered": .bool(false)] as BSONDoc).bytes)
        staticDocument.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
    }

    deinit {
        mongoc_collection_destroy(collection)
        staticDocument.deallocate()
    }

    func write(_ batch: RowBatch) throws {
        guard batch.rowCount > 0 else { return }
        if stopping.isSet { throw RunInterrupted(signal: RunInterruption.shared.signal ?? SIGTERM) }
        guard let bulk = mongoc_collection_create_bulk_operation_with_opts(collection, options.handle) else {
            throw DocumentDBError("cannot start a bulk insert into \(name)")
        }
        defer { mongoc_bulk_operation_destroy(bulk) }
        mongoc_bulk_operation_set_bypass_document_validation(bulk, bypassValidation)
        // Documents go as they are: no client-side validation (keys with '.' or '$' are legal
        // since MongoDB 5.0, and a byte-exact copy must not be refused by the client).
        let insertOptions = try BSONDocument(bytes: (["validate": .bool(false)] as BSONDoc).bytes)
        var error = bson_error_t()
        try batch.data.withUnsafeBytes { raw in
            var position = 0
            let reader = BSONReader(raw)
            while position < raw.count {
                let end = try reader.documentEnd(at: position, limit: raw.count)
                let pointer = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + position
                guard bson_init_static(OpaquePointer(staticDocument), pointer, end - position),
                      mongoc_bulk_operation_insert_with_opts(bulk, OpaquePointer(staticDocument), insertOptions.handle, &error)
                else {
                    throw DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                                          context: "adding a document of \(name) to a bulk insert")
                }
                position = end
            }
        }
        let reply = BSONOutput()
        let ok = mongoc_bulk_operation_execute(bulk, reply.pointer, &error) != 0
        reply.markInitialized()
        let summary = (try? BSONDoc(bytes: BSONDocument.bytes(of: reply.pointer))) ?? [:]
        if !ok {
            throw Self.failure(summary, error: &error, collection: name, batch: batch)
        }
        written += summary["nInserted"]?.int ?? batch.rowCount
    }

    /// A bulk failure described without the values the server quotes (a duplicate key message
    /// repeats the key): the code, the index and how many documents were refused.
    static func failure(_ reply: BSONDoc, error: inout bson_error_t, collection: String, batch: RowBatch) -> DocumentDBError {
        let writeErrors = reply["writeErrors"]?.array ?? []
        if let first = writeErrors.first?.document {
            let code = first["code"]?.int ?? 0
            var what = "code \(code)"
            if let message = first["errmsg"]?.string, let range = message.range(of: "index: ") {
                let index = message[range.upperBound...].prefix { $0 != " " }
                what += ", index \(index)"
            }
            if code == 11000 { what += " (duplicate key: masked values collide, or the shadow already held the document)" }
            if code == 121 { what += " (document failed validation)" }
            return DocumentDBError("\(writeErrors.count) of \(batch.rowCount) documents were refused (\(what))",
                                   code: UInt32(code), context: "loading documents \(batch.firstRow + 1)–"
                                       + "\(batch.firstRow + batch.rowCount) of \(collection) into the shadow copy")
        }
        return DocumentDBError(BSONDocument.message(of: &error), domain: error.domain, code: error.code,
                               context: "loading documents of \(collection) into the shadow copy")
    }

    func finish() throws -> Int { written }
}

/// Tells servers apart, to refuse a target that is the source under another address.
enum DocumentDBIdentity {
    /// The server process (MongoDB 4.4+: `topologyVersion.processId` of hello; otherwise
    /// serverStatus' host and pid), or nil when the server says neither.
    static func of(_ client: DocumentDBClient) throws -> String? {
        let hello = (try? client.run(["hello": .int32(1)], on: "admin")) ?? (try? client.run(["isMaster": .int32(1)], on: "admin"))
        if let process = hello?["topologyVersion"]?.document?["processId"] {
            return BSONDoc([("p", process)]).json
        }
        guard let status = try? client.run(["serverStatus": .int32(1)], on: "admin"),
              let host = status["host"]?.string, let pid = status["pid"]?.int else { return nil }
        return "\(host)/\(pid)"
    }
}
