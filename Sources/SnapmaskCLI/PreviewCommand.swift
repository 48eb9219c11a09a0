import ArgumentParser
import Foundation
import Snapmask

struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Shows a few rows of a source table before and after masking; writes nothing.")

    @OptionGroup var target: DatabaseOptions

    @Option(name: .shortAndLong, help: "The table (as the rules name it, e.g. public.users).")
    var table: String

    @Option(help: "How many rows to show.")
    var rows: Int = 5

    func run() throws {
        let (_, database, rules) = try target.load()
        let engine = try Engines.engine(for: database, sampling: target.sampling)
        let schema = try engine.inspectSource()
        guard let shape = schema.table(named: table) else {
            throw ConfigError("the source \(database.source) has no table '\(table)'; it has: "
                                  + schema.tables.map(\.name).joined(separator: ", "))
        }
        let plan = TablePlan(table: shape, rule: schema.rule(for: shape, in: rules))
        if plan.rule == nil {
            printError("warning: \(shape.name) has no rule; restore would \(rules.rules.unlisted == .keep ? "copy it as is" : "refuse it")")
        }
        let width = plan.columns.map(\.name.count).max() ?? 0
        let notes = plan.columns.map { Self.note(for: $0, in: plan) }
        for (index, row) in try engine.preview(plan, limit: rows).enumerated() {
            print("row \(index + 1)")
            for (position, column) in plan.columns.enumerated() {
                let name = column.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("  \(name)  \(Self.show(row.original[position]))  →  \(Self.show(row.masked[position]))  (\(notes[position]))")
            }
        }
    }

    /// Which rule covers a column or path: its own, or for a document path the one on an
    /// enclosing path (`email, by contact`); `keys:` rules on the way are named too.
    static func note(for column: ColumnShape, in plan: TablePlan) -> String {
        guard let rule = plan.rule else { return "no rule" }
        guard rule.kind == .collections else { return rule.column(named: column.name)?.transformer.name ?? "no rule" }
        guard let path = try? FieldPath(column.name) else { return "no rule can name this path" }
        let tree = FieldPathRules(rule)
        var note: String
        switch tree.coverage(of: path, holdsNothing: DocumentPathShape.holdsNothing(column)) {
        case let .rule(covering):
            note = covering.transformer.name + (covering.name == column.name ? "" : ", by \(covering.name)")
        case .holdsNothing: note = "holds nothing"
        case .unruled: note = "no rule"
        }
        if column.distinctKeys != nil {
            note = tree.keysRule(at: path).map { "field names: \($0.transformer.name)" } ?? "field names: no keys: rule"
        }
        return note
    }

    static func show(_ value: String?) -> String {
        guard let value else { return "NULL" }
        let flat = value.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        return flat.count > 60 ? String(flat.prefix(57)) + "..." : flat
    }
}
