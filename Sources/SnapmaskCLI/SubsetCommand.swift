import ArgumentParser
import Foundation
import Snapmask

struct SubsetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subset",
        abstract: "Shows what the rules' subset: selects, before any data moves.",
        subcommands: [Plan.self])

    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Prints, per table, the estimated and then the exact rows of the subset and how each table was reached.",
            discussion: """
                The estimate comes from the catalog's row counts, scaled by the roots and carried along the \
                references. The exact counts come from reading the keys in the source snapshot, as a restore \
                does, so this reads the source (keys only) and writes nothing. Tables not connected to a root \
                are copied whole.

                Example: snapmask subset plan --config job.yaml --database app
                """)

        @OptionGroup var target: DatabaseOptions

        @Flag(help: "Print the estimates only (reads the catalog, no keys).")
        var estimateOnly = false

        func run() throws {
            let (_, database, rules) = try target.load()
            guard let subset = rules.rules.subset else {
                throw ConfigError("the rules of \(database.name) (\(rules.rules.path)) have no subset: section; a restore copies every row")
            }
            if database.sourcePending {
                throw ConfigError("\(database.name) reads a managed snapshot or clone (source: aws-snapshot/aws-clone); plan the "
                                      + "subset against a copy you can reach: give source: a database URL for this command")
            }
            let observer = ConsoleObserver(logger: Logs.logger())
            let runner = RestoreRunner(database: database, engine: try Engines.engine(for: database, sampling: target.sampling),
                                       rules: rules, options: RestoreOptions(jobs: 1), observer: observer)
            let (plan, source) = try CheckFailure.reporting { try runner.plan() }
            defer { source.close() }
            guard let reading = source as? any SubsetReadingSource else {
                throw EngineUnsupported(engine: database.engine.rawValue, feature: "subset:")
            }
            let estimate = try SubsetPlanner.estimate(plan: plan, rules: subset, source: reading)
            print("\(database.name): subset of \(database.source), estimated from the catalog")
            print(Self.table(estimate, exact: nil))
            guard !estimateOnly else { return }
            let selection = try SubsetSelection.select(for: plan, source: source, database: database.name, observer: observer)
            guard let exact = selection?.report else { return }
            print("")
            print("\(database.name): exact, from the keys (\(exact.passes) extra passes, " + String(format: "%.1f s", exact.seconds) + ")")
            print(Self.table(estimate, exact: exact))
        }

        static func table(_ estimate: SubsetReport, exact: SubsetReport?) -> String {
            let header = ["table", "estimated", exact == nil ? nil : "selected", "reached by"].compactMap { $0 }
            var rows = [header]
            for table in estimate.tables {
                let measured = exact?.tables.first { $0.name == table.name }
                let wholeTable = table.reachedBy.hasPrefix("not connected")
                var row = [table.name, wholeTable ? "all" : "~\(table.estimatedRows)"]
                if let measured { row.append(measured.selectedRows.map(String.init) ?? "all") }
                row.append((measured ?? table).reachedBy)
                rows.append(row)
            }
            let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
            }.joined(separator: "\n")
        }
    }
}
