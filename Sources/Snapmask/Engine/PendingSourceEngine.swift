/// An engine whose source is a temporary cluster that does not exist yet: the target side works
/// (a run locks every target before it makes any cluster), anything reading the source stops
/// with a `SourceNotProvisioned` that says which commands make the cluster, instead of a driver
/// failing on the host name `{endpoint}`.
public struct PendingSourceEngine: DatabaseEngine {
    public let base: any DatabaseEngine
    public let database: DatabaseJob

    public init(base: any DatabaseEngine, database: DatabaseJob) {
        self.base = base
        self.database = database
    }

    private func refuse(_ action: String) -> SourceNotProvisioned {
        SourceNotProvisioned(database: database.name, source: database.managedSource?.originDescription ?? "a snapshot",
                             action: action)
    }

    public func inspectSource() throws -> SchemaShape { throw refuse("a check of the rules against the source") }
    public func openSource(readers: Int) throws -> any SourceSession { throw refuse("reading the source") }
    public func openTarget() throws -> any TargetSession { try base.openTarget() }
    public func makeMasker(for plan: TablePlan) -> any BatchMasker { base.makeMasker(for: plan) }
    public func previewRows(_ plan: TablePlan, limit: Int) throws -> [[String?]] { throw refuse("a preview") }
    public func preview(_ plan: TablePlan, limit: Int) throws -> [PreviewRow] { throw refuse("a preview") }
    public func keyedValues(in batch: RowBatch, plan: TablePlan, keyColumns: [String],
                            columns: [String]) throws -> [String: [SampledRow]] {
        try base.keyedValues(in: batch, plan: plan, keyColumns: keyColumns, columns: columns)
    }
    public func sampleValues(_ plan: TablePlan, column: String, limit: Int) throws -> [String] {
        throw refuse("sampling the source")
    }
    public func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        throw refuse("sampling the source")
    }
    public func connectionWarnings() -> [String] { base.connectionWarnings() }
    public func scanSample(limit: Int) throws -> (schema: SchemaShape, values: [String: [String: [String]]]) {
        throw refuse("a scan")
    }
}
