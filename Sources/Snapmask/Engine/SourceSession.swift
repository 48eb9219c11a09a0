/// The source, inside one snapshot: every reader sees the same point in time. Copy threads call
/// `makeReader` concurrently, so implementations synchronize their shared state.
public protocol SourceSession: AnyObject, Sendable {
    var schema: SchemaShape { get }
    /// A reader for one table (or one slice of it, `plan.slice`), on a connection of its own
    /// inside the same snapshot.
    func makeReader(for plan: TablePlan) throws -> any BatchReader
    /// Up to `count` slices that together hold every row of the table, for reading it from
    /// several sessions at once; empty when the table is not worth splitting or the source
    /// cannot read a slice without scanning the whole table.
    func slices(of plan: TablePlan, into count: Int) throws -> [TableSlice]
    /// Up to `limit` rows with a non-empty value in `column`: the key columns' text and the value.
    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow]
    /// Up to `limit` non-empty values of each of `columns` (or document paths), from rows picked
    /// at random, as text: what the coverage report classifies.
    func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]]
    /// The schema as the target recreates it (snapshots store it in their manifest).
    func schemaDefinition() throws -> SchemaDefinition
    /// True when the rows are masked already (a sanitized snapshot): nothing is masked again.
    var isMasked: Bool { get }
    /// What the run's log should say about how the snapshot was taken (for example that tables
    /// are read one after another because parallel readers could not share it).
    var notices: [String] { get }
    func close()
}

extension SourceSession {
    public var notices: [String] { [] }
    public func slices(of plan: TablePlan, into count: Int) throws -> [TableSlice] { [] }
    public func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        var values: [String: [String]] = [:]
        for column in columns {
            values[column] = try sampleRows(plan, keyColumns: [], column: column, limit: limit).map(\.value)
        }
        return values
    }
    public var isMasked: Bool { false }
    public func schemaDefinition() throws -> SchemaDefinition {
        throw EngineUnsupported(engine: "\(Self.self)", feature: "schema definitions (snapshots)")
    }
}

public struct SampledRow: Sendable {
    public var key: [String?]
    public var value: String

    public init(key: [String?], value: String) {
        self.key = key
        self.value = value
    }
}

/// Reads one table on a connection of its own; created on one thread and then used by exactly
/// one other (the table's read thread).
public protocol BatchReader: AnyObject {
    /// The next batch of whole rows, or nil at the end of the table.
    func next() throws -> RowBatch?
    /// Called once when the table is done or abandoned (return pooled connections here).
    func close()
}

extension BatchReader {
    public func close() {}
}
