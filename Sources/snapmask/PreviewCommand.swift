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
        let engine = try Engines.engine(for: database)
        let schema = try engine.inspectSource()
        guard let shape = schema.table(named: table) else {
            throw ConfigError("the source \(database.source) has no table '\(table)'; it has: "
                                  + schema.tables.map(\.name).joined(separator: ", "))
        }
        let plan = TablePlan(table: shape, rule: schema.rule(for: shape, in: rules))
        let originals = try engine.previewRows(plan, limit: rows)
        let width = plan.columns.map(\.name.count).max() ?? 0
        var failed = false
        for (index, row) in originals.enumerated() {
            print("row \(index + 1)")
            for (position, column) in plan.columns.enumerated() {
                let original = row[position]
                var masked = original
                var note = ""
                if let rule = plan.masks[position] {
                    do {
                        masked = try rule.transformer.mask(original)
                        note = "  (\(rule.transformer.name))"
                    } catch {
                        masked = nil
                        note = "  (error: \(error))"
                        failed = true
                    }
                } else if plan.rule?.column(named: column.name) == nil {
                    note = plan.rule == nil ? "  (no rule for the table)" : "  (no rule)"
                }
                let name = column.name.padding(toLength: width, withPad: " ", startingAt: 0)
                print("  \(name)  \(Self.show(original))  →  \(Self.show(masked))\(note)")
            }
        }
        if failed { throw CommandFailed(status: .failed) }
    }

    static func show(_ value: String?) -> String {
        guard let value else { return "NULL" }
        let flat = value.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        return flat.count > 60 ? String(flat.prefix(57)) + "..." : flat
    }
}
