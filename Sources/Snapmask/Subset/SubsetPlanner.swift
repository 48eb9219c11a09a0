import Foundation

/// What a subset selected, table by table, with how each table was reached.
public struct SubsetReport: Sendable, Codable {
    public struct Table: Sendable, Codable {
        public var name: String
        /// Before any key is read: the table's row estimate scaled by its roots and relations.
        public var estimatedRows: Int
        /// Rows selected (distinct keys); nil for a table copied whole.
        public var selectedRows: Int?
        /// `root (percent: 5)`, `children of customer via rental(customer_id)`, `parents of ...`,
        /// `not connected to a root: copied whole`.
        public var reachedBy: String
        public var scans: Int
    }

    public var tables: [Table]
    public var passes: Int
    public var seconds: Double
    /// Key sets that moved to temporary files.
    public var spilledSets: Int
}

/// Computes a subset: reads the roots' keys, then follows relations both ways (children of rows
/// reached from a root, every parent of every selected row) until no table gains a row. Key sets
/// are digests, held in `KeyHashSet`s; only tables whose sets changed are read again, so the
/// iteration ends at the fixed point whatever cycles the relations make.
public final class SubsetPlanner: @unchecked Sendable {
    let graph: SubsetGraph
    let source: any SubsetReadingSource
    let progress: (String) -> Void
    private var passes = 0

    init(graph: SubsetGraph, source: any SubsetReadingSource, progress: @escaping (String) -> Void) {
        self.graph = graph
        self.source = source
        self.progress = progress
    }

    /// Estimates only: no key is read.
    public static func estimate(plan: RestorePlan, rules: SubsetRules, source: any SubsetReadingSource) throws -> SubsetReport {
        let graph = try SubsetGraph.make(plan: plan, rules: rules, foreignKeys: try source.foreignKeys(), file: plan.rules.rules.path)
        return SubsetPlanner(graph: graph, source: source, progress: { _ in }).report(seconds: 0, exact: false)
    }

    /// Reads the keys and returns what the copy keeps, with its report.
    public static func select(plan: RestorePlan, rules: SubsetRules, source: any SubsetReadingSource,
                              progress: @escaping (String) -> Void) throws -> SubsetSelection {
        let started = Date()
        let graph = try SubsetGraph.make(plan: plan, rules: rules, foreignKeys: try source.foreignKeys(), file: plan.rules.rules.path)
        let planner = SubsetPlanner(graph: graph, source: source, progress: progress)
        try planner.run()
        return SubsetSelection(graph: graph, connected: graph.reachable(),
                               report: planner.report(seconds: Date().timeIntervalSince(started), exact: true),
                               source: source)
    }

    private func run() throws {
        let connected = graph.reachable()
        for index in graph.nodes.indices where !graph.nodes[index].roots.isEmpty && !graph.nodes[index].skipped {
            for root in graph.nodes[index].roots { try scan(index, root: root) }
        }
        // Tables whose sets changed are read again, in name order, until none changes.
        while let next = graph.nodes.indices.first(where: { graph.nodes[$0].dirty && connected.contains($0) }) {
            passes += 1
            try scan(next, root: nil)
        }
    }

    private func scan(_ index: Int, root: SubsetRoot?) throws {
        let node = graph.nodes[index]
        node.dirty = false
        guard !node.skipped else { return }
        node.scans += 1
        progress("subset: reading the keys of \(node.name)" + (root.map { " (root, \(Self.describe($0.selection)))" } ?? "")
                     + " [\(node.selected.count) rows selected so far]")
        var scan = KeyScan(columns: node.readColumns)
        var percent: Double?
        switch root?.selection {
        case let .condition(text)?: scan.condition = text
        case let .filter(value)?: scan.filter = value
        case let .percent(share)?: percent = share
        case let .limit(count, orderBy)?:
            scan.limit = count
            scan.orderBy = orderBy
        case nil: break
        }
        // Capped relations take the first children in key order, so the same ones every run.
        if scan.orderBy == nil, scan.limit != nil || node.outgoing.contains(where: { graph.edges[$0].reference.maxChildren != nil }) {
            scan.orderColumns = node.identity
        }
        let identity = node.identity.map { column in node.scanColumns.firstIndex(of: column)! }
        let outgoing = node.outgoing.map { edge in
            (graph.edges[edge], graph.edges[edge].reference.childColumns.map { node.scanColumns.firstIndex(of: $0)! })
        }
        let incoming = node.incoming.map { edge in
            (graph.edges[edge], graph.edges[edge].reference.parentColumns.map { node.scanColumns.firstIndex(of: $0)! })
        }
        for table in node.plans {
            let keysPlan = table.scanningKeys(scan)
            let reader = try source.makeReader(for: keysPlan)
            defer { reader.close() }
            let selector = try source.fieldSelector(for: keysPlan, fields: node.scanColumns)
            while let batch = try reader.next() {
                try RunInterruption.shared.check()
                _ = try selector.select(batch) { values in
                    let id = KeyDigest.of(identity.map { values[$0] })
                    if let percent, !KeyDigest.inPercent(id, percent) { return .drop }
                    try visit(node, values, id: id, outgoing: outgoing, incoming: incoming, root: root)
                    return .drop
                }
            }
        }
    }

    /// One row of a scan: is it selected now, and what does it select elsewhere.
    private func visit(_ node: SubsetGraph.Node, _ values: [String?], id: UInt64,
                       outgoing: [(SubsetGraph.Edge, [Int])], incoming: [(SubsetGraph.Edge, [Int])],
                       root: SubsetRoot?) throws {
        var descending = node.descending.contains(id)
        var selected = descending || node.selected.contains(id)
        var reason: String?
        if let root {
            reason = "root (\(Self.describe(root.selection)))"
            descending = true
        }
        if !descending {
            for (edge, columns) in outgoing where edge.reference.followChildren {
                let key = columns.map { values[$0] }
                guard !key.contains(where: { $0 == nil }) else { continue }
                let digest = KeyDigest.of(key)
                guard edge.offered.contains(digest) else { continue }
                if let cap = edge.reference.maxChildren {
                    let taken = edge.childrenPerParent[digest] ?? 0
                    guard taken < cap else { continue }
                    edge.childrenPerParent[digest] = taken + 1
                }
                descending = true
                reason = "children of \(edge.reference.parent) via \(edge.reference.childSide)"
                    + (edge.reference.maxChildren.map { " (at most \($0) per parent)" } ?? "")
                break
            }
        }
        if !selected, !descending {
            for (edge, columns) in incoming where edge.reference.onMissingParent == .pull {
                if edge.needed.contains(KeyDigest.of(columns.map { values[$0] })) {
                    selected = true
                    reason = "parents of \(edge.reference.child) via \(edge.reference.childSide)"
                    break
                }
            }
        }
        selected = selected || descending
        guard selected else { return }
        if try node.selected.insert(id), node.reachedBy == nil { node.reachedBy = reason }
        if descending { try node.descending.insert(id) }
        for (edge, columns) in outgoing where edge.reference.onMissingParent == .pull {
            let key = columns.map { values[$0] }
            // A reference with a NULL column points nowhere (MATCH SIMPLE).
            guard !key.contains(where: { $0 == nil }) else { continue }
            if try edge.needed.insert(KeyDigest.of(key)) { graph.nodes[edge.parent].dirty = true }
        }
        if descending {
            for (edge, columns) in incoming where edge.reference.followChildren {
                let key = columns.map { values[$0] }
                guard !key.contains(where: { $0 == nil }) else { continue }
                if try edge.offered.insert(KeyDigest.of(key)) { graph.nodes[edge.child].dirty = true }
            }
        }
    }

    static func describe(_ selection: SubsetRoot.Selection) -> String {
        switch selection {
        case let .condition(text): return "where: \(text)"
        case let .filter(value): return "filter: \(value)"
        case let .percent(share): return "percent: \(share.formatted())"
        case let .limit(count, orderBy): return "limit: \(count)" + (orderBy.map { ", order_by: \($0)" } ?? "")
        }
    }

    func report(seconds: Double, exact: Bool) -> SubsetReport {
        let connected = graph.reachable()
        // Estimates: a root's share of its table, carried along relations (children keep the
        // share of their parents; parents pulled in are bounded by their children's count).
        var share: [Int: Double] = [:]
        for index in graph.nodes.indices {
            let node = graph.nodes[index]
            let rows = Double(max(1, node.plans.reduce(0) { $0 + $1.table.estimatedRows }))
            for root in node.roots {
                let part: Double
                switch root.selection {
                case let .percent(value): part = value / 100
                case let .limit(count, _): part = min(1, Double(count) / rows)
                case .condition, .filter: part = 1
                }
                share[index] = max(share[index] ?? 0, part)
            }
        }
        var changed = true
        var rounds = 0
        while changed, rounds < graph.nodes.count + 1 {
            changed = false
            rounds += 1
            for edge in graph.edges {
                if let parentShare = share[edge.parent], edge.reference.followChildren, parentShare > share[edge.child] ?? 0 {
                    share[edge.child] = parentShare
                    changed = true
                }
                if let childShare = share[edge.child], edge.reference.onMissingParent == .pull, childShare > share[edge.parent] ?? 0 {
                    share[edge.parent] = childShare
                    changed = true
                }
            }
        }
        let tables = graph.nodes.indices.map { index -> SubsetReport.Table in
            let node = graph.nodes[index]
            let rows = node.plans.reduce(0) { $0 + $1.table.estimatedRows }
            guard connected.contains(index) else {
                return .init(name: node.name, estimatedRows: rows, selectedRows: nil,
                             reachedBy: "not connected to a root: copied whole", scans: 0)
            }
            let reached = node.skipped ? "data: skip" : exact ? (node.reachedBy ?? "no row reached") : (node.roots.first.map {
                "root (\(Self.describe($0.selection)))" } ?? "by its relations")
            return .init(name: node.name, estimatedRows: Int((Double(rows) * (share[index] ?? 0)).rounded(.up)),
                         selectedRows: exact ? node.selected.count : nil, reachedBy: reached, scans: node.scans)
        }
        let spilled = graph.nodes.reduce(0) { $0 + ($1.selected.isSpilled ? 1 : 0) + ($1.descending.isSpilled ? 1 : 0) }
            + graph.edges.reduce(0) { $0 + ($1.needed.isSpilled ? 1 : 0) + ($1.offered.isSpilled ? 1 : 0) }
        return SubsetReport(tables: tables, passes: passes, seconds: seconds, spilledSets: spilled)
    }
}
