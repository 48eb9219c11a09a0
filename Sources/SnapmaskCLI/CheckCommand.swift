import ArgumentParser
import Foundation
import Snapmask

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validates a job file and its rules, then compares the rules with each source's real schema.",
        discussion: """
            Reads the job file, every rule file and override file it names, expands ${VAR} from the environment \
            and builds every transformer with the masking key; problems are listed with file:line:column (exit 2). \
            Then it connects to each source (read-only) and fails closed (exit 1) on: a table or column without \
            a rule (while unlisted: fail), a rule for a table or column that does not exist, a transformer that \
            cannot write the column's type, the null transformer on a NOT NULL column, a transformer that cannot \
            promise distinct outputs on a column under a primary key or unique index (expression indexes \
            included), output longer than a varchar(n), foreign servers, user mappings and foreign tables \
            (unless the rule file says foreign_data: skip), a path inside a JSON column or a document that no rule covers (found in a sample of \
            values), and a level of a document or JSON value that looks like a map keyed by data without a keys: \
            rule. `restore` runs the same check first; the maskers check every value again while streaming. \
            --offline skips the connection.
            """)

    @Option(name: .shortAndLong, help: "The job file (YAML).")
    var config: String

    @Option(help: ArgumentHelp("DocumentDB: documents sampled per collection to find its field paths (0 reads all).",
                               valueName: "n"))
    var sampleDocuments: Int = SchemaSampling.defaultDocuments

    @Option(name: .shortAndLong, help: "Check only this database of the job file.")
    var database: String?

    @Flag(help: "Validate the files only; do not connect to the sources.")
    var offline = false

    func run() throws {
        let job = try JobFile.load(path: config, environment: ProcessInfo.processInfo.environment)
        let databases = try database.map { [try job.database(named: $0)] } ?? job.databases
        var configErrors = ConfigErrors()
        var compiled: [(DatabaseJob, CompiledRules)] = []
        for database in databases {
            do {
                compiled.append((database, try CompiledRules.compile(database.rules, key: job.maskingKey)))
            } catch {
                configErrors.append(error)
            }
        }
        try configErrors.throwIfAny()

        var failed = false
        for (database, rules) in compiled {
            let kind = database.rules.kind
            let columns = rules.tables.reduce(0) { $0 + $1.columns.count }
            let masked = rules.tables.reduce(0) { $0 + $1.columns.filter { !$0.isKeep }.count }
            let summary = "\(rules.tables.count) \(kind.rawValue), \(columns) \(kind == .tables ? "column" : "field") rules "
                + "(\(masked) masked), \(database.overrides.steps.count) override steps"
            for warning in try Engines.engine(for: database, sampling: SchemaSampling()).connectionWarnings() {
                print("warning: \(database.name): \(warning)")
            }
            if offline {
                print("ok: \(database.name) (\(database.engine.rawValue)): \(summary)")
                continue
            }
            do {
                let engine = try Engines.engine(for: database, sampling: SchemaSampling(documents: sampleDocuments))
                var schema = try engine.inspectSource()
                try JSONColumnSampling.discover(in: &schema, rules: rules, sample: engine.sampleValues)
                let problems = SchemaCheck.problems(rules: rules, schema: schema)
                if problems.isEmpty {
                    print("ok: \(database.name) (\(database.engine.rawValue)): \(summary); matches the source's "
                          + "\(schema.tables.count) \(kind.rawValue)")
                } else {
                    failed = true
                    print("FAILED: \(database.name) (\(database.engine.rawValue)): \(problems.count) problem"
                          + "\(problems.count == 1 ? "" : "s") against \(database.source):")
                    for problem in problems { print("  \(problem)") }
                }
            } catch let error as ConfigError {
                throw error
            } catch {
                failed = true
                print("FAILED: \(database.name) (\(database.engine.rawValue)): \(error)")
            }
        }
        if failed { throw CommandFailed(status: .failed) }
    }
}
