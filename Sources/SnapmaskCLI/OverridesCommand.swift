import ArgumentParser
import Snapmask

struct OverridesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overrides",
        abstract: "Staging overrides outside a restore.",
        subcommands: [Apply.self])

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Applies a database's overrides to the current staging database, in one transaction.")

        @OptionGroup var target: DatabaseOptions

        func run() throws {
            let (_, database, _) = try target.load()
            let outcomes = try Engines.engine(for: database, sampling: target.sampling).applyOverridesToStaging(database.overrides)
            for outcome in outcomes {
                print("\(outcome.step): \(outcome.rowsAffected.map { "\($0) rows" } ?? "done")")
            }
            print("\(database.name): \(outcomes.count) overrides applied to \(database.target)")
        }
    }
}
