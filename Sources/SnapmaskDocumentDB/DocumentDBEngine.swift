import Foundation
import Snapmask

/// DocumentDB and MongoDB through libmongoc/libbson: the driver the CLI picks for
/// `engine: documentdb`. Uses only commands both AWS DocumentDB 5.0 and MongoDB 5.0 support:
/// find/getMore with sort and hint, aggregate ($sample, $count), count, listCollections,
/// listIndexes, create (with options), createIndexes, insert (unordered bulk), update, delete,
/// drop, renameCollection (same database, dropTarget), hello.
public struct DocumentDBEngine: DatabaseEngine {
    public let job: DatabaseJob
    public let sampling: SchemaSampling
    var tuning: DocumentDBTuning

    public init(job: DatabaseJob, sampling: SchemaSampling = SchemaSampling()) {
        self.job = job
        self.sampling = sampling
        tuning = DocumentDBTuning()
    }

    init(job: DatabaseJob, sampling: SchemaSampling = SchemaSampling(), tuning: DocumentDBTuning) {
        self.job = job
        self.sampling = sampling
        self.tuning = tuning
    }

    public func inspectSource() throws -> SchemaShape {
        try DocumentDBSource(url: job.source, rules: job.rules, sampling: sampling, tuning: tuning).schema
    }

    public func openSource(readers: Int) throws -> any SourceSession {
        try refuseSourceAsTarget()
        return try DocumentDBSource(url: job.source, rules: job.rules, sampling: sampling, tuning: tuning)
    }

    public func openTarget() throws -> any TargetSession {
        try refuseSourceAsTarget()
        let target = try DocumentDBTarget(url: job.target, tuning: tuning)
        // A temporary cluster not made yet (a run locks its targets first) cannot be staging.
        if job.sourcePending { return target }
        let source = try DocumentDBClient(url: job.source, applicationName: "snapmask check")
        if job.source.database == job.target.database, let identity = try DocumentDBIdentity.of(source),
           try target.serverIdentity() == identity {
            throw DocumentDBError("the target \(job.target) is the source database under another name; "
                                      + "snapmask never writes into a source")
        }
        return target
    }

    /// DocumentDB clusters require TLS by default; a URL off loopback without it either fails to
    /// connect or sends data in the clear.
    public func connectionWarnings() -> [String] {
        [("source", job.source), ("target", job.target)].compactMap { role, url in
            let tls = url.query.first { ["tls", "ssl"].contains($0.key.lowercased()) }?.value.lowercased() == "true"
            let loopback = url.hosts.split(separator: ",").allSatisfy {
                let host = ConnectionString.hostAndPort(String($0)).host.lowercased()
                return host == "localhost" || host == "::1" || host.hasPrefix("127.")
            }
            guard !tls && !loopback else { return nil }
            return "the \(role) URL \(url) reaches \(url.primaryHost.host) without TLS: add tls=true&tlsCAFile=FILE "
                + "(for DocumentDB: the RDS global bundle, in the image at /etc/ssl/certs/rds-global-bundle.pem)"
        }
    }

    /// Collections and their paths from a sample of documents, with the values seen at each.
    public func scanSample(limit: Int) throws -> (schema: SchemaShape, values: [String: [String: [String]]]) {
        guard let database = job.source.database else {
            throw DocumentDBError("the source URL \(job.source) names no database; end it with /DATABASE")
        }
        let client = try DocumentDBClient(url: job.source, applicationName: "snapmask scan")
        var tables: [TableShape] = []
        var values: [String: [String: [String]]] = [:]
        for info in try DocumentDBCatalog.collections(client, database: database) {
            var discovery = BSONPathDiscovery(valuesPerPath: limit)
            try DocumentDBCatalog.sample(client, database: database, collection: info.name, filter: [:], sampling: sampling) {
                try discovery.add(document: $0)
            }
            let found = discovery.columnsWithValues
            tables.append(TableShape(name: info.name, columns: found.map(\.0), primaryKey: ["_id"], uniqueKeys: [["_id"]],
                                     estimatedRows: info.estimatedCount))
            values[info.name] = Dictionary(found.map { ($0.0.name, $0.1) }, uniquingKeysWith: { first, _ in first })
        }
        return (SchemaShape(tables: tables), values)
    }

    public func makeMasker(for plan: TablePlan) -> any BatchMasker {
        DocumentMasker(plan: plan, unlisted: job.rules.unlisted)
    }

    /// The first documents (in `_id` order, after the rule's filter) as text per discovered path;
    /// a path with several values in a document (inside arrays) shows the first, an empty array
    /// or document shows `[]` or `{}`.
    public func previewRows(_ plan: TablePlan, limit: Int) throws -> [[String?]] {
        try previewBatch(plan, limit: limit).map { Self.rows(of: $0.data, plan: plan) } ?? []
    }

    /// Masked by the same masker as `restore`: subtree rules, arrays and type rules included.
    public func preview(_ plan: TablePlan, limit: Int) throws -> [PreviewRow] {
        guard let batch = try previewBatch(plan, limit: limit) else { return [] }
        let masked = try makeMasker(for: plan).mask(batch)
        return zip(Self.rows(of: batch.data, plan: plan), Self.rows(of: masked.data, plan: plan))
            .map { PreviewRow(original: $0, masked: $1) }
    }

    /// Every value at the paths (array elements included) in a batch of documents; keyed, as
    /// `sampleRows` keys them, by the document's `_id` and the value's position.
    public func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String],
                            columns: [String]) throws -> [String: [SampledRow]] {
        let paths = columns.compactMap { column in (try? FieldPath(column)).map { (column, $0) } }
        var result: [String: [SampledRow]] = [:]
        try Self.forEachDocument(in: batch.data) { document in
            for (column, path) in paths {
                for found in try PathValues.values(at: path, in: document) {
                    guard let text = found.text else { continue }
                    result[column, default: []].append(SampledRow(key: keyColumns.isEmpty ? [] : [found.id, found.position],
                                                                  value: text))
                }
            }
        }
        return result
    }

    private func previewBatch(_ plan: TablePlan, limit: Int) throws -> RowBatch? {
        guard let database = job.source.database else {
            throw DocumentDBError("the source URL \(job.source) names no database; end it with /DATABASE")
        }
        let client = try DocumentDBClient(url: job.source, applicationName: "snapmask preview")
        let cursor = try client.collection(database, plan.name).find(
            try DocumentDBSource.filter(of: plan), options: ["sort": .document(["_id": .int32(1)]),
                                                             "limit": .int32(Int32(clamping: limit))],
            context: "reading \(plan.name) for the preview")
        var data: [UInt8] = []
        var count = 0
        while let document = try cursor.next() {
            data.append(contentsOf: document)
            count += 1
        }
        return count == 0 ? nil : RowBatch(data: data, rowCount: count, firstRow: 0)
    }

    private static func forEachDocument(in data: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try data.withUnsafeBytes { raw in
            let reader = BSONReader(raw)
            var position = 0
            while position < raw.count {
                let end = try reader.documentEnd(at: position, limit: raw.count)
                try body(UnsafeRawBufferPointer(rebasing: raw[position..<end]))
                position = end
            }
        }
    }

    private static func rows(of data: [UInt8], plan: TablePlan) -> [[String?]] {
        let paths = plan.columns.map { try? FieldPath($0.name) }
        var rows: [[String?]] = []
        try? forEachDocument(in: data) { document in
            rows.append(paths.map { path in
                guard let path else { return nil }
                return (try? PathValues.values(at: path, in: document, containers: true))?.first?.text
            })
        }
        return rows
    }

    /// A target URL equal to the source's is refused before connecting; `openTarget` also asks
    /// both servers who they are, so another address of the same server is caught too.
    private func refuseSourceAsTarget() throws {
        if DatabaseIdentity(job.source) == DatabaseIdentity(job.target) {
            throw DocumentDBError("the target \(job.target) is the source database; snapmask never writes into a source")
        }
    }
}
