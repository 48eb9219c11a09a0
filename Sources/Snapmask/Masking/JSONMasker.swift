/// Masks JSON text along a tree of path rules (`FieldPathRules`, the same semantics as document
/// collections), failing closed: every key of every object is checked against the rules, and a
/// value that no rule covers stops the run (unless the rule says `unlisted: keep`). What no rule
/// changes is copied byte for byte (spacing, key order, number spelling); a masked leaf keeps its
/// type:
///
/// | value | under a masking transformer |
/// |---|---|
/// | string | the transformer's output, as a string (NULL output: null) |
/// | number | masked when the transformer takes numbers (phone, digits, number_noise, ...) and its output is a number; otherwise the run stops |
/// | true/false | kept; `constant` must give true or false |
/// | null | kept (a string for `constant` with `replace_null`) |
///
/// `keep` keeps the value at its path whatever it is; `null` replaces it (object, array or leaf)
/// with null; a `keys:` rule masks the field names of the object at its path.
struct JSONMasker: Sendable {
    let tree: FieldPathRules
    /// `unlisted: keep`: values no rule covers are copied as they are.
    let keepUnruled: Bool

    /// Masking walks into every level of a masked subtree; deeper than this stops the value
    /// rather than the stack.
    static let maxDepth = 1_000

    func mask(_ text: String) throws(MaskingError) -> String {
        var source = text
        let outcome = source.withUTF8 { bytes -> Result<String?, MaskingError> in
            var walk = Walk(scanner: JSONScanner(bytes), tree: tree, keepUnruled: keepUnruled)
            do {
                walk.scanner.skipSpace()
                try walk.value(node: FieldPathRules.root, inherited: nil, depth: 0)
                walk.scanner.skipSpace()
                guard walk.scanner.atEnd else { throw JSONScanner.Failure(reason: "unexpected text after the JSON value") }
            } catch let failure as JSONScanner.Failure {
                return .failure(MaskingError("json", "\(shape(of: text)) is not valid JSON (\(failure.reason) at byte "
                                                 + "\(walk.scanner.position))"))
            } catch let error as MaskingError {
                return .failure(error)
            } catch {
                return .failure(MaskingError("json", "\(error)"))
            }
            return .success(walk.finish())
        }
        // Nil: nothing was replaced, the text is its own output.
        return try outcome.get() ?? text
    }

    private struct Walk {
        var scanner: JSONScanner
        let tree: FieldPathRules
        let keepUnruled: Bool
        var output: [UInt8] = []
        /// Input bytes before this index are already in `output`.
        var copied = 0
        /// The keys (nil: an array element) down to the current value, for messages.
        var path: [JSONScanner.Key?] = []

        init(scanner: JSONScanner, tree: FieldPathRules, keepUnruled: Bool) {
            self.scanner = scanner
            self.tree = tree
            self.keepUnruled = keepUnruled
            path.reserveCapacity(8)
        }

        var bytes: UnsafeBufferPointer<UInt8> { scanner.bytes }

        /// The masked text; nil when nothing in it was replaced.
        mutating func finish() -> String? {
            if copied == 0 && output.isEmpty { return nil }
            output.append(contentsOf: bytes[copied...])
            return String(decoding: output, as: UTF8.self)
        }

        /// Replaces the input from `start` to the current position with `replacement`.
        mutating func replace(from start: Int, with replacement: (inout [UInt8]) -> Void) {
            // The output is about as long as the input: one allocation, not one per doubling.
            if output.capacity == 0 { output.reserveCapacity(bytes.count + bytes.count / 4 + 16) }
            output.append(contentsOf: bytes[copied..<start])
            replacement(&output)
            copied = scanner.position
        }

        /// The value at the current position. `node` is its place in the rule tree (nil below the
        /// tree), `inherited` the most specific value rule above it.
        mutating func value(node: Int?, inherited: CompiledColumn?, depth: Int) throws {
            let here = node.map { tree.nodes[$0] }
            let rule = here?.rule ?? inherited
            if let rule, rule.transformer.isNull {
                let start = scanner.position
                try scanner.skipValue()
                replace(from: start) { $0.append(contentsOf: "null".utf8) }
                return
            }
            guard let here, here.needsWalk else {
                // One rule, or none, for all of the value.
                guard let rule else {
                    if !scanner.holdsNothing() && !keepUnruled {
                        throw unruled(try scanner.kind())
                    }
                    return try scanner.skipValue()
                }
                if rule.transformer.isKeep { return try scanner.skipValue() }
                return try maskAll(rule, depth: depth)
            }
            switch try scanner.kind() {
            case .object:
                if try scanner.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) { return }
                repeat {
                    let keyStart = scanner.position
                    let key = try scanner.key()
                    if let keysRule = here.keysRule, !keysRule.transformer.isKeep {
                        let keyEnd = scanner.position
                        guard let masked = try keysRule.transformer.mask(scanner.text(of: key)) else {
                            throw failure("the keys: rule wrote NULL for a field name")
                        }
                        output.append(contentsOf: bytes[copied..<keyStart])
                        JSONText.appendQuoted(masked, to: &output)
                        output.append(UInt8(ascii: ":"))
                        copied = keyEnd
                    }
                    path.append(key)
                    let next = child(of: here, key)
                    // Off every rule path a field is refused even when its value holds nothing:
                    // its name would be copied, and a name can be data (an email as a key).
                    if next == nil && rule == nil && !keepUnruled && scanner.holdsNothing() {
                        throw unruled(try scanner.kind())
                    }
                    try value(node: next, inherited: rule, depth: depth + 1)
                    path.removeLast()
                } while try scanner.next(closing: UInt8(ascii: "}"))
            case .array:
                if try scanner.open(UInt8(ascii: "["), closing: UInt8(ascii: "]")) { return }
                repeat {
                    path.append(nil)
                    try value(node: here.elements, inherited: rule, depth: depth + 1)
                    path.removeLast()
                } while try scanner.next(closing: UInt8(ascii: "]"))
            case .null:
                guard let rule else { return try scanner.skipValue() }
                try leaf(rule)
            case let kind:
                // A single value where the rules expect an array of them is masked by that rule;
                // where they expect fields inside it, it could hold what they mask: it stops.
                guard let applied = rule ?? here.elementsRule else {
                    if keepUnruled { return try scanner.skipValue() }
                    throw unruled(kind, because: "the rules expect \(expected(here)) here")
                }
                try leaf(applied)
            }
        }

        /// The rule tree's node for field `key` of the object at `node`: from the key's bytes
        /// where they decide it (no string made), else from its text.
        func child(of node: FieldPathRules.Node, _ key: JSONScanner.Key) -> Int? {
            if case let .inPlace(range) = key, let found = node.child(utf8: UnsafeBufferPointer(rebasing: bytes[range])) {
                return found
            }
            return node.child(scanner.text(of: key))
        }

        /// Masks every leaf of the value with one masking rule; keys and shape stay.
        mutating func maskAll(_ rule: CompiledColumn, depth: Int) throws {
            guard depth < JSONMasker.maxDepth else {
                throw failure("nested deeper than \(JSONMasker.maxDepth) levels; mask it with null or keep")
            }
            switch try scanner.kind() {
            case .object:
                if try scanner.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}")) { return }
                repeat {
                    path.append(try scanner.key())
                    try maskAll(rule, depth: depth + 1)
                    path.removeLast()
                } while try scanner.next(closing: UInt8(ascii: "}"))
            case .array:
                if try scanner.open(UInt8(ascii: "["), closing: UInt8(ascii: "]")) { return }
                repeat {
                    path.append(nil)
                    try maskAll(rule, depth: depth + 1)
                    path.removeLast()
                } while try scanner.next(closing: UInt8(ascii: "]"))
            default:
                try leaf(rule)
            }
        }

        /// Masks the scalar at the current position, keeping its type.
        mutating func leaf(_ rule: CompiledColumn) throws {
            let transformer = rule.transformer
            if transformer.isKeep { return try scanner.skipValue() }
            let start = scanner.position
            switch try scanner.kind() {
            case .string:
                if try maskASCII(rule, from: start) { return }
                let masked = try masking(rule) { try transformer.mask(try scanner.string()) }
                replace(from: start) { output in
                    if let masked { JSONText.appendQuoted(masked, to: &output) } else { output.append(contentsOf: "null".utf8) }
                }
            case .number:
                guard transformer.descriptor.accepts(.number) else {
                    throw failure("\(transformer.name) (the rule on \(rule.name)) cannot mask numbers; use a transformer that "
                                      + "takes numbers (\(SchemaCheck.fitting(.number).joined(separator: ", ")))")
                }
                let span = try scanner.number()
                let masked = try masking(rule) { try transformer.mask(String(decoding: bytes[span], as: UTF8.self)) }
                if let masked, !JSONScanner.isJSONNumber(masked) {
                    throw failure("\(transformer.name) turned a number into text that is not a number; the value must "
                                      + "keep its type")
                }
                replace(from: start) { $0.append(contentsOf: (masked ?? "null").utf8) }
            case .bool:
                let value = bytes[start] == UInt8(ascii: "t")
                try scanner.skipValue()
                guard transformer.role == .constant else { return }
                let masked = try masking(rule) { try transformer.mask(value ? "true" : "false") }
                guard masked == nil || masked == "true" || masked == "false" else {
                    throw failure("constant writes a value that is not true or false into a boolean; the value must keep its type")
                }
                replace(from: start) { $0.append(contentsOf: (masked ?? "null").utf8) }
            case .null:
                try scanner.skipValue()
                guard let masked = try masking(rule, { try transformer.mask(nil) }) else { return }
                replace(from: start) { JSONText.appendQuoted(masked, to: &$0) }
            case .object, .array:
                throw failure("expected a single value")
            }
        }

        /// A string that is ASCII with no escape, through a transformer that masks such values
        /// in place (`ASCIIMasking`): no strings made. False, with the scanner back at `start`,
        /// when the string path must mask it.
        mutating func maskASCII(_ rule: CompiledColumn, from start: Int) throws -> Bool {
            guard rule.transformer.masksASCIIInPlace, let span = scanner.plainASCIIString() else { return false }
            let value = UnsafeBufferPointer(rebasing: bytes[span])
            let capacity = max(1, rule.transformer.maskedLength(ofASCII: value.count))
            let written = try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
                let count: Int?
                do {
                    count = try rule.transformer.maskASCII(value, into: buffer)
                } catch {
                    throw failure("\(error)")
                }
                guard let count else { return false }
                replace(from: start) { JSONText.appendQuoted(UnsafeBufferPointer(rebasing: buffer[..<count]), to: &$0) }
                return true
            }
            if !written { scanner.position = start }
            return written
        }

        /// Runs a transformer, naming the path when it refuses the value.
        func masking(_ rule: CompiledColumn, _ body: () throws -> String?) throws -> String? {
            do {
                return try body()
            } catch let error as MaskingError {
                throw failure("\(error)")
            }
        }

        func expected(_ node: FieldPathRules.Node) -> String {
            node.elements != nil && (!node.keys.isEmpty || node.anyKey != nil) ? "an object or an array"
                : node.elements != nil ? "an array" : "an object"
        }

        func unruled(_ kind: JSONScanner.Kind, because: String? = nil) -> MaskingError {
            let text = pathText
            return MaskingError("json", "path \(text) has no rule (\(kind.name)\(because.map { "; \($0)" } ?? "")): add "
                                    + "\"\(text)\": keep (or a transformer) to the paths: of the json rule, or unlisted: keep "
                                    + "to copy what no rule names")
        }

        func failure(_ reason: String) -> MaskingError {
            MaskingError("json", "at path \(pathText): \(reason)")
        }

        /// Where the walk is, as a rule would name it; field names that may be data are shown as
        /// a digest (`FieldName.display`).
        var pathText: String {
            var text = ""
            for step in path {
                guard let step else {
                    text += "[]"
                    continue
                }
                if !text.isEmpty { text += "." }
                text += FieldName.display(scanner.text(of: step))
            }
            return text.isEmpty ? "(the whole value)" : text
        }
    }
}
