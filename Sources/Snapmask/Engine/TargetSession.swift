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
    /// Makes the empty container of the shadow copy where that takes time of its own (a
    /// database), while the source's schema is still being read; after `lock`, before
    /// `prepareShadow`, which makes it itself when this was not called.
    func createShadowContainer() throws
    /// Creates the shadow copy with the source's schema (read from the source, or stored in a
    /// snapshot), without indexes, constraints and triggers.
    func prepareShadow(definition: SchemaDefinition, plan: RestorePlan) throws
    func makeWriter(for plan: TablePlan) throws -> any BatchWriter
    /// All rows of this table are in the shadow copy (other tables may still be loading): the
    /// engine may start work of that table's own here (its indexes), in the background, so it
    /// overlaps the rest of the copy; `finishSchema` waits for it. Must return promptly.
    func tableLoaded(_ table: String) throws
    /// Why loads into this shadow table from several connections would wait for one another
    /// (so reading it in slices gains nothing); nil when they run side by side.
    func serializedLoads(_ table: TablePlan) -> String?
    /// Indexes, constraints, foreign keys (validated), triggers, sequence values, statistics.
    func finishSchema(definition: SchemaDefinition, plan: RestorePlan) throws
    func countRows(_ plan: TablePlan) throws -> Int
    func applyOverrides(_ overrides: OverrideList) throws -> [OverrideOutcome]
    /// The same steps on the live staging data (`overrides apply`), under the lock the caller holds.
    func applyOverridesToStaging(_ overrides: OverrideList) throws -> [OverrideOutcome]
    /// The values of `column` in the shadow rows with these keys (key text → value text).
    func values(_ plan: TablePlan, keyColumns: [String], column: String, keys: [[String?]]) throws -> [[String?]: String?]
    /// Which of `values` occur in `column` of the shadow copy.
    func occurrences(_ plan: TablePlan, column: String, of values: [String]) throws -> Set<String>
    /// Which of `elements` occur as an element of an array in `column` of the shadow copy (an
    /// `array: true` column), each compared in its text form.
    func elementOccurrences(_ plan: TablePlan, column: String, of elements: [String]) throws -> Set<String>
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
    public func createShadowContainer() throws {}

    public func tableLoaded(_ table: String) throws {}

    public func serializedLoads(_ table: TablePlan) -> String? { nil }

    /// An engine without array columns never masks per element; were it asked, the check fails
    /// rather than pass unchecked.
    public func elementOccurrences(_ plan: TablePlan, column: String, of elements: [String]) throws -> Set<String> {
        throw EngineUnsupported(engine: "\(Self.self)", feature: "array columns masked per element (\(plan.name).\(column))")
    }

    public func inspectStaging(swapStarted: Bool) -> StagingState {
        StagingState(data: swapStarted ? .unknown : .previous, shadow: .unknown,
                     detail: swapStarted ? "this engine cannot tell which data staging holds" : nil)
    }

    public func interrupt() {}
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
