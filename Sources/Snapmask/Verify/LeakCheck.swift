/// Looks for original values of masked columns in the shadow copy. A sample of non-empty
/// originals is taken from the source snapshot; each must be absent from the shadow, unless the
/// transformer itself maps that value to itself.
///
/// With a primary key made of kept columns the same rows are compared (exact, whatever the
/// transformer). Without one the sampled values are searched in the whole column; that is only
/// conclusive for transformers whose outputs cannot coincide with real values (addresses with
/// 60+ hash bits, UUIDs, hashes, free text, JSON): for a dictionary or format-preserving
/// transformer another row's fake can legitimately equal this row's original.
public enum LeakCheck {
    static let conclusiveByValue: Set<String> = ["email", "username", "uuid", "hash", "json", "lorem", "null", "constant"]

    /// The table's primary key when every column of it is kept (the same rows can then be found
    /// in source and copy); empty otherwise.
    public static func keptKey(of table: TablePlan) -> [String] {
        let primaryKey = table.table.primaryKey
        let kept = !primaryKey.isEmpty && primaryKey.allSatisfy { key in table.rule?.column(named: key)?.isKeep ?? true }
        return kept ? primaryKey : []
    }

    /// How a masked column can be checked conclusively; nil when it cannot.
    public static func method(for column: CompiledColumn, keyColumns: [String]) -> LeakCheckResult.Method? {
        if !keyColumns.isEmpty { return .byKey }
        return conclusiveByValue.contains(column.transformer.name) ? .byValue : nil
    }

    /// Whether finding this original in the copy would be a leak: not when the column's
    /// transformer maps it to itself.
    public static func canLeak(_ original: String, column: CompiledColumn) -> Bool {
        column.rule.perElement || (try? column.transformer.mask(original)) != original
    }

    static func run(plan: RestorePlan, source: any SourceSession, target: any TargetSession,
                    sampleSize: Int) throws -> [LeakCheckResult] {
        var results: [LeakCheckResult] = []
        for table in plan.tables where !table.skipData && !table.masks.isEmpty {
            let keys = keptKey(of: table)
            for column in table.maskedColumns {
                guard let method = method(for: column, keyColumns: keys) else { continue }
                let sample = try source.sampleRows(table, keyColumns: keys, column: column.name, limit: sampleSize)
                    .filter { canLeak($0.value, column: column) }
                var leaks = 0
                if method == .byKey {
                    let shadow = try target.values(table, keyColumns: keys, column: column.name, keys: sample.map(\.key))
                    leaks = sample.filter { shadow[$0.key] == .some($0.value) }.count
                } else {
                    leaks = try target.occurrences(table, column: column.name, of: sample.map(\.value)).count
                }
                results.append(LeakCheckResult(table: table.name, column: column.name, transformer: column.transformer.name,
                                               method: method, sampled: sample.count, leaks: leaks))
            }
        }
        return results
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
            + found.map { "\($0.table).\($0.column) (\($0.leaks) of \($0.sampled) sampled, \($0.method.rawValue))" }
                .joined(separator: ", ")
            + "; \(consequence). Check the rules and overrides of these columns"
    }
}
