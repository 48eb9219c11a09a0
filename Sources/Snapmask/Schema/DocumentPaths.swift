/// Document databases (DocumentDB, MongoDB) have no fixed columns: the engine discovers the
/// field paths that exist by sampling documents, and each discovered leaf path becomes a
/// `ColumnShape` whose name is the path text (`sender.email`, `recipients[].email`). Rules name
/// paths too, and a rule covers the path it names and everything below it (`profile: keep`).
///
/// `FieldPathRules` is the one place that decides which rule applies where, so `check` (which
/// sees sampled paths) and the engine's masker (which sees every document while streaming)
/// cannot disagree:
///
/// - the most specific rule wins: with `profile: keep` and `profile.email: email`, the email is
///   masked and every other value under `profile` is kept;
/// - a rule on a path applies to every value at and below it; `null` there replaces the whole
///   value (document or array) with null;
/// - a single value where a rule expects an array of them (`phones` holding one string under a
///   `phones[]` rule) is masked by that rule, as the JSON masker does;
/// - null, an empty document and an empty array hold nothing: on the way to a ruled path
///   (`contact: null` under a `contact.email` rule) they need no rule of their own;
/// - anything else without a rule is unruled: it fails the check, and stops the run if it
///   only shows up while streaming (while `unlisted: fail`).
public final class FieldPathRules: Sendable {
    public struct Node: Sendable {
        /// The rule named exactly by the path to this node.
        public let rule: CompiledColumn?
        /// Child nodes by field name.
        public let keys: [String: Int]
        /// The child node for the elements of an array (`[]`).
        public let elements: Int?
        /// The rule reached from here through `[]` segments only: it masks a single value found
        /// where it expects an array of them.
        public let elementsRule: CompiledColumn?
        /// Whether some rule lies strictly below this node.
        public let hasRulesBelow: Bool
    }

    /// Where a value stands with respect to the rules.
    public enum Coverage: Sendable {
        /// This rule masks (or keeps) the value.
        case rule(CompiledColumn)
        /// The value lies on the way to a ruled path and holds nothing (null, `{}`, `[]`).
        case holdsNothing
        /// No rule applies.
        case unruled
    }

    /// `nodes[0]` is the document itself.
    public let nodes: [Node]

    public static let root = 0

    /// The tree of a collection's rules; an empty tree (every path unruled) when there is no rule.
    public init(_ table: CompiledTable?) {
        final class Building {
            var rule: CompiledColumn?
            var keys: [String: Building] = [:]
            var keyOrder: [String] = []
            var elements: Building?
        }
        let root = Building()
        for column in table?.columns ?? [] {
            // Rule paths were validated when the rule file was read; a path that still does not
            // parse names nothing and covers nothing.
            guard let path = try? FieldPath(column.name) else { continue }
            var node = root
            for segment in path.segments {
                switch segment {
                case let .key(name):
                    if let next = node.keys[name] {
                        node = next
                    } else {
                        let next = Building()
                        node.keys[name] = next
                        node.keyOrder.append(name)
                        node = next
                    }
                case .elements:
                    if let next = node.elements {
                        node = next
                    } else {
                        let next = Building()
                        node.elements = next
                        node = next
                    }
                }
            }
            node.rule = column
        }
        // Flatten breadth-first so the root is node 0.
        var flat: [Building] = [root]
        var index = 0
        var indices: [ObjectIdentifier: Int] = [ObjectIdentifier(root): 0]
        while index < flat.count {
            let node = flat[index]
            for name in node.keyOrder {
                let child = node.keys[name]!
                indices[ObjectIdentifier(child)] = flat.count
                flat.append(child)
            }
            if let child = node.elements {
                indices[ObjectIdentifier(child)] = flat.count
                flat.append(child)
            }
            index += 1
        }
        func elementsRule(_ node: Building) -> CompiledColumn? {
            var current = node.elements
            while let next = current {
                if let rule = next.rule { return rule }
                current = next.elements
            }
            return nil
        }
        func hasRules(below node: Building) -> Bool {
            node.keys.values.contains { $0.rule != nil || hasRules(below: $0) }
                || node.elements.map { $0.rule != nil || hasRules(below: $0) } ?? false
        }
        nodes = flat.map { node in
            Node(rule: node.rule, keys: node.keys.mapValues { indices[ObjectIdentifier($0)]! },
                 elements: node.elements.map { indices[ObjectIdentifier($0)]! }, elementsRule: elementsRule(node),
                 hasRulesBelow: hasRules(below: node))
        }
    }

    public var isEmpty: Bool { nodes.count == 1 && nodes[0].rule == nil }

    /// Which rule applies to a leaf value at `path` (a scalar, or a null or empty container when
    /// `holdsNothing`). The engine's masker walks the same tree node by node and must decide the
    /// same way; this is the reference.
    public func coverage(of path: FieldPath, holdsNothing: Bool) -> Coverage {
        var node: Int? = Self.root
        var inherited: CompiledColumn?
        for segment in path.segments {
            guard let current = node else { break }
            if let rule = nodes[current].rule { inherited = rule }
            switch segment {
            case let .key(name): node = nodes[current].keys[name]
            case .elements: node = nodes[current].elements
            }
        }
        guard let node else { return inherited.map(Coverage.rule) ?? .unruled }
        if let rule = nodes[node].rule ?? inherited { return .rule(rule) }
        if let rule = nodes[node].elementsRule { return .rule(rule) }
        return holdsNothing ? .holdsNothing : .unruled
    }
}

/// How a document engine describes a discovered path as a `ColumnShape`, so `check` can read it
/// back: the type name lists the value types seen at the path (`string, null`), and the
/// category is the one that decides which transformers fit all of them.
public enum DocumentPathShape {
    /// Type names of values that hold nothing.
    public static let nothingTypes: Set<String> = ["null", "empty array", "empty document"]

    /// `types` are the engine's names for the value types seen at the path, with the category
    /// each can be masked as (nil for the types in `nothingTypes`). `required` paths (`_id`)
    /// can never be null.
    public static func column(path: String, types: [(name: String, category: ValueCategory?)],
                              required: Bool = false) -> ColumnShape {
        let categories = Set(types.compactMap(\.category))
        return ColumnShape(name: path, typeName: types.map(\.name).joined(separator: ", "),
                           category: combined(categories), nullable: !required)
    }

    /// The category whose fitting transformers fit every one of `categories`: every transformer
    /// that masks numbers, dates or UUIDs masks text too, so text adds nothing; two other
    /// categories leave only keep, null and constant (`other`).
    public static func combined(_ categories: Set<ValueCategory>) -> ValueCategory {
        var rest = categories.subtracting([.text])
        if rest == [.date, .timestamp] { rest = [.timestamp] }
        if rest.isEmpty { return .text }
        return rest.count == 1 ? rest.first! : .other
    }

    public static func holdsNothing(_ shape: ColumnShape) -> Bool {
        shape.typeName.split(separator: ",").allSatisfy { nothingTypes.contains(String($0.drop { $0 == " " })) }
    }
}

extension SchemaCheck {
    /// Whether `transformer` can mask values of `category` (keep, null and constant fit any).
    public static func accepts(transformer: String, category: ValueCategory) -> Bool {
        if ["keep", "null", "constant"].contains(transformer) { return true }
        return accepts[transformer]?.contains(category) ?? false
    }
}

/// `check` for collections: every discovered path needs a rule covering it (while
/// `unlisted: fail`), the rule's transformer must fit every value type seen there, and paths
/// under a unique index need a transformer that promises distinct outputs. A rule naming a path
/// the sample did not show is accepted: sampling can miss rare fields, and the masker checks
/// every document while streaming.
enum DocumentPathCheck {
    static func problems(rules: CompiledRules, schema: SchemaShape) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        let failUnlisted = rules.rules.unlisted == .fail
        var ruled = Set<String>()
        for table in schema.tables {
            guard let rule = schema.rule(for: table, in: rules) else {
                if failUnlisted {
                    problems.append(CheckProblem(table: table.name, message:
                        "collection has no rule in \(rules.rules.path); add it under collections: with a rule per field "
                            + "path, or { data: skip }"))
                }
                continue
            }
            ruled.insert(rule.name)
            if rule.rule.skipData { continue }
            problems += pathProblems(table: table, rule: rule, failUnlisted: failUnlisted)
        }
        for rule in rules.tables where !ruled.contains(rule.name) {
            problems.append(CheckProblem(table: rule.name, message:
                "the rule names a collection the source does not have (\(rule.rule.location)); remove the rule or fix its name"))
        }
        return problems
    }

    private static func pathProblems(table: TableShape, rule: CompiledTable, failUnlisted: Bool) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        func problem(_ path: String, _ message: String) {
            problems.append(CheckProblem(table: table.name, column: path, message: message))
        }
        let tree = FieldPathRules(rule)
        for shape in table.columns {
            guard let path = try? FieldPath(shape.name) else {
                if failUnlisted {
                    problem(shape.name, "a field name holds '.', '[' or ']', so no rule can name this path (\(shape.typeName)); "
                                + "cover it with a rule on an enclosing path")
                }
                continue
            }
            let column: CompiledColumn
            switch tree.coverage(of: path, holdsNothing: DocumentPathShape.holdsNothing(shape)) {
            case .holdsNothing:
                continue
            case .unruled:
                if failUnlisted {
                    problem(shape.name, "field path has no rule (\(shape.typeName)); add `\"\(shape.name)\": keep` if it holds "
                                + "no personal data, a transformer, or a rule on an enclosing path")
                }
                continue
            case let .rule(found):
                column = found
            }
            let name = column.transformer.name
            let via = column.name == shape.name ? "" : " (by the rule on \(column.name))"
            if !SchemaCheck.accepts(transformer: name, category: shape.category) {
                let fitting = SchemaCheck.accepts.filter { $0.value.contains(shape.category) }.map(\.key).sorted()
                problem(shape.name, "\(name)\(via) cannot mask the values found here (\(shape.typeName)); use "
                            + (["keep", "null", "constant"] + fitting).joined(separator: ", "))
            }
            if name == "null" && !shape.nullable {
                problem(shape.name, "the null transformer\(via) cannot write this path: every document needs it; "
                            + "use keep or a transformer that promises distinct outputs")
            }
            if !column.transformer.isUnique, let key = table.uniqueKeys.first(where: { $0.contains(shape.name) }) {
                let what = key == table.primaryKey ? "the document key" : "a unique index on (\(key.joined(separator: ", ")))"
                problem(shape.name, "path is under \(what) but \(name)\(via) cannot promise distinct outputs (a unique index "
                            + "counts null as a value too); use a transformer that can (email, hash, uuid, username, phone, "
                            + "digits, ...)")
            }
        }
        return problems
    }
}
