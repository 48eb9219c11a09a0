import Snapmask

/// MySQL and MariaDB through libmysqlclient: the driver the CLI picks for `engine: mysql`.
/// Rules name tables unqualified (`users`); the database is the URL's path.
public struct MySQLEngine: DatabaseEngine {
    public let job: DatabaseJob

    public init(job: DatabaseJob) {
        self.job = job
    }

    public func inspectSource() throws -> SchemaShape {
        let database = try job.source.mysqlDatabase("source")
        let connection = try MySQLSource.connect(job.source, purpose: "snapmask check")
        try connection.query("START TRANSACTION READ ONLY")
        defer { _ = try? connection.query("ROLLBACK") }
        return try MySQLCatalog.schema(connection, database: database)
    }

    public func openSource(readers: Int) throws -> any SourceSession {
        try refuseSourceAsTarget()
        return try MySQLSource(url: job.source, readers: readers)
    }

    public func openTarget() throws -> any TargetSession {
        try refuseSourceAsTarget()
        let target = try MySQLTarget(url: job.target)
        try refuseSameServer(target)
        return target
    }

    /// A URL that turns certificate verification off away from loopback, or TLS settings that
    /// are not valid (every connection would then be refused).
    public func connectionWarnings() -> [String] {
        [("source", job.source), ("target", job.target)].compactMap { MySQLTLS.warning(role: $0, url: $1) }
    }

    public func makeMasker(for plan: TablePlan) -> any BatchMasker {
        DelimitedRowMasker(plan: plan, dialect: .mysql)
    }

    /// Values as the reader sent them: masked columns as text, binary keys as hex (as
    /// `sampleRows` selects them).
    public func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String],
                            columns: [String]) throws -> [String: [SampledRow]] {
        DelimitedText.keyedValues(of: batch.data, dialect: .mysql, plan: plan, keyColumns: keyColumns, columns: columns)
    }

    public func previewRows(_ plan: TablePlan, limit: Int) throws -> [[String?]] {
        let database = try job.source.mysqlDatabase("source")
        let connection = try MySQLSource.connect(job.source, purpose: "snapmask preview")
        let columns = plan.columns.enumerated().map { index, column -> String in
            let quoted = MySQLIdentifier.quoted(column.name)
            switch MySQLValueTransport.of(column, masked: plan.masks[index] != nil) {
            case .hex: return "CONCAT('0x', HEX(\(quoted)))"
            case .float, .plain: return quoted
            }
        }
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(MySQLIdentifier.qualified(database, plan.name))"
        if let condition = try MySQLSource.whereSQL(of: plan) { sql += " WHERE \(condition)" }
        // An explicit READ ONLY transaction as well as the session's: the where: condition runs here.
        try connection.query("START TRANSACTION READ ONLY")
        defer { _ = try? connection.query("ROLLBACK") }
        return try connection.query(sql + " LIMIT \(limit)")
    }

    /// A target URL equal to the source's is refused before connecting.
    private func refuseSourceAsTarget() throws {
        if DatabaseIdentity(job.source) == DatabaseIdentity(job.target) {
            throw MySQLError("the target \(job.target) is the source database; snapmask never writes into a source")
        }
    }

    /// Another name for the same server and database (an alias, another address) is caught by
    /// asking both servers who they are.
    private func refuseSameServer(_ target: MySQLTarget) throws {
        // A temporary cluster not made yet (a run locks its targets first) cannot be staging.
        guard let database = job.source.database, !job.sourcePending else { return }
        let source = try MySQLSource.connect(job.source, purpose: "snapmask check")
        if try target.serverIdentity() == MySQLServerIdentity.of(source, database: database) {
            throw MySQLError("the target \(job.target) is the source database under another name; "
                                 + "snapmask never writes into a source")
        }
    }
}
