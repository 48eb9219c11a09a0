/// Looks for original values of masked columns in the shadow copy. A sample of non-empty
/// originals is taken from the source snapshot; each must be absent from the shadow, unless the
/// transformer itself maps that value to itself.
///
/// With a primary key made of kept columns the same rows are compared (exact, whatever the
/// transformer). Without one the sampled values are searched in the whole column; that is only
/// conclusive for transformers whose outputs cannot coincide with real values (addresses with
/// 60+ hash bits, UUIDs, hashes, free text, JSON): for a dictionary or format-preserving
/// transformer another row's fake can legitimately equal this row's original.
enum LeakCheck {
    static let conclusiveByValue: Set<String> = ["email", "username", "uuid", "hash", "json", "lorem", "null", "constant"]

    static func run(plan: RestorePlan, source: any SourceSession, target: any TargetSession,
                    sampleSize: Int) throws -> [LeakCheckResult] {
        var results: [LeakCheckResult] = []
        for table in plan.tables where !table.skipData && !table.masks.isEmpty {
            let primaryKey = table.table.primaryKey
            let keyIsKept = !primaryKey.isEmpty && primaryKey.allSatisfy { key in
                table.rule?.column(named: key)?.isKeep ?? true
            }
            for column in table.maskedColumns {
                let keys = keyIsKept ? primaryKey : []
                if keys.isEmpty && !conclusiveByValue.contains(column.transformer.name) { continue }
                let sample = try source.sampleRows(table, keyColumns: keys, column: column.name, limit: sampleSize)
                    .filter { row in !column.rule.perElement && (try? column.transformer.mask(row.value)) != row.value
                        || column.rule.perElement }
                var leaks = 0
                if keyIsKept {
                    let shadow = try target.values(table, keyColumns: keys, column: column.name, keys: sample.map(\.key))
                    leaks = sample.filter { shadow[$0.key] == .some($0.value) }.count
                } else {
                    leaks = try target.occurrences(table, column: column.name, of: sample.map(\.value)).count
                }
                results.append(LeakCheckResult(table: table.name, column: column.name, transformer: column.transformer.name,
                                               method: keyIsKept ? .byKey : .byValue, sampled: sample.count, leaks: leaks))
            }
        }
        return results
    }
}

/// Original values were found in the shadow copy: the run stops before the swap.
public struct LeakFound: Error, Sendable, CustomStringConvertible {
    public var results: [LeakCheckResult]

    public init(results: [LeakCheckResult]) {
        self.results = results
    }

    public var description: String {
        let found = results.filter { $0.leaks > 0 }
        return "original values found in the shadow copy after masking (\(found.count) column\(found.count == 1 ? "" : "s")): "
            + found.map { "\($0.table).\($0.column) (\($0.leaks) of \($0.sampled) sampled, \($0.method.rawValue))" }
                .joined(separator: ", ")
            + "; staging was not changed. Check the rules and overrides of these columns"
    }
}
