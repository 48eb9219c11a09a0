import Foundation

/// The `subset:` section of a rule file: which rows to start from, and how references between
/// tables are followed so that the copy is closed under them.
public struct SubsetRules: Sendable {
    public var roots: [SubsetRoot]
    public var references: [SubsetReference]
    public var location: SourceLocation

    public init(roots: [SubsetRoot], references: [SubsetReference] = [], location: SourceLocation) {
        self.roots = roots
        self.references = references
        self.location = location
    }
}

/// Rows a subset starts from. Their children are followed (down foreign keys), and every parent a
/// selected row needs is pulled in.
public struct SubsetRoot: Sendable {
    public enum Selection: Sendable, Equatable {
        /// Rows matching an SQL condition (a DocumentDB query document for collections).
        case condition(String)
        case filter(ConfigValue)
        /// About this share of rows (0 < p ≤ 100), chosen by a digest of the row's key, so the
        /// same rows are chosen every week while they exist.
        case percent(Double)
        /// The first `count` rows in `orderBy` (the primary key when not given).
        case limit(Int, orderBy: String?)
    }

    public var table: String
    public var selection: Selection
    public var location: SourceLocation
}

/// A relation between two tables: a foreign key of the schema (to set its options) or a
/// reference the schema does not declare (`virtual: true`), such as a DocumentDB `user_id` field
/// or a MySQL column without a constraint.
public struct SubsetReference: Sendable {
    public enum MissingParent: String, Sendable {
        /// The parent is copied too (the default: the result is closed under every reference).
        case pull
        /// The reference is set to NULL in the copy when its parent was not selected otherwise.
        case null
    }

    public var child: String
    public var childColumns: [String]
    public var parent: String
    public var parentColumns: [String]
    public var virtual: Bool
    /// At most this many children per parent row are followed (the first by the child's key).
    public var maxChildren: Int?
    public var onMissingParent: MissingParent
    /// `follow_children: false`: the relation only pulls parents.
    public var followChildren: Bool
    public var location: SourceLocation

    /// `orders(customer_id)`: the referencing side, as plans and reports name it.
    public var childSide: String { "\(child)(\(childColumns.joined(separator: ", ")))" }

    public var description: String {
        "\(child)(\(childColumns.joined(separator: ", "))) → \(parent)(\(parentColumns.joined(separator: ", ")))"
    }
}

enum SubsetRulesParser {
    static func parse(_ node: YAMLNode, kind: RuleSet.Kind) throws -> SubsetRules {
        var errors = ConfigErrors()
        let fields = try node.fields("subset:", allowed: ["roots", "references"])
        var roots: [SubsetRoot] = []
        if let list = fields["roots"] {
            for item in try list.sequence("the roots of subset:") {
                errors.collect { roots.append(try root(item, kind: kind)) }
            }
        }
        if roots.isEmpty, errors.errors.isEmpty {
            errors.append(node.error("subset: needs roots: (a list of { \(kind.entityName): NAME, where: ... | percent: N | "
                                         + "limit: N }): the rows the subset starts from"))
        }
        var references: [SubsetReference] = []
        if let list = fields["references"] {
            for item in try list.sequence("the references of subset:") {
                errors.collect { references.append(try reference(item, kind: kind)) }
            }
        }
        try errors.throwIfAny()
        return SubsetRules(roots: roots, references: references, location: node.location)
    }

    private static func root(_ node: YAMLNode, kind: RuleSet.Kind) throws -> SubsetRoot {
        let entity = kind.entityName
        let fields = try node.fields("a subset root", allowed: [entity, kind.subsetKey, "percent", "limit", "order_by"])
        guard let tableNode = fields[entity] else {
            throw node.error("a subset root needs \(entity): NAME and one of \(kind.subsetKey):, percent: or limit:")
        }
        let table = try tableNode.string("a \(entity) name")
        var selections: [SubsetRoot.Selection] = []
        if let condition = fields[kind.subsetKey] {
            if kind == .tables {
                let text = try condition.string("an SQL condition")
                if SQLCondition.hasStatementSeparator(text) {
                    throw condition.error("the where: of subset root '\(table)' holds a ';' outside a quoted string; it is "
                                              + "one SQL condition: remove the ';'")
                }
                selections.append(.condition(text))
            } else {
                guard condition.isMapping else { throw condition.error("filter must be a query document, e.g. { plan: \"pro\" }") }
                selections.append(.filter(try condition.value()))
            }
        }
        if let percent = fields["percent"] {
            guard let value = Double(try percent.string("a percentage")), value > 0, value <= 100 else {
                throw percent.error("percent must be a number above 0 and at most 100, e.g. percent: 5")
            }
            selections.append(.percent(value))
        }
        if let limit = fields["limit"] {
            let count = try limit.int("a row count")
            guard count > 0 else { throw limit.error("limit must be at least 1") }
            let order = try fields["order_by"].map { node in
                let text = try node.string("an ORDER BY list, e.g. created_at DESC")
                if kind == .tables, SQLCondition.hasStatementSeparator(text) {
                    throw node.error("the order_by: of subset root '\(table)' holds a ';' outside a quoted string: remove it")
                }
                return text
            }
            selections.append(.limit(count, orderBy: order))
        } else if let order = fields["order_by"] {
            throw order.error("order_by: goes with limit: (it says which rows are the first)")
        }
        guard selections.count == 1, let selection = selections.first else {
            throw node.error("subset root '\(table)' needs exactly one of \(kind.subsetKey):, percent: or limit:")
        }
        return SubsetRoot(table: table, selection: selection, location: tableNode.location)
    }

    private static func reference(_ node: YAMLNode, kind: RuleSet.Kind) throws -> SubsetReference {
        let fields = try node.fields("a subset reference", allowed: ["from", "to", "virtual", "max_children",
                                                                     "on_missing_parent", "follow_children"])
        guard let fromNode = fields["from"], let toNode = fields["to"] else {
            throw node.error("a subset reference needs from: CHILD(column, ...) and to: PARENT(column, ...)")
        }
        let from = try endpoint(fromNode)
        let to = try endpoint(toNode)
        guard from.columns.count == to.columns.count else {
            throw node.error("from: names \(from.columns.count) column(s) and to: \(to.columns.count); a reference pairs them "
                                 + "one to one")
        }
        var reference = SubsetReference(child: from.table, childColumns: from.columns, parent: to.table,
                                        parentColumns: to.columns, virtual: false, maxChildren: nil,
                                        onMissingParent: .pull, followChildren: true, location: fromNode.location)
        if let virtual = fields["virtual"] { reference.virtual = try virtual.bool("virtual: true or false") }
        if let follow = fields["follow_children"] { reference.followChildren = try follow.bool("follow_children: true or false") }
        if let cap = fields["max_children"] {
            let count = try cap.int("a number of child rows")
            guard count > 0 else { throw cap.error("max_children must be at least 1 (use follow_children: false to follow none)") }
            reference.maxChildren = count
        }
        if let missing = fields["on_missing_parent"] {
            // `null` unquoted is YAML's null: it means the same as the word.
            let text = missing.isNull ? "null" : try missing.string("pull or null")
            guard let policy = SubsetReference.MissingParent(rawValue: text) else {
                throw missing.error("on_missing_parent must be 'pull' (copy the parent too, the default) or 'null' (set the "
                                        + "reference to NULL when its parent is not in the subset)")
            }
            if policy == .null, kind == .collections {
                throw missing.error("on_missing_parent: null is for SQL tables; a document keeps its references and pulls "
                                        + "their parents")
            }
            reference.onMissingParent = policy
        }
        return reference
    }

    /// `orders(user_id)`, `public.order_lines(order_id, line_no)` or `orders(customer.id)`.
    private static func endpoint(_ node: YAMLNode) throws -> (table: String, columns: [String]) {
        let text = try node.string("TABLE(column, ...)")
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            throw node.error("'\(text)' must be TABLE(column, ...), e.g. orders(user_id)")
        }
        let table = text[..<open].trimmingCharacters(in: .whitespaces)
        let columns = text[text.index(after: open)..<text.index(before: text.endIndex)]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !table.isEmpty, !columns.isEmpty, !columns.contains(where: \.isEmpty) else {
            throw node.error("'\(text)' must be TABLE(column, ...), e.g. orders(user_id)")
        }
        return (table, columns)
    }
}
