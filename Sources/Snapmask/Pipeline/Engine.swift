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

/// The source, inside one snapshot: every reader sees the same point in time. Copy threads call
/// `makeReader` concurrently, so implementations synchronize their shared state.
public protocol SourceSession: AnyObject, Sendable {
    var schema: SchemaShape { get }
    /// A reader for one table, on a connection of its own inside the same snapshot.
    func makeReader(for plan: TablePlan) throws -> any BatchReader
    /// Up to `limit` rows with a non-empty value in `column`: the key columns' text and the value.
    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow]
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

public protocol BatchWriter: AnyObject {
    func write(_ batch: RowBatch) throws
    /// Ends the table's load; returns the rows the target accepted.
    func finish() throws -> Int
}

/// The staging side: a shadow copy is built beside the live staging data and swapped in only
/// after overrides and verification. Copy threads call `makeWriter` concurrently.
public protocol TargetSession: AnyObject, Sendable {
    /// Takes the one-run-at-a-time lock of this target, or fails naming the holder.
    func lock() throws
    /// Creates the shadow copy with the source's schema, without indexes, constraints and triggers.
    func prepareShadow(source: any SourceSession, plan: RestorePlan) throws
    func makeWriter(for plan: TablePlan) throws -> any BatchWriter
    /// Indexes, constraints, foreign keys (validated), triggers, sequence values, statistics.
    func finishSchema(source: any SourceSession, plan: RestorePlan) throws
    /// The same two steps from a stored schema definition (a restore from a snapshot).
    func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws
    func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws
    func countRows(_ plan: TablePlan) throws -> Int
    func applyOverrides(_ overrides: OverrideList) throws -> [OverrideOutcome]
    /// The same steps on the live staging data (`overrides apply`), under the lock the caller holds.
    func applyOverridesToStaging(_ overrides: OverrideList) throws -> [OverrideOutcome]
    /// The values of `column` in the shadow rows with these keys (key text → value text).
    func values(_ plan: TablePlan, keyColumns: [String], column: String, keys: [[String?]]) throws -> [[String?]: String?]
    /// Which of `values` occur in `column` of the shadow copy.
    func occurrences(_ plan: TablePlan, column: String, of values: [String]) throws -> Set<String>
    /// Makes the shadow copy the staging data in one step.
    func swap() throws
    /// Removes the shadow copy (after a failure); must not throw.
    func discardShadow()
    /// After a failure: what staging holds and whether a shadow copy is left, as the server says
    /// now (reconnecting when the connection was lost). `swapStarted`: the failure came at or
    /// after the swap's first change. Must not throw: what cannot be found out is `unknown`.
    func inspectStaging(swapStarted: Bool) -> StagingState
    /// Asks statements running on the target to stop (a signal arrived); called from another
    /// thread, must return at once.
    func interrupt()
    func unlock()
    func close()
}

extension TargetSession {
    public func inspectStaging(swapStarted: Bool) -> StagingState {
        StagingState(data: swapStarted ? .unknown : .previous, shadow: .unknown,
                     detail: swapStarted ? "this engine cannot tell which data staging holds" : nil)
    }

    public func interrupt() {}

    public func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws {
        throw EngineUnsupported(engine: definition.engine, feature: "restoring from snapshots")
    }

    public func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws {
        throw EngineUnsupported(engine: definition.engine, feature: "restoring from snapshots")
    }
}

/// Another run holds the lock of a target: `restore` and `run` stop at once and name the holder.
public struct TargetLocked: Error, Sendable, CustomStringConvertible {
    /// The staging database, as the engine names it.
    public var target: String
    /// Who holds it and since when.
    public var holder: String

    public init(target: String, holder: String) {
        self.target = target
        self.holder = holder
    }

    public var description: String {
        "another snapmask run is restoring \(target): \(holder); wait for it to finish, or end that session if it is stuck"
    }
}

/// One applied override step, for the report.
public struct OverrideOutcome: Sendable, Codable {
    public var step: String
    public var rowsAffected: Int?

    public init(step: String, rowsAffected: Int?) {
        self.step = step
        self.rowsAffected = rowsAffected
    }
}

/// What staging holds after a run stopped, as the target found it: the message and the report
/// say exactly this, never a guess.
public struct StagingState: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Data: String, Sendable, Codable {
        /// The data from before the run: the swap never changed it.
        case previous
        /// The new copy: the swap completed before the run stopped.
        case new
        /// Some tables or collections new, others old.
        case partlyReplaced = "partly replaced"
        /// The server could not be asked.
        case unknown
    }

    public enum Shadow: String, Sendable, Codable {
        /// None was made (the run stopped before it).
        case none
        case removed, left, unknown
    }

    public var data: Data
    public var shadow: Shadow
    /// Which parts are new and which old, or why the state is unknown.
    public var detail: String?

    public init(data: Data, shadow: Shadow, detail: String? = nil) {
        self.data = data
        self.shadow = shadow
        self.detail = detail
    }

    public var description: String {
        var text: String
        switch data {
        case .previous: text = "staging is unchanged (it holds the data from before this run)"
        case .new: text = "staging holds the new copy: the swap completed before the run stopped"
        case .partlyReplaced: text = "staging was partly replaced"
        case .unknown: text = "what staging holds could not be checked"
        }
        if let detail { text += " (\(detail))" }
        switch shadow {
        case .none: break
        case .removed: text += "; the shadow copy was removed"
        case .left: text += "; the shadow copy is still there (the next run removes it)"
        case .unknown: text += "; whether the shadow copy is left could not be checked (the next run removes it)"
        }
        switch data {
        case .partlyReplaced: text += "; run the restore again to replace staging completely"
        case .unknown: text += "; check staging before using it, and run the restore again"
        case .previous, .new: break
        }
        return text
    }
}
