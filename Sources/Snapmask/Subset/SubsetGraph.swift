import Foundation

/// The tables a subset touches and the relations between them, checked against the source.
struct SubsetGraph {
    final class Node {
        let name: String
        /// The tables that hold its rows: itself, or its partitions.
        let plans: [TablePlan]
        /// The columns that identify a row: the primary key, else the first unique key, else every
        /// column a relation reads (rows alike in all of them are selected together).
        var identity: [String]
        var outgoing: [Int] = []
        var incoming: [Int] = []
        var roots: [SubsetRoot] = []
        let skipped: Bool
        let selected = KeyHashSet()
        let descending = KeyHashSet()
        var dirty = false
        var scans = 0
        var reachedBy: String?

        init(name: String, plans: [TablePlan], identity: [String]) {
            self.name = name
            self.plans = plans
            self.identity = identity
            skipped = plans.allSatisfy(\.skipData)
        }

        /// Every field a scan of this table reads, identity first: columns, or `column.key` for
        /// an id inside a JSON column.
        var scanColumns: [String] = []
        /// The columns the source reads for them (a JSON path's column once).
        var readColumns: [String] = []
    }

    final class Edge {
        let reference: SubsetReference
        let child: Int
        let parent: Int
        /// Digests of the parent keys that selected children need.
        let needed = KeyHashSet()
        /// Digests of the keys of parents whose children are followed.
        let offered = KeyHashSet()
        /// Children followed per parent digest, for `max_children`.
        var childrenPerParent: [UInt64: Int] = [:]

        init(reference: SubsetReference, child: Int, parent: Int) {
            self.reference = reference
            self.child = child
            self.parent = parent
        }
    }

    var nodes: [Node] = []
    var edges: [Edge] = []

    func index(of name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// The tables connected to a root, whichever way their relations point; the others are
    /// copied whole.
    func reachable() -> Set<Int> {
        var seen = Set(nodes.indices.filter { !nodes[$0].roots.isEmpty })
        var queue = Array(seen)
        while let next = queue.popLast() {
            for edge in nodes[next].outgoing + nodes[next].incoming {
                for other in [edges[edge].child, edges[edge].parent] where seen.insert(other).inserted {
                    queue.append(other)
                }
            }
        }
        return seen
    }

    /// Builds the graph from the plan's tables, the source's foreign keys and the rules' roots
    /// and references; every problem is reported at its line in the rule file.
    static func make(plan: RestorePlan, rules: SubsetRules, foreignKeys: [ForeignKeyShape], file: String) throws -> SubsetGraph {
        var graph = SubsetGraph()
        var problems: [String] = []
        // Logical tables: partitions are read under their partitioned parent's name.
        var byName: [String: [TablePlan]] = [:]
        var order: [String] = []
        for table in plan.tables {
            let name = table.table.partitionOf ?? table.name
            if byName[name] == nil { order.append(name) }
            byName[name, default: []].append(table)
        }
        let shapes = Dictionary(plan.schema.tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in order.sorted() {
            let plans = byName[name]!
            let shape = shapes[name] ?? plans[0].table
            let identity = !shape.primaryKey.isEmpty ? shape.primaryKey : (shape.uniqueKeys.first ?? [])
            graph.nodes.append(Node(name: name, plans: plans, identity: identity))
        }
        func resolve(_ name: String, at location: SourceLocation) -> Int? {
            if let index = graph.index(of: name) { return index }
            if let schema = plan.schema.defaultSchema, let index = graph.index(of: "\(schema).\(name)") { return index }
            let prefix = plan.schema.defaultSchema.map { "\($0)." } ?? ""
            let names = graph.nodes.map { $0.name.hasPrefix(prefix) ? String($0.name.dropFirst(prefix.count)) : $0.name }
            problems.append("\(location): subset: no table '\(name)' in the source"
                                + (Spelling.closest(to: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""))
            return nil
        }
        func columns(_ names: [String], of node: Int, at location: SourceLocation) -> Bool {
            let table = graph.nodes[node].plans[0].table
            guard plan.rules.rules.kind == .tables else { return true }
            let missing = names.filter { name in
                JSONKeyField(field: name, in: table) == nil && !table.columns.contains { $0.name == name }
            }
            if !missing.isEmpty {
                problems.append("\(location): subset: table \(graph.nodes[node].name) has no column "
                                    + missing.map { "'\($0)'" }.joined(separator: ", "))
            }
            return missing.isEmpty
        }
        for root in rules.roots {
            guard let node = resolve(root.table, at: root.location) else { continue }
            if case let .limit(_, orderBy) = root.selection, orderBy == nil, graph.nodes[node].identity.isEmpty {
                problems.append("\(root.location): subset root \(root.table) has no primary key to order by: give order_by:")
            }
            graph.nodes[node].roots.append(root)
        }
        // Declared foreign keys, with the options of a reference that names them.
        var claimed = Set<Int>()
        for key in foreignKeys {
            guard let child = graph.index(of: key.child), let parent = graph.index(of: key.parent) else { continue }
            var reference = SubsetReference(child: key.child, childColumns: key.childColumns, parent: key.parent,
                                            parentColumns: key.parentColumns, virtual: false, maxChildren: nil,
                                            onMissingParent: .pull, followChildren: true,
                                            location: rules.location)
            if let match = rules.references.indices.first(where: { index in
                let option = rules.references[index]
                return !option.virtual && resolveQuietly(option.child, graph, plan) == child
                    && resolveQuietly(option.parent, graph, plan) == parent
                    && option.childColumns == key.childColumns && option.parentColumns == key.parentColumns
            }) {
                claimed.insert(match)
                let option = rules.references[match]
                reference.maxChildren = option.maxChildren
                reference.onMissingParent = option.onMissingParent
                reference.followChildren = option.followChildren
                reference.location = option.location
            }
            graph.add(reference, child: child, parent: parent)
        }
        for (index, reference) in rules.references.enumerated() where !claimed.contains(index) {
            guard let child = resolve(reference.child, at: reference.location),
                  let parent = resolve(reference.parent, at: reference.location),
                  columns(reference.childColumns, of: child, at: reference.location),
                  columns(reference.parentColumns, of: parent, at: reference.location) else { continue }
            guard reference.virtual || plan.rules.rules.kind == .collections else {
                problems.append("\(reference.location): subset: the source declares no foreign key \(reference.description); "
                                    + "add virtual: true to follow a reference the schema does not declare")
                continue
            }
            graph.add(reference, child: child, parent: parent)
        }
        for edge in graph.edges where edge.reference.onMissingParent == .null {
            let parent = graph.nodes[edge.parent]
            if edge.reference.parentColumns != parent.identity {
                problems.append("\(edge.reference.location): subset: on_missing_parent: null needs the reference to point at "
                                    + "the primary key of \(parent.name) (\(parent.identity.joined(separator: ", ")))")
            }
            let child = graph.nodes[edge.child].plans[0].table
            for column in edge.reference.childColumns where !child.columns.contains(where: { $0.name == column }) {
                problems.append("\(edge.reference.location): subset: on_missing_parent: null sets a column to NULL, and "
                                    + "\(column) is a key inside a JSON column; use pull")
            }
            for column in edge.reference.childColumns where child.columns.first(where: { $0.name == column })?.nullable == false {
                problems.append("\(edge.reference.location): subset: on_missing_parent: null, but \(child.name).\(column) is "
                                    + "NOT NULL; use pull, or make the column nullable")
            }
        }
        for node in graph.nodes {
            var columns = node.identity
            for edge in node.outgoing { columns += graph.edges[edge].reference.childColumns }
            for edge in node.incoming { columns += graph.edges[edge].reference.parentColumns }
            var seen = Set<String>()
            node.scanColumns = columns.filter { seen.insert($0).inserted }
            let table = node.plans[0].table
            var read = Set<String>()
            node.readColumns = plan.rules.rules.kind == .collections ? node.scanColumns : node.scanColumns.map { field in
                table.columns.contains { $0.name == field } ? field : JSONKeyField(field: field, in: table)?.column ?? field
            }.filter { read.insert($0).inserted }
            if node.identity.isEmpty { node.identity = node.scanColumns }
            if plan.rules.rules.kind == .collections, node.identity.isEmpty { node.identity = ["_id"] }
            if node.identity.isEmpty, !node.roots.isEmpty {
                problems.append("\(node.roots[0].location): subset root \(node.name) has no primary key, unique key or "
                                    + "reference to tell its rows apart")
            }
        }
        if !problems.isEmpty { throw SubsetPlanError("the subset: of \(file) does not fit the source:\n  "
                                                         + problems.joined(separator: "\n  ")) }
        return graph
    }

    private static func resolveQuietly(_ name: String, _ graph: SubsetGraph, _ plan: RestorePlan) -> Int? {
        graph.index(of: name) ?? plan.schema.defaultSchema.flatMap { graph.index(of: "\($0).\(name)") }
    }

    private mutating func add(_ reference: SubsetReference, child: Int, parent: Int) {
        var reference = reference
        reference.child = nodes[child].name
        reference.parent = nodes[parent].name
        edges.append(Edge(reference: reference, child: child, parent: parent))
        nodes[child].outgoing.append(edges.count - 1)
        nodes[parent].incoming.append(edges.count - 1)
    }
}

/// `payload.user_id`: an id held under a key of a JSON column (for a reference the schema
/// cannot declare). Only where no column has the whole name.
struct JSONKeyField {
    let column: String
    let keys: [String]

    init?(field: String, in table: TableShape) {
        guard !table.columns.contains(where: { $0.name == field }), let dot = field.firstIndex(of: "."),
              let column = table.columns.first(where: { $0.name == String(field[..<dot]) }), column.category == .json
        else { return nil }
        self.column = column.name
        keys = field[field.index(after: dot)...].split(separator: ".").map(String.init)
    }

    /// The text of the id at the keys, nil when absent or null; a container there is refused,
    /// since the references in it would need one parent each.
    func value(in json: String?, table: String) throws -> String? {
        guard let json else { return nil }
        var value: Any? = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])
        for key in keys { value = (value as? [String: Any])?[key] }
        switch value {
        case nil, is NSNull: return nil
        case let text as String: return text
        case let number as NSNumber: return "\(number)"
        default:
            throw SubsetPlanError("\(table).\(column): the value at \(keys.joined(separator: ".")) is an object or array; a subset "
                                      + "follows references held in single values only")
        }
    }
}

/// The subset section cannot be applied to this source; nothing was read or written.
public struct SubsetPlanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
