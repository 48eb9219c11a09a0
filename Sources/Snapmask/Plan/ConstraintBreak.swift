/// A CHECK constraint that sampled rows pass as they are and fail once masked: found by `check`
/// on a sample, before a restore's load meets it at its first such row.
public struct ConstraintBreak: Sendable, Equatable {
    public var table: String
    public var constraint: String
    /// The masked columns the constraint names (its domain's column, for a domain constraint).
    public var columns: [String]
    /// Sampled rows it refuses once masked, of `sampled` that pass it as they are.
    public var rows: Int
    public var sampled: Int

    public init(table: String, constraint: String, columns: [String], rows: Int, sampled: Int) {
        self.table = table
        self.constraint = constraint
        self.columns = columns
        self.rows = rows
        self.sampled = sampled
    }

    public var problem: CheckProblem {
        CheckProblem(table: table, column: columns.count == 1 ? columns[0] : nil,
                     message: "masked values break CHECK constraint \(constraint) in \(rows) of \(sampled) sampled rows "
                         + "that pass it unmasked\(columns.count > 1 ? " (columns \(columns.joined(separator: ", ")))" : ""): "
                         + LoadAdvice.checkConstraintFix)
    }

    /// The break of one constraint, from whether each sampled row holds it as it is and as
    /// masked; nil when masking breaks it in no row that held it.
    public static func judged(_ verdicts: [(row: String, masked: Bool, holds: Bool)], table: String, constraint: String,
                              columns: [String]) -> ConstraintBreak? {
        let passing = Set(verdicts.filter { !$0.masked && $0.holds }.map(\.row))
        let broken = Set(verdicts.filter { $0.masked && !$0.holds }.map(\.row)).intersection(passing)
        guard !broken.isEmpty else { return nil }
        return ConstraintBreak(table: table, constraint: constraint, columns: columns, rows: broken.count, sampled: passing.count)
    }

    /// Which of `masked` columns an expression names, as a bare or quoted identifier.
    public static func columns(named expression: String, among masked: [String]) -> [String] {
        let words = Set(expression.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "$") }.map(String.init))
        return masked.filter { words.contains($0.lowercased()) }
    }
}

extension DatabaseEngine {
    /// Engines without CHECK constraints (DocumentDB loads with `bypassDocumentValidation`).
    public func constraintBreaks(_ plan: TablePlan, limit: Int) throws -> [ConstraintBreak] { [] }
}
