/// The rules of a document collection or of a JSON column, as a tree of field paths. It is the
/// one place that decides which rule applies where, so `check` (which sees sampled paths), the
/// DocumentDB masker and the JSON masker (which see every value while streaming) cannot disagree:
///
/// - the most specific rule wins: with `profile: keep` and `profile.email: email`, the email is
///   masked and every other value under `profile` is kept;
/// - a rule on a path applies to every value at and below it: `keep` keeps the subtree byte for
///   byte, a masking transformer masks every leaf under it in place (keys, array lengths and
///   types stay), `null` replaces the whole value (document or array) with null;
/// - a single value where a rule expects an array of them (`phones` holding one string under a
///   `phones[]` rule) is masked by that rule;
/// - field names are copied as they are, except under a map rule (`read_by: { keys: hash }`),
///   whose `keys:` transformer masks every field name of the object there; `*` in a path
///   (`read_by.*.at`) stands for any of those names;
/// - null, an empty document and an empty array hold nothing: on the way to a ruled path
///   (`contact: null` under a `contact.email` rule) they need no rule of their own;
/// - anything else without a rule is unruled: it fails the check, and stops the run if it
///   only shows up while streaming (unless unruled values are explicitly kept).
public final class FieldPathRules: Sendable {
    /// A class so that the walks, which look a node up for every value, take a reference rather
    /// than copy its dictionary and rules.
    public final class Node: Sendable {
        /// The rule named exactly by the path to this node.
        public let rule: CompiledColumn?
        /// The rule for the field names of the object at this node (`keys:` of a map rule).
        public let keysRule: CompiledColumn?
        /// Child nodes by field name.
        public let keys: [String: Int]
        /// The child node for any field name (`*`), under a map rule.
        public let anyKey: Int?
        /// The child node for the elements of an array (`[]`).
        public let elements: Int?
        /// The rule reached from here through `[]` segments only: it masks a single value found
        /// where it expects an array of them.
        public let elementsRule: CompiledColumn?
        /// Whether some rule (for values or field names) lies strictly below this node.
        public let hasRulesBelow: Bool
        /// `keys` as UTF-8 when every name is ASCII (nil otherwise): ASCII text is equal as a
        /// string exactly when its bytes are, so an ASCII name from JSON text is looked up here
        /// without making a string of it. A non-ASCII name can equal another spelling (a
        /// decomposed accent, the Kelvin sign and K), which only the string comparison sees.
        private let asciiKeys: [(name: [UInt8], node: Int)]?

        init(rule: CompiledColumn?, keysRule: CompiledColumn?, keys: [String: Int], anyKey: Int?, elements: Int?,
             elementsRule: CompiledColumn?, hasRulesBelow: Bool) {
            self.rule = rule
            self.keysRule = keysRule
            self.keys = keys
            self.anyKey = anyKey
            self.elements = elements
            self.elementsRule = elementsRule
            self.hasRulesBelow = hasRulesBelow
            asciiKeys = keys.keys.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
                ? keys.map { (Array($0.key.utf8), $0.value) } : nil
        }

        /// Whether the walk must look inside the value here rather than apply one rule to all of it.
        public var needsWalk: Bool { hasRulesBelow || keysRule != nil }

        /// The child for a field name: the one named exactly, else `*`.
        @inline(__always)
        public func child(_ name: String) -> Int? { keys[name] ?? anyKey }

        /// `child` of a name given as UTF-8 bytes, when bytes can decide it (this node's names
        /// and `name` all ASCII); nil when only `child(_: String)` can.
        @inline(__always)
        public func child(utf8 name: UnsafeBufferPointer<UInt8>) -> Int?? {
            guard let asciiKeys, name.allSatisfy({ $0 < 0x80 }) else { return nil }
            for entry in asciiKeys where entry.name.count == name.count {
                if entry.name.withUnsafeBufferPointer({ $0.elementsEqual(name) }) { return .some(entry.node) }
            }
            return .some(anyKey)
        }
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
    /// Every rule, in the order written.
    public let rules: [CompiledColumn]

    public static let root = 0

    /// The tree of a collection's rules; an empty tree (every path unruled) when there is none.
    public convenience init(_ table: CompiledTable?) {
        self.init(rules: table?.columns ?? [])
    }

    /// The tree of path rules; a rule's name is its path. Paths were validated when the rules
    /// were compiled (`PathRuleCheck`); a path that still does not parse covers nothing.
    public init(rules: [CompiledColumn]) {
        final class Building {
            var rule: CompiledColumn?
            var keysRule: CompiledColumn?
            var keys: [String: Building] = [:]
            var keyOrder: [String] = []
            var anyKey: Building?
            var elements: Building?
        }
        let root = Building()
        for column in rules {
            guard let path = column.name.isEmpty ? FieldPath.of(rule: "") : try? FieldPath(column.name) else { continue }
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
                case .anyKey:
                    if node.anyKey == nil { node.anyKey = Building() }
                    node = node.anyKey!
                case .elements:
                    if node.elements == nil { node.elements = Building() }
                    node = node.elements!
                }
            }
            if column.transformer.spec.appliesToKeys { node.keysRule = column } else { node.rule = column }
        }
        // Flatten breadth-first so the root is node 0.
        var flat: [Building] = [root]
        var index = 0
        var indices: [ObjectIdentifier: Int] = [ObjectIdentifier(root): 0]
        while index < flat.count {
            let node = flat[index]
            let children = node.keyOrder.map { node.keys[$0]! } + [node.anyKey, node.elements].compactMap { $0 }
            for child in children {
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
            let children = Array(node.keys.values) + [node.anyKey, node.elements].compactMap { $0 }
            return children.contains { $0.rule != nil || $0.keysRule != nil || hasRules(below: $0) }
        }
        nodes = flat.map { node in
            Node(rule: node.rule, keysRule: node.keysRule, keys: node.keys.mapValues { indices[ObjectIdentifier($0)]! },
                 anyKey: node.anyKey.map { indices[ObjectIdentifier($0)]! },
                 elements: node.elements.map { indices[ObjectIdentifier($0)]! }, elementsRule: elementsRule(node),
                 hasRulesBelow: hasRules(below: node))
        }
        self.rules = rules
    }

    public var isEmpty: Bool { rules.isEmpty }

    /// The node a path leads to, and the most specific value rule at or above it.
    public func locate(_ path: FieldPath) -> (node: Int?, inherited: CompiledColumn?) {
        var node: Int? = Self.root
        var inherited: CompiledColumn? = nodes[Self.root].rule
        for segment in path.segments {
            guard let current = node else { break }
            switch segment {
            case let .key(name): node = nodes[current].child(name)
            case .anyKey: node = nodes[current].anyKey
            case .elements: node = nodes[current].elements
            }
            if let next = node, let rule = nodes[next].rule { inherited = rule }
        }
        return (node, inherited)
    }

    /// Which rule applies to a leaf value at `path` (a scalar, or a null or empty container when
    /// `holdsNothing`). The maskers walk the same tree node by node and decide the same way;
    /// this is the reference.
    public func coverage(of path: FieldPath, holdsNothing: Bool) -> Coverage {
        let (node, inherited) = locate(path)
        if let rule = inherited { return .rule(rule) }
        if let node, let rule = nodes[node].elementsRule { return .rule(rule) }
        guard holdsNothing else { return .unruled }
        // Nothing to mask, but a field off every rule path still copies its name, and a name can
        // be data: only a field the rules lead to (or an element of an array they lead to) may
        // hold nothing without a rule of its own.
        if path.segments.last == .elements {
            return locate(FieldPath(segments: Array(path.segments.dropLast()))).node != nil ? .holdsNothing : .unruled
        }
        return node != nil ? .holdsNothing : .unruled
    }

    /// The rule for the field names of the object at `path` (nil: names are copied as they are).
    public func keysRule(at path: FieldPath) -> CompiledColumn? {
        locate(path).node.flatMap { nodes[$0].keysRule }
    }
}

/// What compiled path rules must satisfy beyond each transformer's own options: one rule per
/// path, a `*` only under a `keys:` rule, no rules under a `null` (which replaces the whole
/// value), and field names that stay distinct.
enum PathRuleCheck {
    struct Entry {
        var path: FieldPath
        var column: CompiledColumn
    }

    static func problems(_ entries: [Entry], owner: String) -> [ConfigError] {
        var errors: [ConfigError] = []
        var seen: [String: CompiledColumn] = [:]
        for entry in entries {
            let spec = entry.column.transformer.spec
            let slot = (spec.appliesToKeys ? "keys:" : "") + entry.path.text
            if let earlier = seen[slot] {
                errors.append(ConfigError("\(owner) has two rules for \(spec.appliesToKeys ? "the field names of " : "")"
                                              + "'\(entry.path)' (the other at \(earlier.rule.location)); keep one",
                                          at: spec.location ?? entry.column.rule.location))
            }
            seen[slot] = entry.column
            if spec.appliesToKeys {
                let transformer = entry.column.transformer
                if transformer.role == .null || transformer.role == .constant || !transformer.isUnique {
                    errors.append(ConfigError(
                        "keys: of '\(entry.path)' in \(owner) must keep distinct field names distinct (two fields may "
                            + "not get one name); use keep, hash or another transformer that promises distinct outputs, "
                            + "or make the whole object null with '\(entry.path)': null",
                        at: spec.location))
                }
            }
        }
        let keyed = Set(entries.filter { $0.column.transformer.spec.appliesToKeys }.map(\.path.segments))
        let nulls = entries.filter { $0.column.transformer.isNull && !$0.column.transformer.spec.appliesToKeys }
        for entry in entries {
            for (index, segment) in entry.path.segments.enumerated() where segment == .anyKey {
                let map = Array(entry.path.segments.prefix(index))
                if !keyed.contains(map) {
                    let name = FieldPath(segments: map).text
                    errors.append(ConfigError(
                        "'\(entry.path)' in \(owner) uses * (any field name) but '\(name)' has no keys: rule; write "
                            + "'\(name)': { keys: hash } (or keys: keep) to say what happens to those field names",
                        at: entry.column.transformer.spec.location ?? entry.column.rule.location))
                }
            }
            if let null = nulls.first(where: { $0.path != entry.path && $0.path.contains(entry.path) }) {
                errors.append(ConfigError(
                    "'\(entry.path)' in \(owner) lies under '\(null.path)', which is null (the whole value becomes null), "
                        + "so this rule would never apply; remove one of them",
                    at: entry.column.transformer.spec.location ?? entry.column.rule.location))
            }
        }
        return errors
    }
}
