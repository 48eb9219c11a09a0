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
            check also tries the CHECK constraints (a table's own and its columns' domains') on each table's first \
            50 rows as they are and as masked: one that masking would make fail is a problem (exit 1), so the \
            restore's load does not meet it at 02:00. --offline skips the connection.

            Drift: what is new, removed or changed since the rules were written is listed per database, with the \
            rules scan suggests for what is new (exit 1). Kept columns: a sample of every keep column and JSON or \
            document path is classified as scan does; one that looks personal is a warning, or a failure (exit 1) \
            when the rule file says strict_keep: true. For a daily job: --format json, --metrics-file (gauges \
            snapmask_unruled_columns, snapmask_check_problems, snapmask_kept_personal_columns, \
            snapmask_last_check_success) and --pushgateway (group job=snapmask_check).
            """)

    @Option(name: .shortAndLong, help: "The job file (YAML).")
    var config: String

    @Option(help: ArgumentHelp("DocumentDB: documents sampled per collection to find its field paths (0 reads all).",
                               valueName: "n"))
    var sampleDocuments: Int = SchemaSampling.defaultDocuments

    @Option(help: ArgumentHelp("Values sampled per column or path to classify kept columns and suggest rules.",
                               valueName: "n"))
    var sample: Int = CoverageAudit.defaultSample

    @Option(name: .shortAndLong, help: "Check only this database of the job file.")
    var database: String?

    @Flag(help: "Validate the files only; do not connect to the sources.")
    var offline = false

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "text (for people) or json (for machines: drift, suggested rules and kept columns per database).")
    var format: Format = .text

    @Option(help: "Write Prometheus gauges to this file (node_exporter textfile collector).")
    var metricsFile: String?

    @Option(help: "Push Prometheus gauges to this Pushgateway (group job=snapmask_check).")
    var pushgateway: String?

    func validate() throws {
        guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
    }

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

        var checks: [DatabaseCheck] = []
        for (database, rules) in compiled {
            let check = try self.check(database, rules: rules)
            if format == .text { print(check.text) }
            checks.append(check)
        }
        let report = CheckReport(databases: checks)
        if format == .json { print(try report.json()) }
        if !offline { try publish(PrometheusMetrics(check: report)) }
        if report.failed { throw CommandFailed(status: .failed) }
    }

    func check(_ database: DatabaseJob, rules: CompiledRules) throws -> DatabaseCheck {
        let kind = database.rules.kind
        let columns = rules.tables.reduce(0) { $0 + $1.columns.count }
        let masked = rules.tables.reduce(0) { $0 + $1.columns.filter { !$0.isKeep }.count }
        var check = DatabaseCheck(database: database, summary: "\(rules.tables.count) \(kind.rawValue), \(columns) "
                                      + "\(kind == .tables ? "column" : "field") rules (\(masked) masked), "
                                      + "\(database.overrides.steps.count) override steps")
        check.warnings = try Engines.engine(for: database, sampling: SchemaSampling()).connectionWarnings()
        if offline {
            check.status = .offline
            return check
        }
        do {
            let engine = try Engines.engine(for: database, sampling: SchemaSampling(documents: sampleDocuments))
            var schema = try engine.inspectSource()
            try JSONColumnSampling.discover(in: &schema, rules: rules, sample: engine.sampleValues)
            check.problems = SchemaCheck.problems(rules: rules, schema: schema)
            if check.problems.isEmpty {
                check.problems = constraintBreaks(engine: engine, plan: try RestorePlan.make(rules: rules, schema: schema),
                                                  warnings: &check.warnings)
            }
            // One sample of every column serves both the suggestions and the kept-column check.
            let scan = try engine.scanSample(limit: sample)
            if check.problems.contains(where: { $0.drift == .added }) {
                let tables = Scanner.scan(scan.schema, kind: kind) { table, column in scan.values[table.name]?[column.name] ?? [] }
                let patch = RuleFileWriter.write(tables, kind: kind, database: database.name, existing: database.rules)
                if !patch.contains("# nothing is missing") { check.suggestedRules = patch }
            }
            let entries = try CoverageAudit.entries(schema: scan.schema, rules: rules, limit: sample) { table, columns, _ in
                (scan.values[table.name] ?? [:]).filter { columns.contains($0.key) }
            }
            check.keptPersonal = entries.filter { $0.status == .keptPersonal }
            if !check.problems.isEmpty {
                check.status = .drift
            } else {
                check.summary += "; matches the source's \(schema.tables.count) \(kind.rawValue)"
                check.status = check.keptPersonal.isEmpty || !database.rules.strictKeep ? .ok : .keptPersonal
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            check.status = .failed
            check.error = "\(error)"
        }
        return check
    }

    /// CHECK constraints that masked values would break, found on each table's first rows
    /// before a restore's load meets them. One that cannot be evaluated (an expression the
    /// sample's text cannot be cast for) is a warning: the restore's load still enforces it.
    func constraintBreaks(engine: any DatabaseEngine, plan: RestorePlan, warnings: inout [String]) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        for table in plan.tables where !table.skipData && !table.maskedColumns.isEmpty {
            do {
                problems += try engine.constraintBreaks(table, limit: Self.constraintSample).map(\.problem)
            } catch {
                warnings.append("\(table.name): the CHECK constraints could not be tried on masked rows (\(error)); the "
                                    + "restore's load still enforces them")
            }
        }
        return problems
    }

    /// Rows per table the CHECK constraints are tried on, as they are and masked.
    static let constraintSample = 50

    /// Metrics are written and pushed whatever the outcome: a failed check is what they are for.
    func publish(_ metrics: PrometheusMetrics) throws {
        if let metricsFile { try metrics.write(to: metricsFile) }
        if let pushgateway { try metrics.push(to: pushgateway, job: "snapmask_check") }
    }
}
