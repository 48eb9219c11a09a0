import Foundation
import Snapmask

/// The source database inside one exported snapshot. The coordinator connection opens a
/// REPEATABLE READ, READ ONLY transaction and exports its snapshot; every reader joins that
/// snapshot on a connection of its own, so all tables come from the same moment however many
/// are copied at once. Every connection is read-only at the session level too, and every
/// statement built from rules (`where:`) goes through the extended protocol, which runs exactly one.
final class PostgresSource: SourceSession, @unchecked Sendable {
    // The coordinator is used under `lock`: copy threads call makeReader and the verifier
    // calls sampleRows while others may still read.
    private let lock = NSLock()
    private let coordinator: PostgresConnection
    let url: ConnectionString
    let snapshot: String
    let schema: SchemaShape
    let serverVersion: Int
    private var closed = false

    init(url: ConnectionString) throws {
        self.url = url
        coordinator = try PostgresConnection(url: url, applicationName: "snapmask snapshot", readOnly: true)
        do {
            try coordinator.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = try coordinator.scalar("SELECT pg_export_snapshot()") ?? ""
            schema = try PostgresCatalog.schema(coordinator)
            serverVersion = coordinator.serverVersion
        } catch let error as PostgresError {
            throw error.adding(context: "opening a snapshot of \(url)")
        }
    }

    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let connection = try PostgresConnection(url: url, applicationName: "snapmask read \(plan.name)", readOnly: true)
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.execute("SET TRANSACTION SNAPSHOT \(PostgresIdentifier.literal(snapshot))")
        return try PostgresCopyReader(connection: connection, plan: plan)
    }

    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] {
        let value = PostgresIdentifier.quoted(column)
        let keys = keyColumns.map { "\(PostgresIdentifier.quoted($0))::text" }
        var condition = "\(value) IS NOT NULL AND \(value)::text <> ''"
        if let filter = plan.whereClause { condition += " AND (\n\(filter)\n)" }
        let sql = "SELECT \((keys + ["\(value)::text"]).joined(separator: ", ")) FROM ONLY \(PostgresIdentifier.qualified(plan.name)) "
            + "WHERE \(condition) LIMIT \(limit)"
        let rows = try withCoordinator { try $0.execute(sql, []).rows }
        return rows.map { SampledRow(key: Array($0.dropLast()), value: $0.last!! ) }
    }

    private var definition: SchemaDefinition?

    /// Both pg_dump sections and every sequence's value, read inside the snapshot (once).
    func schemaDefinition() throws -> SchemaDefinition {
        lock.lock()
        if let definition {
            lock.unlock()
            return definition
        }
        lock.unlock()
        let dump = PostgresSchemaDump(source: url)
        var made = SchemaDefinition(engine: "postgres")
        for section in [PostgresSchemaDump.Section.preData, .postData] {
            made.sections[section.rawValue] = try dump.sql(section, snapshot: snapshot, serverVersion: serverVersion)
        }
        for (name, value) in try sequenceValues() { made.values["sequence:" + name] = value }
        lock.lock()
        definition = made
        lock.unlock()
        return made
    }

    /// Every sequence's current value, to continue where the source is.
    func sequenceValues() throws -> [(name: String, value: String)] {
        try withCoordinator { connection in
            try connection.execute("""
                SELECT format('%I.%I', schemaname, sequencename), last_value::text FROM pg_sequences
                 WHERE last_value IS NOT NULL
                """, []).rows.map { ($0[0]!, $0[1]!) }
        }
    }

    private func withCoordinator<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(coordinator)
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        _ = try? coordinator.execute("COMMIT")
    }
}
