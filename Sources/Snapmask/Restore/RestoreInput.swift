/// Where a restore's rows come from, opened: the source database (masked on the way, leak-checked
/// against its originals) or a sanitized snapshot (masked already, checked against the digests of
/// originals it carries). The runner asks it, and never which of the two it is.
struct RestoreInput {
    let plan: RestorePlan
    let source: any SourceSession
    /// The schema to recreate, with what the plan did to each table's rows.
    let definition: () throws -> SchemaDefinition
    let makeMasker: @Sendable (TablePlan) -> any BatchMasker
    let leakCheckPhase: String
    let checkLeaks: (any TargetSession) throws -> [LeakCheckResult]
    /// What the run does to each column, with a sample's evidence; warns about (or, with
    /// strict_keep, refuses) kept columns that look personal.
    let coverage: (DatabaseJob, any RestoreObserver) throws -> CoverageReport?
    /// For a snapshot: the columns it masked when it was made (the copy masked none).
    private let maskedColumns: ((String) -> [String])?
    /// True for the source database (a subset is selected there), false for a snapshot.
    let readsSource: Bool

    init(source: any SourceSession, engine: any DatabaseEngine, rules: CompiledRules, leakSampleSize: Int) throws {
        let plan: RestorePlan
        do {
            plan = try RestorePlan.make(rules: rules, source: source)
        } catch {
            source.close()
            throw error
        }
        self.plan = plan
        self.source = source
        definition = {
            var definition = try source.schemaDefinition()
            definition.record(plan)
            return definition
        }
        makeMasker = { engine.makeMasker(for: $0) }
        leakCheckPhase = "checking for original values in the shadow copy"
        checkLeaks = { target in
            try LeakCheck.run(plan: plan, source: source, target: target, sampleSize: leakSampleSize, arrays: engine.arrayCodec)
        }
        coverage = { database, observer in
            observer.phase(database.name, "classifying a sample of every column's values for the coverage report")
            return try CoverageAudit.report(for: database, plan: plan, source: source, warn: { observer.warning(database.name, $0) })
        }
        maskedColumns = nil
        readsSource = true
    }

    init(snapshot: SnapshotInput, engine: any DatabaseEngine, rules: CompiledRules) throws {
        let source = try snapshot.open()
        let plan = RestorePlan.masked(schema: source.schema, rules: rules)
        self.plan = plan
        self.source = source
        definition = { snapshot.definition }
        makeMasker = { _ in MaskedAlready() }
        // The originals are not at hand (that is the point of a snapshot): it carries keyed
        // digests of a sample of them, and the copy is compared with those.
        leakCheckPhase = "checking the shadow copy against the originals sampled into \(snapshot.name)"
        checkLeaks = { target in try snapshot.checkLeaks(plan, target, engine.arrayCodec) }
        coverage = { _, _ in snapshot.coverage }
        maskedColumns = { table in snapshot.definition.maskedColumns(of: table).keys.sorted() }
        readsSource = false
    }

    /// The report names the masked columns; from a snapshot, those it masked when it was made.
    func recordMaskedColumns(in tables: inout [RestoreReport.Table]) {
        guard let maskedColumns else { return }
        for index in tables.indices { tables[index].maskedColumns = maskedColumns(tables[index].name) }
    }
}

/// Rows from a sanitized snapshot go to the target as they are.
struct MaskedAlready: BatchMasker {
    func mask(_ batch: RowBatch) throws -> RowBatch { batch }
}
