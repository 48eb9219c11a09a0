import ArgumentParser
import Foundation
import Snapmask

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validates a job file with its rule and override files.",
        discussion: """
            Reads the job file, every rule file and override file it names, expands ${VAR} from the environment \
            and builds every transformer with the masking key. Every problem is listed with file:line:column. \
            Exit 0 when all is well, 2 when the configuration has problems.
            """)

    @Option(name: .shortAndLong, help: "The job file (YAML).")
    var config: String

    @Option(name: .shortAndLong, help: "Check only this database of the job file.")
    var database: String?

    func run() throws {
        let job = try JobFile.load(path: config, environment: ProcessInfo.processInfo.environment)
        let databases = try database.map { [try job.database(named: $0)] } ?? job.databases
        var errors = ConfigErrors()
        for database in databases {
            do {
                let compiled = try CompiledRules.compile(database.rules, key: job.maskingKey)
                let columns = compiled.tables.reduce(0) { $0 + $1.columns.count }
                let masked = compiled.tables.reduce(0) { $0 + $1.columns.filter { !$0.isKeep }.count }
                let kind = database.rules.kind
                print("ok: \(database.name) (\(database.engine.rawValue)): \(compiled.tables.count) \(kind.rawValue), "
                      + "\(columns) \(kind == .tables ? "column" : "field") rules (\(masked) masked), "
                      + "\(database.overrides.steps.count) override steps")
            } catch {
                errors.append(error)
            }
        }
        try errors.throwIfAny()
    }
}
