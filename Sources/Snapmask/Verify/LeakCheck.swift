/// Looks for original values of masked columns in the shadow copy. A random sample of non-empty
/// originals is taken from the source snapshot; each must be absent from the shadow, unless the
/// transformer itself maps that value to itself. JSON columns and documents are compared value by
/// value inside them (`PathLeakCheck`), one result per rule.
///
/// With a primary key made of kept columns the same rows are compared (exact, whatever the
/// transformer). Without one the sampled values are searched in the whole column; that is only
/// conclusive for transformers whose outputs cannot coincide with real values
/// (`searchableByValue`): for a dictionary or format-preserving transformer another row's fake
/// can legitimately equal this row's original. A column that cannot be checked is reported as
/// such, never left out.
public enum LeakCheck {
    /// The table's primary key when every column of it is kept (the same rows can then be found
    /// in source and copy); empty otherwise.
    public static func keptKey(of table: TablePlan) -> [String] {
        let primaryKey = table.table.primaryKey
        let kept = !primaryKey.isEmpty && primaryKey.allSatisfy { key in
            guard let rule = table.rule else { return true }
            return rule.kind == .collections ? FieldPathRules(rule).coverage(of: FieldPath.of(rule: key), holdsNothing: false)
                .isKeep : rule.column(named: key)?.isKeep ?? true
        }
        return kept ? primaryKey : []
    }

    /// How a masked column can be checked conclusively; nil when it cannot.
    public static func method(for column: CompiledColumn, keyColumns: [String]) -> LeakCheckResult.Method? {
        if !keyColumns.isEmpty { return .byKey }
        return column.transformer.descriptor.searchableByValue && column.transformer.jsonRules == nil ? .byValue : nil
    }

    /// Whether finding this original in the copy would be a leak: not when the column's
    /// transformer maps it to itself.
    public static func canLeak(_ original: String, column: CompiledColumn) -> Bool {
        column.rule.perElement || canLeak(original, transformer: column)
    }

    public static func canLeak(_ original: String, transformer column: CompiledColumn) -> Bool {
        (try? column.transformer.mask(original)) != original
    }

    /// Whether an element of the copy's array is the original's element in the same place (one
    /// the transformer does not map to itself). An array that does not parse is compared whole.
    public static func leaksAnElement(original: String, copy: String, column: CompiledColumn, arrays: any ArrayLiteralCodec) -> Bool {
        guard let originals = try? arrays.elements(of: original), let copies = try? arrays.elements(of: copy) else {
            return copy == original
        }
        return zip(originals, copies).contains { original, copied in
            guard let original, original == copied else { return false }
            return canLeak(original, transformer: column)
        }
    }

    /// The distinct elements of sampled arrays that the column's transformer would change: an
    /// `array: true` column without a kept key is searched element by element, so one original
    /// among fakes is found. An array that does not parse cannot have been loaded (its masking
    /// fails) and is passed over.
    public static func leakableElements(of originals: [String], column: CompiledColumn, table: TablePlan,
                                        arrays: (any ArrayLiteralCodec)?) throws -> [String] {
        let arrays = try requireArrays(arrays, table: table.name, column: column.name)
        var seen = Set<String>()
        return originals.flatMap { (try? arrays.elements(of: $0)) ?? [] }.compactMap { element in
            guard let element, canLeak(element, transformer: column), seen.insert(element).inserted else { return nil }
            return element
        }
    }

    /// The engine's array text form, for an `array: true` column; an engine without arrays fails
    /// the check rather than pass the column unchecked.
    public static func requireArrays(_ arrays: (any ArrayLiteralCodec)?, table: String, column: String) throws
        -> any ArrayLiteralCodec {
        guard let arrays else {
            throw EngineUnsupported(engine: "target's", feature: "array columns masked per element (\(table).\(column))")
        }
        return arrays
    }

    /// The name a whole document goes by in `sampleRows` and `values`: its relaxed extended JSON.
    public static let wholeDocument = ""

    /// `arrays`: the engine's array text form; an array column masked element by element is
    /// compared element by element, so one original left among fakes is found.
    static func run(plan: RestorePlan, source: any SourceSession, target: any TargetSession,
                    sampleSize: Int, arrays: (any ArrayLiteralCodec)? = nil) throws -> [LeakCheckResult] {
        var results: [LeakCheckResult] = []
        for table in plan.tables where !table.skipData && !table.maskedColumns.isEmpty {
            let keys = keptKey(of: table)
            if let rule = table.rule, rule.kind == .collections {
                results += keys.isEmpty
                    ? try documentValueResults(table, source: source, target: target, sampleSize: sampleSize)
                    : try pathResults(table, column: wholeDocument, rules: table.maskedColumns, tree: FieldPathRules(rule),
                                      keys: keys, source: source, target: target, sampleSize: sampleSize)
                continue
            }
            for column in table.maskedColumns {
                if let tree = column.transformer.jsonRules {
                    results += try pathResults(table, column: column.name, rules: tree.rules.filter { !$0.isKeep },
                                               tree: tree, keys: keys, source: source, target: target,
                                               sampleSize: sampleSize)
                    continue
                }
                guard let method = method(for: column, keyColumns: keys) else {
                    results.append(LeakCheckResult(table: table.name, column: column.name,
                                                   transformer: column.transformer.name, method: .notCheckable,
                                                   sampled: 0, leaks: 0))
                    continue
                }
                let sample = try source.sampleRows(table, keyColumns: keys, column: column.name, limit: sampleSize)
                    .filter { canLeak($0.value, column: column) }
                var leaks = 0
                if method == .byKey {
                    let shadow = try target.values(table, keyColumns: keys, column: column.name, keys: sample.map(\.key))
                    leaks = sample.filter { row in
                        guard let copy = shadow[row.key] ?? nil else { return false }
                        if column.rule.perElement, let arrays {
                            return leaksAnElement(original: row.value, copy: copy, column: column, arrays: arrays)
                        }
                        return copy == row.value
                    }.count
                } else if column.rule.perElement {
                    let elements = try leakableElements(of: sample.map(\.value), column: column, table: table, arrays: arrays)
                    leaks = try target.elementOccurrences(table, column: column.name, of: elements).count
                    results.append(LeakCheckResult(table: table.name, column: column.name, transformer: column.transformer.name,
                                                   method: method, sampled: elements.count, leaks: leaks))
                    continue
                } else {
                    leaks = try target.occurrences(table, column: column.name, of: sample.map(\.value)).count
                }
                results.append(LeakCheckResult(table: table.name, column: column.name, transformer: column.transformer.name,
                                               method: method, sampled: sample.count, leaks: leaks))
            }
        }
        return results
    }

    /// Documents whose `_id` is masked (users keyed by their email): no document can be matched
    /// with its copy, so each path rule whose outputs cannot coincide with real values has its
    /// sampled originals searched for at its path in the whole shadow collection, as a column
    /// without a kept key is. The others are reported as not checkable.
    static func documentValueResults(_ table: TablePlan, source: any SourceSession, target: any TargetSession,
                                     sampleSize: Int) throws -> [LeakCheckResult] {
        try table.maskedColumns.map { rule in
            let searchable = method(for: rule, keyColumns: []) == .byValue && !rule.masksFieldNames
                && !FieldPath.of(rule: rule.name).segments.contains(.anyKey)
            guard searchable else {
                return LeakCheckResult(table: table.name, column: rule.displayName, transformer: rule.transformer.name,
                                       method: .notCheckable, sampled: 0, leaks: 0)
            }
            let sample = try source.sampleRows(table, keyColumns: [], column: rule.name, limit: sampleSize)
                .filter { canLeak($0.value, column: rule) }
            let leaks = try target.occurrences(table, column: rule.name, of: sample.map(\.value)).count
            return LeakCheckResult(table: table.name, column: rule.displayName, transformer: rule.transformer.name,
                                   method: .byValue, sampled: sample.count, leaks: leaks)
        }
    }

    /// JSON columns and documents: the sampled rows are compared with their copies path by path,
    /// one result per rule. Without a kept key no row can be matched, and the result says so.
    static func pathResults(_ table: TablePlan, column: String, rules: [CompiledColumn], tree: FieldPathRules,
                            keys: [String], source: any SourceSession, target: any TargetSession,
                            sampleSize: Int) throws -> [LeakCheckResult] {
        var tally: [String: PathLeakCheck.Tally] = [:]
        if !keys.isEmpty {
            let sample = try source.sampleRows(table, keyColumns: keys, column: column, limit: sampleSize)
            let copies = try target.values(table, keyColumns: keys, column: column, keys: sample.map(\.key))
            for row in sample {
                PathLeakCheck.compare(original: row.value, copy: copies[row.key] ?? nil, tree: tree, into: &tally)
            }
        }
        return rules.map { rule in
            let found = tally[PathLeakCheck.slot(rule)] ?? PathLeakCheck.Tally()
            return LeakCheckResult(table: table.name, column: column.isEmpty ? rule.displayName : column,
                                   path: column.isEmpty ? nil : rule.displayName, transformer: rule.transformer.name,
                                   method: keys.isEmpty ? .notCheckable : .byKey, sampled: found.searched, leaks: found.leaks)
        }
    }
}

extension FieldPathRules.Coverage {
    var isKeep: Bool {
        if case let .rule(rule) = self { return rule.isKeep }
        return false
    }
}

/// Original values were found in the shadow copy: the run stops before the swap.
public struct LeakFound: Error, Sendable, CustomStringConvertible {
    public var results: [LeakCheckResult]
    /// Where the values were found, and what that left unchanged.
    public var place: String
    public var consequence: String

    public init(results: [LeakCheckResult], place: String = "the shadow copy",
                consequence: String = "staging was not changed") {
        self.results = results
        self.place = place
        self.consequence = consequence
    }

    public var description: String {
        let found = results.filter { $0.leaks > 0 }
        return "original values found in \(place) after masking (\(found.count) column\(found.count == 1 ? "" : "s")): "
            + found.map { "\($0.table).\($0.column)\($0.path.map { " path \($0)" } ?? "") (\($0.leaks) of \($0.sampled) sampled, "
                + "\($0.method.rawValue))" }
                .joined(separator: ", ")
            + "; \(consequence). Check the rules and overrides of these columns"
    }
}
