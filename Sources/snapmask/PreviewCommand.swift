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
        for (index, row) in try engine.preview(plan, limit: rows).enumerated() {
            print("row \(index + 1)")
            for (position, column) in plan.columns.enumerated() {
                var note = ""
                if let rule = plan.masks[position] {
                    note = "  (\(rule.transformer.name))"
                } else if plan.rule != nil && plan.rule?.column(named: column.name) == nil {
                    note = "  (no rule)"
                }
                let name = column.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("  \(name)  \(Self.show(row.original[position]))  →  \(Self.show(row.masked[position]))\(note)")
            }
        }
    }

    static func show(_ value: String?) -> String {
        guard let value else { return "NULL" }
        let flat = value.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        return flat.count > 60 ? String(flat.prefix(57)) + "..." : flat
    }
}
