/// The leak check of values inside JSON columns and documents: the same row (or document) read
/// from the source and from the shadow copy is walked along the path rules, and every leaf a
/// masking rule covers is compared with the leaf at the same place in the copy (a field renamed
/// by a `keys:` rule is followed under its masked name). Field names under a `keys:` rule are
/// checked too: an original name still present in the copy is a leak.
enum PathLeakCheck {
    /// Searched and found, per rule (keyed by `slot`).
    struct Tally {
        var searched = 0
        var leaks = 0
    }

    static func slot(_ rule: CompiledColumn) -> String { (rule.masksFieldNames ? "keys:" : "") + rule.name }

    /// Compares one original with its copy; `nil` copy text: the row is missing from the copy
    /// (the count check reports that), nothing is compared.
    static func compare(original: String, copy: String?, tree: FieldPathRules, into tally: inout [String: Tally]) {
        guard let copy, let left = JSONValue.parse(original), let right = JSONValue.parse(copy) else { return }
        var walk = Walk(tree: tree, tally: tally)
        walk.compare(left, right, node: FieldPathRules.root, inherited: nil)
        tally = walk.tally
    }

    private struct Walk {
        let tree: FieldPathRules
        var tally: [String: Tally]

        mutating func compare(_ original: JSONValue, _ copy: JSONValue?, node: Int?, inherited: CompiledColumn?) {
            let here = node.map { tree.nodes[$0] }
            let rule = here?.rule ?? inherited
            if let rule, rule.isKeep, !(here?.needsWalk ?? false) { return }
            switch original {
            case let .object(fields) where !original.isTypeWrapper:
                let copied = copy?.fields
                let keysRule = here?.keysRule
                for (name, value) in fields {
                    var copiedName = name
                    if let keysRule, !keysRule.isKeep {
                        copiedName = (try? keysRule.transformer.mask(name)) ?? name
                        if copiedName != name {
                            tally[PathLeakCheck.slot(keysRule), default: Tally()].searched += 1
                            if copied?.contains(where: { $0.0 == name }) == true {
                                tally[PathLeakCheck.slot(keysRule), default: Tally()].leaks += 1
                            }
                        }
                    }
                    let child = here?.child(name)
                    compare(value, copied?.first { $0.0 == copiedName }?.1, node: child, inherited: rule)
                }
            case let .array(elements):
                let copied = copy?.elements
                for (index, element) in elements.enumerated() {
                    compare(element, copied.flatMap { index < $0.count ? $0[index] : nil }, node: here?.elements,
                            inherited: rule)
                }
            case .object:
                // An extended-JSON value (`{"$date": ...}`, `{"$binary": ...}`) is one value.
                guard let applied = rule ?? here?.elementsRule, !applied.isKeep else { return }
                let text = original.canonicalText
                tally[PathLeakCheck.slot(applied), default: Tally()].searched += 1
                if copy?.canonicalText == text, LeakCheck.canLeak(text, transformer: applied) {
                    tally[PathLeakCheck.slot(applied), default: Tally()].leaks += 1
                }
            case let .scalar(text, isString):
                guard let applied = rule ?? here?.elementsRule, !applied.isKeep, !text.isEmpty else { return }
                // Booleans and nulls carry no text a transformer masks; they are kept by design.
                guard isString || JSONScanner.isJSONNumber(text) else { return }
                tally[PathLeakCheck.slot(applied), default: Tally()].searched += 1
                if case let .scalar(copiedText, _)? = copy, copiedText == text, LeakCheck.canLeak(text, transformer: applied) {
                    tally[PathLeakCheck.slot(applied), default: Tally()].leaks += 1
                }
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
