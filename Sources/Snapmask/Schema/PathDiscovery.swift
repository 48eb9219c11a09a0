/// Collects the field paths of a sample of documents (or JSON values) and the kinds of values
/// seen at each, for `check`. Arrays add `[]` to the path (`recipients[].email`); null, `{}` and
/// `[]` are leaves that hold nothing.
///
/// An object whose field names are data — a map keyed by user names, emails or phone numbers —
/// shows up as many distinct names, each in few objects. Such a level is reported once, as a
/// path with `distinctKeys` (its names need a `keys:` rule), and the paths below it are merged
/// under `*` (`read_by.*.at`), so 1,800 user names make one line, not 1,800.
public struct PathDiscovery {
    /// A place in the tree of paths seen so far.
    public typealias Cursor = Int

    /// A level counts as a map from this many distinct field names...
    static let mapMinimumNames = 32
    /// ...when a name appears on average in at most this share of the objects there (or in at
    /// most two): fixed fields recur in most objects, data keys in few.
    static let mapShare = 0.1
    /// Distinct names kept per level; more are counted but merged into one.
    static let namesPerLevel = 4_096

    struct Node {
        var keys: [String: Int] = [:]
        var keyOrder: [String] = []
        /// Names beyond `namesPerLevel` go here.
        var overflow: Int?
        var overflowNames = 0
        var elements: Int?
        var types: [(name: String, category: ValueCategory?)] = []
        /// Objects seen at this path, and fields counted in them.
        var objects = 0
        var fieldOccurrences = 0
        /// A few values seen here, for `scan` (kept in memory only, never in a schema shape).
        var values: [String] = []
    }

    /// Values kept per path for `scan`; 0 keeps none (what `check` and restores use).
    public var valuesPerPath = 0

    private var nodes = [Node()]
    public private(set) var documents = 0

    public static let root: Cursor = 0

    public init() {}

    /// Starts a document (or JSON value); its root is `root`.
    public mutating func beginDocument() {
        documents += 1
    }

    /// An object is at `cursor` (its fields follow through `child`).
    public mutating func object(at cursor: Cursor) {
        nodes[cursor].objects += 1
    }

    /// The field `key` of the object at `parent`.
    public mutating func child(_ parent: Cursor, key: String) -> Cursor {
        nodes[parent].fieldOccurrences += 1
        if let known = nodes[parent].keys[key] { return known }
        if nodes[parent].keys.count >= Self.namesPerLevel {
            nodes[parent].overflowNames += 1
            if let overflow = nodes[parent].overflow { return overflow }
            nodes.append(Node())
            nodes[parent].overflow = nodes.count - 1
            return nodes.count - 1
        }
        nodes.append(Node())
        nodes[parent].keys[key] = nodes.count - 1
        nodes[parent].keyOrder.append(key)
        return nodes.count - 1
    }

    /// The elements of the array at `parent`.
    public mutating func elements(_ parent: Cursor) -> Cursor {
        if let known = nodes[parent].elements { return known }
        nodes.append(Node())
        nodes[parent].elements = nodes.count - 1
        return nodes.count - 1
    }

    /// A leaf value of this type at `cursor` (`category` nil for values that hold nothing).
    public mutating func leaf(_ cursor: Cursor, type name: String, category: ValueCategory?, value: String? = nil) {
        if let value, nodes[cursor].values.count < valuesPerPath { nodes[cursor].values.append(value) }
        if !nodes[cursor].types.contains(where: { $0.name == name }) {
            nodes[cursor].types.append((name, category))
        }
    }

    /// The discovered paths as columns, in the order first seen. `required` paths (`_id`) can
    /// never be null. `topMayBeMap`: a JSON value may be a map at its top; a document never is.
    public func columns(required: Set<String> = [], topMayBeMap: Bool = true) -> [ColumnShape] {
        var columns: [ColumnShape] = []
        var values: [String: [String]] = [:]
        walk([Self.root], segments: [], required: required, topMayBeMap: topMayBeMap, into: &columns, values: &values)
        return columns
    }

    /// The columns with the values kept for each (`valuesPerPath`), for `scan`.
    public func columnsWithValues(required: Set<String> = [], topMayBeMap: Bool = true) -> [(ColumnShape, [String])] {
        var columns: [ColumnShape] = []
        var values: [String: [String]] = [:]
        walk([Self.root], segments: [], required: required, topMayBeMap: topMayBeMap, into: &columns, values: &values)
        return columns.map { ($0, values[$0.name] ?? []) }
    }

    /// Walks a group of nodes as one: below a map, the subtrees of all its names merge.
    private func walk(_ group: [Int], segments: [FieldPath.Segment], required: Set<String>, topMayBeMap: Bool = true,
                      into columns: inout [ColumnShape], values: inout [String: [String]]) {
        let text = FieldPath.text(of: segments)
        var types: [(name: String, category: ValueCategory?)] = []
        for node in group {
            for type in nodes[node].types where !types.contains(where: { $0.name == type.name }) { types.append(type) }
        }
        if !types.isEmpty {
            columns.append(DocumentPathShape.column(path: text, types: types, required: required.contains(text)))
            let kept = group.flatMap { nodes[$0].values }
            if !kept.isEmpty { values[text] = kept }
        }
        var order: [String] = []
        var children: [String: [Int]] = [:]
        var overflow: [Int] = []
        var objects = 0, occurrences = 0, overflowNames = 0
        for node in group {
            objects += nodes[node].objects
            occurrences += nodes[node].fieldOccurrences
            overflowNames += nodes[node].overflowNames
            for name in nodes[node].keyOrder {
                if children[name] == nil { order.append(name) }
                children[name, default: []].append(nodes[node].keys[name]!)
            }
            if let node = nodes[node].overflow { overflow.append(node) }
        }
        let distinct = order.count + overflowNames
        // A few objects cannot tell a wide record from a map, unless the names are very many.
        let isMap = distinct >= Self.mapMinimumNames
            && Double(occurrences) / Double(max(1, distinct)) <= max(2, Self.mapShare * Double(objects))
            && (objects >= 3 || distinct >= Self.mapMinimumNames * 8)
            && (topMayBeMap || !segments.isEmpty)
        if isMap {
            columns.append(ColumnShape(name: text, typeName: "object keyed by data (\(distinct) field names in \(objects) "
                                           + "objects)", category: .other, distinctKeys: distinct))
            let all = order.flatMap { children[$0]! } + overflow
            walk(all, segments: segments + [.anyKey], required: required, into: &columns, values: &values)
        } else if !segments.isEmpty && order.contains(where: Self.unnameable) {
            // A field name no rule can spell makes the object one opaque leaf: only a rule on it
            // (keep, null) or above it can cover it.
            columns.append(ColumnShape(name: text, typeName: "object with field names holding '.', '[' or ']'",
                                       category: .other))
        } else {
            for name in order {
                let childSegments: [FieldPath.Segment]
                if segments.isEmpty && Self.unnameable(name) {
                    // At the top no enclosing rule exists: the path cannot parse, and check says so.
                    columns.append(ColumnShape(name: "[\(FieldName.display(name))]", typeName: "a field whose name holds "
                                                   + "'.', '[' or ']'", category: .other))
                    continue
                }
                childSegments = segments + [.key(name)]
                walk(children[name]!, segments: childSegments, required: required, into: &columns, values: &values)
            }
            if !overflow.isEmpty { walk(overflow, segments: segments + [.anyKey], required: required, into: &columns, values: &values) }
        }
        let elements = group.compactMap { nodes[$0].elements }
        if !elements.isEmpty { walk(elements, segments: segments + [.elements], required: required, into: &columns, values: &values) }
    }

    static func unnameable(_ key: String) -> Bool {
        key.isEmpty || key == "*" || key.contains(".") || key.contains("[") || key.contains("]")
    }
}

extension PathDiscovery {
    /// Adds one JSON text's paths. Text that is not JSON is skipped: the column holds it, and
    /// the masker refuses it while streaming.
    public mutating func add(json text: String) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBufferPointer { buffer in
            var scanner = JSONScanner(UnsafeBufferPointer(buffer))
            beginDocument()
            scanner.skipSpace()
            try? add(&scanner, at: Self.root, depth: 0)
        }
    }

    static let jsonMaxDepth = 200

    private mutating func add(_ scanner: inout JSONScanner, at cursor: Cursor, depth: Int) throws {
        let kind = try scanner.kind()
        switch kind {
        case .object where !scanner.holdsNothing() && depth < Self.jsonMaxDepth:
            object(at: cursor)
            _ = try scanner.open(UInt8(ascii: "{"), closing: UInt8(ascii: "}"))
            repeat {
                let key = try scanner.key()
                try add(&scanner, at: child(cursor, key: scanner.text(of: key)), depth: depth + 1)
            } while try scanner.next(closing: UInt8(ascii: "}"))
        case .array where !scanner.holdsNothing() && depth < Self.jsonMaxDepth:
            _ = try scanner.open(UInt8(ascii: "["), closing: UInt8(ascii: "]"))
            let inner = elements(cursor)
            repeat {
                try add(&scanner, at: inner, depth: depth + 1)
            } while try scanner.next(closing: UInt8(ascii: "]"))
        default:
            let empty = scanner.holdsNothing()
            let start = scanner.position
            var text: String?
            if valuesPerPath > 0 && kind == .string { text = try? scanner.string() } else { try scanner.skipValue() }
            if kind == .string && text == nil { scanner.position = start; try scanner.skipValue() }
            if kind == .number { text = String(decoding: scanner.bytes[start..<scanner.position], as: UTF8.self) }
            switch kind {
            case .object: leaf(cursor, type: empty ? "empty object" : "object nested too deep", category: empty ? nil : .other)
            case .array: leaf(cursor, type: empty ? "empty array" : "array nested too deep", category: empty ? nil : .other)
            case .string: leaf(cursor, type: "string", category: .text, value: text)
            case .number: leaf(cursor, type: "number", category: .number, value: text)
            case .bool: leaf(cursor, type: "boolean", category: .boolean)
            case .null: leaf(cursor, type: "null", category: nil)
            }
        }
    }
}
