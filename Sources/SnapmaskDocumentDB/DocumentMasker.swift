import CMongoC
import Foundation
import Snapmask

/// A document holding a value the rules do not allow to be copied: a path without a rule (while
/// `unlisted: fail`), or a value its transformer cannot mask. The run stops; the message names
/// the collection, the path and the document's position in the copy. Neither the value nor the
/// `_id` is printed (an `_id` may be an email or a phone number): only a digest of the `_id`, to
/// tell documents apart, and field names that may be data appear as digests too.
public struct DocumentMaskingError: Error, Sendable, CustomStringConvertible {
    public var collection: String
    public var path: String
    /// The document's `_id` as relaxed extended JSON (never printed).
    public var id: String
    public var reason: String
    /// The document's position in the copy (0-based).
    public var document: Int

    public var description: String {
        "\(collection), document \(document + 1) of the copy (_id digest \(Fingerprint.hex(id))), path \(path): \(reason)"
    }
}

/// One rule as the masker applies it.
final class MaskRule: Sendable {
    let column: CompiledColumn
    /// Stored on its own: reaching it through `column` would copy the whole rule per value.
    let transformer: CompiledTransformer
    let isKeep: Bool
    let isNull: Bool
    let isConstant: Bool
    let acceptsNumbers: Bool
    let acceptsDates: Bool
    let acceptsUUIDs: Bool

    init(_ column: CompiledColumn) {
        self.column = column
        transformer = column.transformer
        isKeep = transformer.isKeep
        isNull = transformer.isNull
        isConstant = transformer.role == .constant
        acceptsNumbers = transformer.descriptor.accepts(.number)
        acceptsDates = transformer.descriptor.accepts(.timestamp)
        acceptsUUIDs = transformer.descriptor.accepts(.uuid)
    }

    /// A field name through a `keys:` rule, as BSON can hold it: no NUL, no `.`, no leading `$`
    /// (the server would refuse or misread such a name).
    func maskKey(_ name: String) throws -> [UInt8] {
        guard let masked = try transformer.mask(name) else {
            throw ValueMasking.TypeFailure(reason: "the keys: rule wrote NULL for a field name")
        }
        let bytes = Array(masked.utf8)
        guard !bytes.isEmpty, !bytes.contains(0), !bytes.contains(UInt8(ascii: ".")), bytes.first != UInt8(ascii: "$") else {
            throw ValueMasking.TypeFailure(reason: "the keys: rule (\(transformer.name)) wrote a field name that is empty or "
                                               + "holds '.', '$' or NUL; use hash")
        }
        return bytes
    }
}

/// `FieldPathRules` laid out flat in memory for the walk: per node, its rule, its children in an
/// open-addressing table keyed by a hash of the field name, and its `[]` child.
final class MaskTree: @unchecked Sendable {
    // Immutable after init; the raw storage is freed in deinit.
    struct Node {
        var rule: Int32 = -1
        /// The rule for the field names of the object here (`keys:`), -1 for none.
        var keysRule: Int32 = -1
        /// The child for any field name (`*`), -1 for none.
        var anyKeyChild: Int32 = -1
        var elementsChild: Int32 = -1
        var elementsRule: Int32 = -1
        var hasRulesBelow = false
        var keepsAll = false
        var tableOffset: Int32 = 0
        var tableMask: Int32 = -1
        var keyOffset: Int32 = 0
        var keyLength: Int32 = 0
        /// The key's first eight bytes, little-endian (the whole key when it is that short).
        var word: UInt64 = 0
    }

    let rules: [MaskRule]
    let nodes: UnsafeMutablePointer<Node>
    let nodeCount: Int
    let table: UnsafeMutablePointer<Int32>
    let keys: UnsafeMutablePointer<UInt8>
    /// Every rule is `keep`.
    let keepsEverything: Bool

    init(_ paths: FieldPathRules) {
        var ruleIndex: [String: Int32] = [:]
        var rules: [MaskRule] = []
        func index(of column: CompiledColumn?) -> Int32 {
            guard let column else { return -1 }
            let slot = (column.transformer.spec.appliesToKeys ? "keys:" : "") + column.name
            if let known = ruleIndex[slot] { return known }
            rules.append(MaskRule(column))
            ruleIndex[slot] = Int32(rules.count - 1)
            return Int32(rules.count - 1)
        }
        var nodes = [Node](repeating: Node(), count: paths.nodes.count)
        var table: [Int32] = []
        var keys: [UInt8] = []
        var names = [[UInt8]](repeating: [], count: paths.nodes.count)
        for node in paths.nodes {
            for (name, child) in node.keys { names[child] = Array(name.utf8) }
        }
        for (position, node) in paths.nodes.enumerated() {
            var info = Node()
            info.rule = index(of: node.rule)
            info.keysRule = index(of: node.keysRule)
            info.anyKeyChild = node.anyKey.map(Int32.init) ?? -1
            info.elementsChild = node.elements.map(Int32.init) ?? -1
            info.elementsRule = index(of: node.elementsRule)
            info.hasRulesBelow = node.hasRulesBelow
            info.keyOffset = Int32(keys.count)
            info.keyLength = Int32(names[position].count)
            info.word = Self.word(names[position])
            keys.append(contentsOf: names[position])
            if !node.keys.isEmpty {
                var size = 4
                while size < node.keys.count * 2 { size *= 2 }
                info.tableOffset = Int32(table.count)
                info.tableMask = Int32(size - 1)
                var slots = [Int32](repeating: -1, count: size)
                for (_, child) in node.keys {
                    var slot = Self.slot(Self.word(names[child]), names[child].count, mask: size - 1)
                    while slots[slot] >= 0 { slot = (slot + 1) & (size - 1) }
                    slots[slot] = Int32(child)
                }
                table.append(contentsOf: slots)
            }
            nodes[position] = info
        }
        for position in nodes.indices where nodes[position].rule >= 0 {
            nodes[position].keepsAll = rules[Int(nodes[position].rule)].isKeep && !nodes[position].hasRulesBelow
                && nodes[position].keysRule < 0
        }
        self.rules = rules
        nodeCount = nodes.count
        self.nodes = .allocate(capacity: max(1, nodes.count))
        self.nodes.initialize(from: nodes, count: nodes.count)
        self.table = .allocate(capacity: max(1, table.count))
        self.table.initialize(from: table, count: table.count)
        self.keys = .allocate(capacity: max(1, keys.count))
        self.keys.initialize(from: keys, count: keys.count)
        keepsEverything = rules.allSatisfy { $0.isKeep && !$0.transformer.spec.appliesToKeys }
    }

    deinit {
        nodes.deallocate()
        table.deallocate()
        keys.deallocate()
    }

    /// The first eight bytes of a key as the walk gathers them while it looks for the key's end.
    static func word(_ bytes: [UInt8]) -> UInt64 {
        var word: UInt64 = 0
        for (index, byte) in bytes.prefix(8).enumerated() { word |= UInt64(byte) << (8 * UInt64(index)) }
        return word
    }

    /// A key's slot in its parent's table, from its first eight bytes and its length.
    @inline(__always)
    static func slot(_ word: UInt64, _ length: Int, mask: Int) -> Int {
        Int(truncatingIfNeeded: ((word &+ UInt64(length)) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// Field names are short: a plain loop beats a call to memcmp.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        var index = 0
        while index < count {
            if a[index] != b.load(fromByteOffset: index, as: UInt8.self) { return false }
            index += 1
        }
        return true
    }

    /// The child of `node` named by the key at `key` (length `length`, first bytes `word`), else
    /// its `*` child, or -1.
    @inline(__always)
    func child(of node: Int32, key: UnsafeRawPointer, length: Int, word: UInt64) -> Int32 {
        let info = nodes[Int(node)]
        if info.tableMask < 0 { return info.anyKeyChild }
        var slot = Self.slot(word, length, mask: Int(info.tableMask))
        while true {
            let candidate = table[Int(info.tableOffset) + slot]
            if candidate < 0 { return info.anyKeyChild }
            let child = nodes[Int(candidate)]
            if child.word == word && Int(child.keyLength) == length
                && (length <= 8 || Self.equal(keys + Int(child.keyOffset) + 8, key + 8, length - 8)) {
                return candidate
            }
            slot = (slot + 1) & Int(info.tableMask)
        }
    }
}

/// Masks batches of concatenated BSON documents. Each document is walked element by element
/// along the rule tree: kept elements are copied as raw bytes (runs of them in one copy), only
/// masked values are decoded and encoded, and every path is checked against the rules so that
/// a field the sample did not show stops the run instead of being copied (while `unlisted: fail`).
public struct DocumentMasker: BatchMasker {
    let collection: String
    let tree: MaskTree
    let unlistedKeep: Bool

    public init(collection: String, rules: CompiledTable?, unlisted: UnlistedPolicy) {
        self.collection = collection
        tree = MaskTree(FieldPathRules(rules))
        unlistedKeep = unlisted == .keep
    }

    public init(plan: TablePlan, unlisted: UnlistedPolicy) {
        self.init(collection: plan.name, rules: plan.rule, unlisted: unlisted)
    }

    /// Nothing to check and nothing to mask: batches pass through untouched.
    public var masksNothing: Bool { unlistedKeep && tree.keepsEverything }

    public func mask(_ batch: RowBatch) throws -> RowBatch {
        if masksNothing { return batch }
        var output = BSONWriter(capacity: batch.data.count + batch.data.count / 8 + 64)
        var unchanged = true
        try batch.data.withUnsafeBytes { raw in
            let reader = BSONReader(raw)
            var walk = Walk(reader: reader, tree: tree, unlistedKeep: unlistedKeep)
            defer { walk.release() }
            var position = 0
            var document = batch.firstRow
            while position < raw.count {
                let end: Int
                do {
                    end = try reader.documentEnd(at: position, limit: raw.count)
                } catch {
                    throw DocumentMaskingError(collection: collection, path: "(document)", id: "(unreadable)",
                                               reason: "\(error)", document: document)
                }
                do {
                    try walk.document(start: position, end: end, into: &output)
                } catch let failure as Walk.Failure {
                    throw DocumentMaskingError(collection: collection, path: failure.path,
                                               id: Self.idText(reader, document: position), reason: failure.reason,
                                               document: document)
                }
                position = end
                document += 1
            }
            unchanged = walk.pending == 0
            if !unchanged { output.append(reader.bytes(walk.pending..<raw.count)) }
        }
        // Nothing was masked: the batch goes on as it came (the walk still checked every path).
        if unchanged { return batch }
        return RowBatch(data: output.bytes, rowCount: batch.rowCount, firstRow: batch.firstRow)
    }

    /// The `_id` of the document at `start` as relaxed extended JSON, for messages.
    static func idText(_ reader: BSONReader, document start: Int) -> String {
        var found: BSONElement?
        try? reader.forEachElement(ofDocumentAt: start) { element in
            if found == nil, element.keyEnd - element.keyStart == 3, reader.key(element) == "_id" { found = element }
        }
        guard let element = found else { return "(none)" }
        var writer = BSONWriter()
        let begin = writer.beginDocument()
        writer.append(reader.bytes(element.start..<element.end))
        writer.endDocument(begin)
        guard let json = try? BSONDocument(bytes: writer.bytes).json else { return "(unreadable)" }
        // `{ "_id" : VALUE }` → VALUE
        var text = Substring(json)
        if let colon = text.firstIndex(of: ":") { text = text[text.index(after: colon)...] }
        if text.hasSuffix("}") { text = text.dropLast() }
        return text.trimmingCharacters(in: .whitespaces)
    }

    /// The walk over one batch's documents. Output is written lazily: a document or array in
    /// which nothing changes is never copied on its own but stays part of the enclosing run of
    /// unchanged input bytes, so a batch without any masked value costs one check per element and
    /// no copy at all, and a masked document costs a few copies around its masked values.
    struct Walk {
        struct Failure: Error {
            var path: String
            var reason: String
        }

        /// A document or array being walked.
        struct Level {
            /// Where its length field is.
            var start: Int
            /// Input from here on is not in the output yet.
            var pending: Int
            /// Where its length goes in the output, once something in it changed (-1 before).
            var begin: Int
            /// Its key in the enclosing container, for messages.
            var key: Range<Int>
            var inArray: Bool
        }

        let reader: BSONReader
        let tree: MaskTree
        let unlistedKeep: Bool
        /// The containers from the document down to the current one (a plain stack: no
        /// copy-on-write checks in the walk). Freed by `release()`.
        var levels: UnsafeMutablePointer<Level>
        var depth = 0
        var capacity = 32
        /// Input of the batch from here on is not in the output yet (documents left unchanged).
        var pending = 0

        init(reader: BSONReader, tree: MaskTree, unlistedKeep: Bool) {
            self.reader = reader
            self.tree = tree
            self.unlistedKeep = unlistedKeep
            levels = .allocate(capacity: capacity)
        }

        func release() { levels.deallocate() }

        @inline(__always)
        mutating func push(_ level: Level) {
            if depth == capacity {
                let larger = UnsafeMutablePointer<Level>.allocate(capacity: capacity * 2)
                larger.moveInitialize(from: levels, count: depth)
                levels.deallocate()
                levels = larger
                capacity *= 2
            }
            (levels + depth).initialize(to: level)
            depth += 1
        }

        @inline(__always)
        mutating func pop() -> Level {
            depth -= 1
            return (levels + depth).move()
        }

        mutating func document(start: Int, end: Int, into output: inout BSONWriter) throws {
            if depth > 0 { (levels).deinitialize(count: depth) }
            depth = 0
            if try container(start: start, end: end, node: 0, rule: -1, isArray: false, key: 0..<0, inArray: false,
                             into: &output) {
                pending = end
            }
        }

        /// Starts writing every enclosing container that has not been written yet: their unchanged
        /// bytes so far, up to the current one.
        @inline(__always)
        mutating func materialize(into output: inout BSONWriter) {
            guard levels[depth - 1].begin < 0 else { return }
            var first = depth - 1
            while first > 0 && levels[first - 1].begin < 0 { first -= 1 }
            for index in first..<depth {
                let from = index == 0 ? pending : levels[index - 1].pending
                output.append(reader.bytes(from..<levels[index].start))
                if index == 0 { pending = -1 } else { levels[index - 1].pending = -1 }
                levels[index].begin = output.beginDocument()
            }
        }

        /// Walks the document or array at `start..<end`; `node` is its place in the rule tree (-1
        /// below the tree), `rule` the rule that applies to it (-1 none). Returns whether it was
        /// written to the output (something in it changed).
        mutating func container(start: Int, end: Int, node: Int32, rule: Int32, isArray: Bool, key: Range<Int>,
                                inArray: Bool, into output: inout BSONWriter) throws -> Bool {
            push(Level(start: start, pending: start + 4, begin: -1, key: key, inArray: inArray))
            let level = depth - 1
            let limit = end - 1
            var position = start + 4
            let base = reader.base
            let arrayChild: Int32 = isArray && node >= 0 ? tree.nodes[Int(node)].elementsChild : -1
            while position < limit {
                let type = base.load(fromByteOffset: position, as: UInt8.self)
                // The key; its first eight bytes are gathered while its end is found.
                let keyStart = position + 1
                var keyEnd = keyStart
                var word: UInt64 = 0
                while keyEnd < limit {
                    let byte = base.load(fromByteOffset: keyEnd, as: UInt8.self)
                    if byte == 0 { break }
                    if keyEnd - keyStart < 8 { word |= UInt64(byte) << UInt64((keyEnd - keyStart) << 3) }
                    keyEnd += 1
                }
                guard keyEnd < limit else { throw BSONFormatError(reason: "a key is not terminated") }
                let valueStart = keyEnd + 1
                let elementEnd = try reader.valueEnd(type: type, at: valueStart, limit: limit)

                let child: Int32
                if isArray {
                    child = arrayChild
                } else if node >= 0 {
                    child = tree.child(of: node, key: base + keyStart, length: keyEnd - keyStart, word: word)
                } else {
                    child = -1
                }
                let childRule = child >= 0 && tree.nodes[Int(child)].rule >= 0 ? tree.nodes[Int(child)].rule : rule
                // Under a map rule the field name itself goes through its `keys:` transformer.
                var renamed: [UInt8]?
                if !isArray && node >= 0 && tree.nodes[Int(node)].keysRule >= 0 {
                    let keysRule = tree.rules[Int(tree.nodes[Int(node)].keysRule)]
                    if !keysRule.isKeep {
                        do {
                            renamed = try keysRule.maskKey(reader.string(keyStart..<keyEnd))
                        } catch let error as MaskingError {
                            throw failure(keyStart..<keyEnd, isArray, "\(error)")
                        } catch let error as ValueMasking.TypeFailure {
                            throw failure(keyStart..<keyEnd, isArray, error.reason)
                        }
                    }
                }

                if type == BSONType.document || type == BSONType.array {
                    if childRule >= 0 && tree.rules[Int(childRule)].isNull {
                        materialize(into: &output)
                        output.append(reader.bytes(levels[level].pending..<position))
                        appendKey(type: BSONType.null, keyStart..<keyEnd, renamed, into: &output)
                        levels[level].pending = elementEnd
                    } else if elementEnd - valueStart == 5 {
                        // Empty: holds nothing, but off every rule path it is still an unruled field.
                        if child < 0 && childRule < 0 && !unlistedKeep {
                            throw failure(keyStart..<keyEnd, isArray, "field path has no rule (an empty "
                                            + (type == BSONType.array ? "array" : "document") + "); add a rule for it")
                        }
                        if let renamed { rename(position, type, renamed, valueStart: valueStart, level, into: &output) }
                    } else if childRule >= 0 && (child < 0 || tree.nodes[Int(child)].keepsAll)
                                && tree.rules[Int(childRule)].isKeep {
                        // Kept whole.
                        if let renamed { rename(position, type, renamed, valueStart: valueStart, level, into: &output) }
                    } else if child < 0 && childRule < 0 {
                        if !unlistedKeep {
                            throw failure(keyStart..<keyEnd, isArray, "field path has no rule (\(BSONType.name(type))); "
                                            + "add a rule for it or for the fields inside it")
                        }
                        if let renamed { rename(position, type, renamed, valueStart: valueStart, level, into: &output) }
                    } else {
                        if let renamed { rename(position, type, renamed, valueStart: valueStart, level, into: &output) }
                        if try container(start: valueStart, end: elementEnd, node: child, rule: childRule,
                                         isArray: type == BSONType.array, key: keyStart..<keyEnd, inArray: isArray,
                                         into: &output) {
                            levels[level].pending = elementEnd
                        }
                    }
                } else {
                    var applied = childRule
                    if applied < 0 && child >= 0 {
                        applied = tree.nodes[Int(child)].elementsRule
                        if applied < 0 && type != BSONType.null && !unlistedKeep {
                            throw failure(keyStart..<keyEnd, isArray, "a \(BSONType.name(type)) value where the rules "
                                            + "expect fields inside it (\(Self.expected(tree, child))); fix the rule's path "
                                            + "so no value on it is copied unmasked")
                        }
                    } else if applied < 0 && !unlistedKeep {
                        throw failure(keyStart..<keyEnd, isArray, "field path has no rule (\(BSONType.name(type))); "
                                        + "add a rule for it")
                    }
                    if applied >= 0 && !tree.rules[Int(applied)].isKeep {
                        materialize(into: &output)
                        output.append(reader.bytes(levels[level].pending..<position))
                        let element = BSONElement(type: type, start: position, keyStart: keyStart, keyEnd: keyEnd,
                                                  valueStart: valueStart, end: elementEnd)
                        do {
                            if let renamed {
                                try renamed.withUnsafeBytes { key in
                                    try ValueMasking.mask(element, reader, tree.rules[Int(applied)], key: key, into: &output)
                                }
                            } else {
                                try ValueMasking.mask(element, reader, tree.rules[Int(applied)],
                                                      key: reader.bytes(keyStart..<keyEnd), into: &output)
                            }
                        } catch let error as MaskingError {
                            throw failure(keyStart..<keyEnd, isArray, "\(error)")
                        } catch let error as ValueMasking.TypeFailure {
                            throw failure(keyStart..<keyEnd, isArray, error.reason)
                        }
                        levels[level].pending = elementEnd
                    } else if let renamed {
                        rename(position, type, renamed, valueStart: valueStart, level, into: &output)
                    }
                }
                position = elementEnd
            }
            let finished = pop()
            guard finished.begin >= 0 else { return false }
            output.append(reader.bytes(finished.pending..<limit))
            output.endDocument(finished.begin)
            return true
        }

        /// Writes the element's type and its masked field name; its value follows from the input.
        mutating func rename(_ position: Int, _ type: UInt8, _ renamed: [UInt8], valueStart: Int, _ level: Int,
                             into output: inout BSONWriter) {
            materialize(into: &output)
            output.append(reader.bytes(levels[level].pending..<position))
            output.bytes.append(type)
            output.bytes.append(contentsOf: renamed)
            output.bytes.append(0)
            levels[level].pending = valueStart
        }

        func appendKey(type: UInt8, _ key: Range<Int>, _ renamed: [UInt8]?, into output: inout BSONWriter) {
            output.bytes.append(type)
            if let renamed { output.bytes.append(contentsOf: renamed) } else { output.append(reader.bytes(key)) }
            output.bytes.append(0)
        }

        static func expected(_ tree: MaskTree, _ node: Int32) -> String {
            tree.nodes[Int(node)].elementsChild >= 0 ? "an array or a document" : "a document"
        }

        func failure(_ key: Range<Int>, _ inArray: Bool, _ reason: String) -> Failure {
            var text = ""
            let enclosing = (1..<max(1, depth)).map { (levels[$0].key, levels[$0].inArray) }
            for (range, arrayElement) in enclosing + [(key, inArray)] {
                if arrayElement {
                    text += "[]"
                } else {
                    if !text.isEmpty { text += "." }
                    text += FieldName.display(reader.string(range))
                }
            }
            return Failure(path: text, reason: reason)
        }
    }
}
