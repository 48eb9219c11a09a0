/// What the core needs from a database driver. The CLI picks the driver by `engine:`; the core
/// never imports one. Sessions hold C handles and are used from one thread at a time.
public protocol DatabaseEngine: Sendable {
    /// The source's tables and columns, for `check` (connects read-only).
    func inspectSource() throws -> SchemaShape
    /// Opens the source read-only inside one consistent snapshot, kept until `close()`.
    /// `readers` is how many tables will be read at once (engines that cannot share a snapshot
    /// between connections open that many snapshot connections up front).
    func openSource(readers: Int) throws -> any SourceSession
    /// Connects to the target server; nothing is changed until `prepareShadow`.
    func openTarget() throws -> any TargetSession
    /// The masker for one table's batches.
    func makeMasker(for plan: TablePlan) -> any BatchMasker
    /// The first `limit` rows of a table as text, columns in `plan.columns` order (for `preview`).
    func previewRows(_ plan: TablePlan, limit: Int) throws -> [[String?]]
    /// The first rows before and after masking, as `restore` would mask them.
    func preview(_ plan: TablePlan, limit: Int) throws -> [PreviewRow]
    /// The non-null values of `columns` in a batch of the engine's wire format, per column, each
    /// with its row's `keyColumns` as `SourceSession.sampleRows` gives them (a snapshot's leak
    /// check looks at the masked output this way).
    func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String], columns: [String]) throws -> [String: [SampledRow]]
    /// Up to `limit` non-empty values of `column` as text, picked at random among the rows the
    /// plan copies (for `check` to find the paths inside JSON columns). Connects read-only.
    func sampleValues(_ plan: TablePlan, column: String, limit: Int) throws -> [String]
    /// Up to `limit` non-empty values of each of `columns`, from rows picked at random (for
    /// `scan` and `check`'s coverage). Connects read-only.
    func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]]
    /// What `check` should say about the job's URLs (traffic off loopback without verified TLS).
    func connectionWarnings() -> [String]
    /// For `scan`: the source's tables (or collections with their paths) and a random sample of
    /// each column's (or path's) values.
    func scanSample(limit: Int) throws -> (schema: SchemaShape, values: [String: [String: [String]]])
    /// The text form of the engine's array columns, for `array: true` (nil: it has none).
    var arrayCodec: (any ArrayLiteralCodec)? { get }
    /// The table's CHECK constraints (its columns' domains' too) evaluated on its first `limit`
    /// rows before and after masking: those that masking makes fail (for `check`). Read-only.
    func constraintBreaks(_ plan: TablePlan, limit: Int) throws -> [ConstraintBreak]
}

/// What an engine cannot do (yet): named, so a DBA knows it is not a data problem.
public struct EngineUnsupported: Error, Sendable, CustomStringConvertible {
    public var engine: String
    public var feature: String

    public init(engine: String, feature: String) {
        self.engine = engine
        self.feature = feature
    }

    public var description: String { "the \(engine) engine does not support \(feature)" }
}

/// One row of `preview`: the source's values and what staging would get, in `plan.columns` order.
public struct PreviewRow: Sendable {
    public var original: [String?]
    public var masked: [String?]

    public init(original: [String?], masked: [String?]) {
        self.original = original
        self.masked = masked
    }
}

extension DatabaseEngine {
    public var arrayCodec: (any ArrayLiteralCodec)? { nil }

    /// Applies the overrides to the live staging database (not a shadow), in one transaction, the
    /// way a restore would: through `openTarget` (which refuses a target that is the source, by
    /// URL and by the servers' identities) and under the target's lock, so it never runs into
    /// the middle of a restore's swap.
    public func applyOverridesToStaging(_ overrides: OverrideList) throws -> [OverrideOutcome] {
        let target = try openTarget()
        defer { target.close() }
        try target.lock()
        defer { target.unlock() }
        return try target.applyOverridesToStaging(overrides)
    }

    public func connectionWarnings() -> [String] { [] }

    public func scanSample(limit: Int) throws -> (schema: SchemaShape, values: [String: [String: [String]]]) {
        let schema = try inspectSource()
        var values: [String: [String: [String]]] = [:]
        for table in schema.tables where table.holdsRows {
            values[table.name] = try sampleColumns(TablePlan(table: table, rule: nil), columns: table.copiedColumns.map(\.name),
                                                   limit: limit)
        }
        return (schema, values)
    }

    public func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        var values: [String: [String]] = [:]
        for column in columns { values[column] = try sampleValues(plan, column: column, limit: limit) }
        return values
    }

    public func sampleValues(_ plan: TablePlan, column: String, limit: Int) throws -> [String] {
        throw EngineUnsupported(engine: "\(Self.self)", feature: "sampling column values")
    }

    public func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String],
                            columns: [String]) throws -> [String: [SampledRow]] {
        throw EngineUnsupported(engine: "\(Self.self)", feature: "snapshots")
    }

    /// Masks each previewed value with its column's transformer.
    public func preview(_ plan: TablePlan, limit: Int) throws -> [PreviewRow] {
        try previewRows(plan, limit: limit).enumerated().map { index, row in
            var masked = row
            for (position, column) in plan.masks {
                do throws(MaskingError) {
                    masked[position] = try column.transformer.mask(row[position])
                } catch {
                    throw RowMaskingError(table: plan.name, column: column.name, row: index, reason: error)
                }
            }
            return PreviewRow(original: row, masked: masked)
        }
    }
}
