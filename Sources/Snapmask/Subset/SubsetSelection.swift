/// The rows a subset selected, for the copy: a table connected to a root keeps the rows whose
/// key digests were selected (references to parents left out set to NULL where the rule says
/// so); the other tables are copied whole. The key sets are only read from here on, by any
/// number of copy threads.
public final class SubsetSelection: @unchecked Sendable {
    let graph: SubsetGraph
    let connected: Set<Int>
    public let report: SubsetReport
    let source: any SubsetReadingSource

    init(graph: SubsetGraph, connected: Set<Int>, report: SubsetReport, source: any SubsetReadingSource) {
        self.graph = graph
        self.connected = connected
        self.report = report
        self.source = source
    }

    /// The copy's source: readers of subset tables hand on only the selected rows.
    public func filtering(_ inner: any SourceSession) -> any SourceSession {
        SubsetFilteringSource(inner: inner, selection: self)
    }

    /// The node a table (or a partition) belongs to, when the subset filters it.
    func node(for plan: TablePlan) -> SubsetGraph.Node? {
        let name = plan.table.partitionOf ?? plan.name
        guard let index = graph.index(of: name), connected.contains(index) else { return nil }
        return graph.nodes[index]
    }

    /// Wraps a reader of `plan` so it yields only selected rows; nil when the table is copied whole.
    func filter(_ reader: any BatchReader, plan: TablePlan) throws -> (any BatchReader)? {
        guard let node = node(for: plan) else { return nil }
        let nulling = node.outgoing.map { graph.edges[$0] }.filter { $0.reference.onMissingParent == .null }
        var fields = node.identity
        for edge in nulling { fields += edge.reference.childColumns.filter { !fields.contains($0) } }
        let identity = node.identity.map { fields.firstIndex(of: $0)! }
        let references = nulling.map { edge in
            (parent: graph.nodes[edge.parent], columns: edge.reference.childColumns.map { fields.firstIndex(of: $0)! })
        }
        let selector = try source.fieldSelector(for: plan, fields: fields)
        return SubsetFilteringReader(inner: reader, selector: selector) { values in
            guard node.selected.contains(KeyDigest.of(identity.map { values[$0] })) else { return .drop }
            var nulled: [Int] = []
            for reference in references {
                let key = reference.columns.map { values[$0] }
                if !key.contains(where: { $0 == nil }), !reference.parent.selected.contains(KeyDigest.of(key)) {
                    nulled += reference.columns
                }
            }
            return nulled.isEmpty ? .keep : .keepNulling(nulled)
        }
    }
}

/// Hands on the rows of the inner reader that the subset keeps; empty batches are skipped.
final class SubsetFilteringReader: BatchReader {
    private let inner: any BatchReader
    private let selector: any RowFieldSelector
    private let decide: ([String?]) -> RowDecision
    private var rowsSoFar = 0

    init(inner: any BatchReader, selector: any RowFieldSelector, decide: @escaping ([String?]) -> RowDecision) {
        self.inner = inner
        self.selector = selector
        self.decide = decide
    }

    func next() throws -> RowBatch? {
        while let batch = try inner.next() {
            var kept = try selector.select(batch, decide)
            guard kept.rowCount > 0 else { continue }
            kept.firstRow = rowsSoFar
            rowsSoFar += kept.rowCount
            return kept
        }
        return nil
    }

    func close() { inner.close() }
}

/// The source as the copy sees it under a subset.
final class SubsetFilteringSource: SourceSession, @unchecked Sendable {
    let inner: any SourceSession
    let selection: SubsetSelection

    init(inner: any SourceSession, selection: SubsetSelection) {
        self.inner = inner
        self.selection = selection
    }

    var schema: SchemaShape { inner.schema }
    var isMasked: Bool { inner.isMasked }
    var notices: [String] { inner.notices }

    func makeReader(for plan: TablePlan) throws -> any BatchReader {
        let reader = try inner.makeReader(for: plan)
        do {
            return try selection.filter(reader, plan: plan) ?? reader
        } catch {
            reader.close()
            throw error
        }
    }

    func slices(of plan: TablePlan, into count: Int) throws -> [TableSlice] { try inner.slices(of: plan, into: count) }
    func sampleRows(_ plan: TablePlan, keyColumns: [String], column: String, limit: Int) throws -> [SampledRow] {
        try inner.sampleRows(plan, keyColumns: keyColumns, column: column, limit: limit)
    }
    func sampleColumns(_ plan: TablePlan, columns: [String], limit: Int) throws -> [String: [String]] {
        try inner.sampleColumns(plan, columns: columns, limit: limit)
    }
    func schemaDefinition() throws -> SchemaDefinition { try inner.schemaDefinition() }
    func close() { inner.close() }
}

extension SubsetSelection {
    /// The subset of a plan whose rules have `subset:`, read from the source before any row is
    /// copied; nil without one.
    public static func select(for plan: RestorePlan, source: any SourceSession, database: String,
                              observer: any RestoreObserver) throws -> SubsetSelection? {
        guard let rules = plan.rules.rules.subset else { return nil }
        guard let reading = source as? any SubsetReadingSource else {
            throw EngineUnsupported(engine: "\(type(of: source))", feature: "subset:")
        }
        observer.phase(database, "selecting the subset: \(rules.roots.count) root(s); following references until no table gains a row")
        let selection = try SubsetPlanner.select(plan: plan, rules: rules, source: reading) { observer.phase(database, $0) }
        let report = selection.report
        for table in report.tables {
            observer.phase(database, "subset: \(table.name): "
                               + (table.selectedRows.map { "\($0) rows" } ?? "all rows") + " (\(table.reachedBy))")
        }
        observer.phase(database, "subset selected in \(report.passes) extra passes, "
                           + String(format: "%.1f s", report.seconds)
                           + (report.spilledSets > 0 ? "; \(report.spilledSets) key sets moved to temporary files" : ""))
        return selection
    }
}
