/// The leak check of values inside JSON columns and documents: the same row (or document) read
/// from the source and from the shadow copy is walked along the path rules, and every leaf a
/// masking rule covers is compared with the leaf at the same place in the copy (a field renamed
/// by a `keys:` rule is followed under its masked name). Field names under a `keys:` rule are
/// checked too: an original name still present in the copy is a leak.
///
/// The walk of the original is separate from the comparison (`probes`, then `Copy.texts`), so
/// that a sanitized snapshot can record where each original leaf goes while the source is at
/// hand, and compare the restored copy with it later, without the original or the transformers.
public enum PathLeakCheck {
    /// Searched and found, per rule (keyed by `slot`).
    public struct Tally: Sendable {
        public var searched = 0
        public var leaks = 0

        public init(searched: Int = 0, leaks: Int = 0) {
            self.searched = searched
            self.leaks = leaks
        }
    }

    /// The name under which a rule's results are gathered (its `keys:` part apart from its values).
    public static func slot(_ rule: CompiledColumn) -> String { (rule.masksFieldNames ? "keys:" : "") + rule.name }

    /// One step from a JSON value to one inside it, as the copy spells it. Encoded as the field
    /// name (a string) or the index (a number).
    public enum Step: Sendable, Hashable, Codable {
        case field(String)
        case index(Int)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let index = try? container.decode(Int.self) {
                self = .index(index)
            } else {
                self = .field(try container.decode(String.self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .field(name): try container.encode(name)
            case let .index(index): try container.encode(index)
            }
        }
    }

    /// What is compared at a place of the copy.
    public enum Kind: String, Sendable, Codable {
        /// A string or number leaf: its text.
        case value
        /// An extended-JSON typed value (`{"$date": ...}`): the whole value as canonical JSON.
        case whole
        /// The field names of the object there (a `keys:` rule): the original name must be gone.
        case fieldNames
    }

    /// Where in the copy an original leaf (or field name) a masking rule covers must not reappear.
    public struct Place: Sendable, Hashable, Codable {
        public var location: [Step]
        public var kind: Kind

        public init(location: [Step], kind: Kind) {
            self.location = location
            self.kind = kind
        }
    }

    /// One original leaf or field name, the rule that masks it and its place in the copy.
    public struct Probe: Sendable {
        public var rule: CompiledColumn
        public var place: Place
        /// The original text (a leaf's text, a typed value's canonical JSON, or a field name).
        public var original: String
        /// False when the rule's transformer maps this original to itself: finding it is no leak.
        public var canLeak: Bool
    }

    /// Every place of `original` (JSON text) that a masking rule of `tree` covers; none when the
    /// text is not JSON. Needs the transformers (to follow renamed field names and to tell
    /// values a transformer keeps), so it runs where the originals are: at the source.
    public static func probes(original: String, tree: FieldPathRules) -> [Probe] {
        guard let value = JSONValue.parse(original) else { return [] }
        var walk = Walk(tree: tree)
        walk.visit(value, location: [], node: FieldPathRules.root, inherited: nil)
        return walk.probes
    }

    /// A copy (JSON text) parsed once and looked up at many places.
    public struct Copy: Sendable {
        private let root: JSONValue?

        /// Nil text or text that is not JSON: a copy with nothing in it.
        public init(_ text: String?) {
            root = text.flatMap(JSONValue.parse)
        }

        public var isEmpty: Bool { root == nil }

        /// What the copy holds at the place: the leaf's text (`value`: only a string or number),
        /// the value as canonical JSON (`whole`), or the object's field names (`fieldNames`);
        /// empty when the copy has nothing there.
        public func texts(at place: Place) -> [String] {
            var node = root
            for step in place.location {
                switch step {
                case let .field(name): node = node?.fields?.first { $0.0 == name }?.1
                case let .index(index): node = node?.elements.flatMap { index < $0.count ? $0[index] : nil }
                }
            }
            guard let node else { return [] }
            switch place.kind {
            case .value:
                if case let .scalar(text, _) = node { return [text] }
                return []
            case .whole: return [node.canonicalText]
            case .fieldNames: return node.fields?.map(\.0) ?? []
            }
        }
    }

    /// Compares one original with its copy; `nil` copy text: the row is missing from the copy
    /// (the count check reports that), nothing is compared.
    public static func compare(original: String, copy: String?, tree: FieldPathRules, into tally: inout [String: Tally]) {
        let copied = Copy(copy)
        guard !copied.isEmpty else { return }
        for probe in probes(original: original, tree: tree) {
            tally[slot(probe.rule), default: Tally()].searched += 1
            if probe.canLeak && copied.texts(at: probe.place).contains(probe.original) {
                tally[slot(probe.rule), default: Tally()].leaks += 1
            }
        }
    }

    private struct Walk {
        let tree: FieldPathRules
        var probes: [Probe] = []

        init(tree: FieldPathRules) {
            self.tree = tree
        }

        mutating func visit(_ original: JSONValue, location: [Step], node: Int?, inherited: CompiledColumn?) {
            let here = node.map { tree.nodes[$0] }
            let rule = here?.rule ?? inherited
            if let rule, rule.isKeep, !(here?.needsWalk ?? false) { return }
            switch original {
            case let .object(fields) where !original.isTypeWrapper:
                let keysRule = here?.keysRule
                for (name, value) in fields {
                    var copiedName = name
                    if let keysRule, !keysRule.isKeep {
                        copiedName = (try? keysRule.transformer.mask(name)) ?? name
                        if copiedName != name {
                            probes.append(Probe(rule: keysRule, place: Place(location: location, kind: .fieldNames),
                                                original: name, canLeak: true))
                        }
                    }
                    visit(value, location: location + [.field(copiedName)], node: here?.child(name), inherited: rule)
                }
            case let .array(elements):
                for (index, element) in elements.enumerated() {
                    visit(element, location: location + [.index(index)], node: here?.elements, inherited: rule)
                }
            case .object:
                // An extended-JSON value (`{"$date": ...}`, `{"$binary": ...}`) is one value.
                guard let applied = rule ?? here?.elementsRule, !applied.isKeep else { return }
                let text = original.canonicalText
                probes.append(Probe(rule: applied, place: Place(location: location, kind: .whole), original: text,
                                    canLeak: LeakCheck.canLeak(text, transformer: applied)))
            case let .scalar(text, isString):
                guard let applied = rule ?? here?.elementsRule, !applied.isKeep, !text.isEmpty else { return }
                // Booleans and nulls carry no text a transformer masks; they are kept by design.
                guard isString || JSONScanner.isJSONNumber(text) else { return }
                probes.append(Probe(rule: applied, place: Place(location: location, kind: .value), original: text,
                                    canLeak: LeakCheck.canLeak(text, transformer: applied)))
            }
        }
    }
}

/// A JSON value held whole, for comparisons of small samples (not for the copy's hot path).
indirect enum JSONValue {
    case object([(String, JSONValue)])
    case array([JSONValue])
    /// Strings unescaped; other scalars as spelled.
    case scalar(String, isString: Bool)

    var fields: [(String, JSONValue)]? {
        if case let .object(fields) = self { return fields }
        return nil
    }

    var elements: [JSONValue]? {
        if case let .array(elements) = self { return elements }
        return nil
    }

    static let maxDepth = 200

    /// An object whose field names all start with `$`: how extended JSON spells one typed value.
    var isTypeWrapper: Bool {
        guard let fields, !fields.isEmpty else { return false }
        return fields.allSatisfy { $0.0.hasPrefix("$") }
    }

    /// The value as compact JSON text with its keys in order, for comparing whole values.
    var canonicalText: String {
        switch self {
        case let .object(fields):
            return "{" + fields.map { JSONText.quoted($0.0) + ":" + $0.1.canonicalText }.joined(separator: ",") + "}"
        case let .array(elements): return "[" + elements.map(\.canonicalText).joined(separator: ",") + "]"
        case let .scalar(text, isString): return isString ? JSONText.quoted(text) : text
        }
    }

    static func parse(_ text: String) -> JSONValue? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var scanner = JSONScanner(UnsafeBufferPointer(buffer))
            scanner.skipSpace()
            return try? value(&scanner, depth: 0)
        }
    }

    private static func value(_ scanner: inout JSONScanner, depth: Int) throws -> JSONValue {
        guard depth < maxDepth else { throw JSONScanner.Failure(reason: "nested too deep") }
        switch try scanner.kind() {
        case .object:
            var fields: [(String, JSONValue)] = []
            if try scanner.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) { return .object(fields) }
            repeat {
                let key = scanner.text(of: try scanner.key())
                fields.append((key, try value(&scanner, depth: depth + 1)))
            } while try scanner.next(closing: UInt8(ascii: "}"))
            return .object(fields)
        case .array:
            var elements: [JSONValue] = []
            if try scanner.open(UInt8(ascii: "["), closing: UInt8(ascii: "]")) { return .array(elements) }
            repeat {
                elements.append(try value(&scanner, depth: depth + 1))
            } while try scanner.next(closing: UInt8(ascii: "]"))
            return .array(elements)
        case .string:
            return .scalar(try scanner.string(), isString: true)
        default:
            let start = scanner.position
            try scanner.skipValue()
            return .scalar(String(decoding: scanner.bytes[start..<scanner.position], as: UTF8.self), isString: false)
        }
    }
}
