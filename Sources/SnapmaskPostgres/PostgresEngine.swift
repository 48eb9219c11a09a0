import Snapmask

/// PostgreSQL through libpq: the driver the CLI picks for `engine: postgres`.
public struct PostgresEngine: DatabaseEngine {
    public let job: DatabaseJob

    public init(job: DatabaseJob) {
        self.job = job
    }

    public func inspectSource() throws -> SchemaShape {
        let connection = try PostgresConnection(url: job.source, applicationName: "snapmask check", readOnly: true)
        return try connection.readOnlyTransaction { connection in
            // Describing an expression index waits for its table's lock: a migration holding one
            // makes this fail after a while rather than wait without end.
            try connection.execute("SET LOCAL lock_timeout = \(Int(PostgresSource.defaultLockTimeout * 1000))", [])
            return try PostgresCatalog.schema(connection)
        }
    }

    public func openSource(readers: Int) throws -> any SourceSession {
        try refuseSourceAsTarget()
        return try PostgresSource(url: job.source, readers: readers)
    }

    public func openTarget() throws -> any TargetSession {
        try refuseSourceAsTarget()
        let target = try PostgresTarget(url: job.target)
        // A temporary cluster not made yet (a run locks its targets first) is a new server: it
        // cannot be staging, and there is nothing to connect to.
        if job.sourcePending { return target }
        let source = try PostgresConnection(url: job.source, applicationName: "snapmask check", readOnly: true)
        let sourceIdentity = try PostgresIdentity.of(source, database: nil)
        let targetIdentity = try target.serverIdentity()
        if sourceIdentity.isSameDatabase(as: targetIdentity) {
            throw TargetIsSource(target: job.target.description, identity: targetIdentity)
        }
        return target
    }

    /// A URL that turns verification off away from loopback.
    public func connectionWarnings() -> [String] {
        [("source", job.source), ("target", job.target)].compactMap { role, url in
            guard !PostgresTLS.isLoopback(url), let mode = url.queryValue("sslmode"),
                  ["disable", "allow", "prefer", "require"].contains(mode) else { return nil }
            return "the \(role) URL \(url) sets sslmode=\(mode): the server's certificate is not verified "
                + "(use verify-full with sslrootcert, the default)"
        }
    }

    public var arrayCodec: (any ArrayLiteralCodec)? { PostgresArrayCodec() }

    public func makeMasker(for plan: TablePlan) -> any BatchMasker {
        DelimitedRowMasker(plan: plan, dialect: .postgres, arrays: arrayCodec)
    }

    /// Rows as the copy reads them (COPY text form), so the preview shows exactly what masking sees.
    public func previewRows(_ plan: TablePlan, limit: Int) throws -> [[String?]] {
        try previewBatches(plan, limit: limit).flatMap { DelimitedText.rows(of: $0.data, dialect: .postgres) }
    }

    /// Masked by the same masker as `restore` (array elements included).
    public func preview(_ plan: TablePlan, limit: Int) throws -> [PreviewRow] {
        let masker = makeMasker(for: plan)
        var rows: [PreviewRow] = []
        for batch in try previewBatches(plan, limit: limit) {
            let masked = DelimitedText.rows(of: try masker.mask(batch).data, dialect: .postgres)
            rows += zip(DelimitedText.rows(of: batch.data, dialect: .postgres), masked).map { PreviewRow(original: $0, masked: $1) }
        }
        return rows
    }

    public func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String],
                            columns: [String]) throws -> [String: [SampledRow]] {
        DelimitedText.keyedValues(of: batch.data, dialect: .postgres, plan: plan, keyColumns: keyColumns, columns: columns)
    }

    /// A partitioned table holds no rows itself: its preview reads the partitions the restore
    /// copies (the row-holding leaves), never a foreign partition, which would reach another server.
    private func previewBatches(_ plan: TablePlan, limit: Int) throws -> [RowBatch] {
        let connection = try PostgresConnection(url: job.source, applicationName: "snapmask preview", readOnly: true)
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { _ = try? connection.execute("ROLLBACK") }
        var partitions: [String]?
        if !plan.table.holdsRows {
            partitions = try connection.execute("""
                SELECT n.nspname, c.relname FROM pg_partition_tree($1::regclass) t
                  JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE t.isleaf AND c.relkind = 'r' ORDER BY n.nspname, c.relname
                """, [PostgresIdentifier.qualified(plan.name)]).rows.map {
                PostgresIdentifier.quoted($0[0]!) + "." + PostgresIdentifier.quoted($0[1]!)
            }
        }
        let reader = try PostgresCopyReader(connection: connection, plan: plan, limit: limit, partitions: partitions)
        var batches: [RowBatch] = []
        while let batch = try reader.next() { batches.append(batch) }
        return batches
    }

    /// A target URL equal to the source's is refused before connecting; `openTarget` also
    /// compares what the two servers say about themselves, so another name for the same server
    /// is caught too.
    private func refuseSourceAsTarget() throws {
        if DatabaseIdentity(job.source) == DatabaseIdentity(job.target) {
            throw PostgresError("the target \(job.target) is the source database; snapmask never writes into a source")
        }
    }
}
