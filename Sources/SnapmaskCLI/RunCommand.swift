import ArgumentParser
import Foundation
import Logging
import Snapmask
import SnapmaskStore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The weekly job: restores every database of the job file into staging, then reports.",
        discussion: """
            For each database (in job-file order, or those named with --database): check → restore (from the \
            latest sanitized snapshot or straight from the source, as restore_from: in the job file says, or \
            --from-snapshot/--from-source) → overrides → verify → swap.

            A source written as { aws-snapshot: ... } or { aws-clone: ... } is read from a temporary cluster that \
            the run makes, waits for, and deletes afterwards (also when the restore fails or a signal stops it). \
            Before making any, the run deletes the expired temporary clusters that killed runs left behind, as \
            `snapmask cleanup` does.

            One run at a time: the run first takes the lock of every target it will restore; if another run holds \
            one, it stops at once and names the holder. Without --continue-on-error the first failed database \
            stops the run; with it, the others still run. Exit 0 only if every database succeeded, 1 if any \
            failed, 2 for bad usage or configuration.
            """)

    @Option(name: .shortAndLong, help: "The job file (YAML).")
    var config: String

    @Option(help: ArgumentHelp("DocumentDB: documents sampled per collection to find its field paths (0 reads all).",
                               valueName: "n"))
    var sampleDocuments: Int = SchemaSampling.defaultDocuments

    @Option(name: .shortAndLong, help: "Restore only this database (repeat for more).")
    var database: [String] = []

    @Option(help: "Restore from this sanitized snapshot: latest (each database's newest) or a name.")
    var fromSnapshot: String?

    @Flag(help: "Restore straight from the sources.")
    var fromSource = false

    @Flag(help: "When a database fails, go on with the others (the exit status is still 1).")
    var continueOnError = false

    @Option(help: "Write the JSON report of the run to this file.")
    var report: String?

    @Option(help: "Write Prometheus metrics to this file (node_exporter textfile collector).")
    var metricsFile: String?

    @Option(help: "Push Prometheus metrics to this Pushgateway (e.g. http://pushgateway:9091).")
    var pushgateway: String?

    @Flag(help: "Allow snapshots made under other rules or overrides than the current ones.")
    var allowRulesChange = false

    @Flag(help: "Allow snapshots made with --unencrypted: nothing proves who wrote them; only if you trust every writer of the store.")
    var allowUnencrypted = false

    @Option(name: .shortAndLong, help: "Tables copied at the same time (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: JobOptions.splitFromRowsHelp)
    var splitFromRows: Int = RestoreOptions.defaultSplitTablesFromRows

    func validate() throws {
        if fromSource && fromSnapshot != nil { throw ValidationError("--from-snapshot and --from-source exclude each other") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard splitFromRows >= 0 else { throw ValidationError("--split-from-rows must be 0 (never split) or more") }
    }

    func run() throws {
        let logger = Logs.logger()
        let environment = ProcessInfo.processInfo.environment
        let job = try JobFile.load(path: config, environment: environment)
        let databases = try database.isEmpty ? job.databases : database.map { try job.database(named: $0) }
        let snapshotName: String? = fromSource ? nil : fromSnapshot ?? (job.restoreFrom == .snapshot ? "latest" : nil)
        // From snapshots nothing is masked, so the staging side runs without the masking key.
        var compiled: [String: CompiledRules] = [:]
        for database in databases {
            compiled[database.name] = snapshotName == nil ? try CompiledRules.compile(database.rules, key: job.maskingKey)
                                                          : CompiledRules.forMaskedSnapshot(database.rules)
        }
        let observer = ConsoleObserver(logger: logger)
        var snapshot: @Sendable (DatabaseJob) throws -> SnapshotInput? = { _ in nil }
        if let snapshotName {
            let (_, catalog, archiveKey) = try SnapshotCommand.Store.open(config: config)
            let (allowRulesChange, allowUnencrypted) = (self.allowRulesChange, self.allowUnencrypted)
            snapshot = { database in
                try SnapshotRestore.input(catalog: catalog, name: snapshotName, database: database, archiveKey: archiveKey,
                                          allowRulesChange: allowRulesChange, allowUnencrypted: allowUnencrypted,
                                          warn: { observer.warning(database.name, $0) })
            }
        }
        let sampling = SchemaSampling(documents: sampleDocuments)
        let weekly = WeeklyRun(databases: databases, origin: snapshotName.map { "snapshot \($0)" } ?? "the sources",
                               continueOnError: continueOnError, options: RestoreOptions(jobs: jobs, splitTablesFromRows: splitFromRows), rules: compiled,
                               observer: observer, makeEngine: { try Engines.engine(for: $0, sampling: sampling) },
                               snapshot: snapshot,
                               // From sanitized snapshots no source is read: no temporary cluster, no AWS call.
                               provisioner: snapshotName == nil ? try AWSSources.provisioner(for: databases, environment: environment) : nil)
        let result: RunReport
        do {
            result = try weekly.run()
        } catch let locked as TargetLocked {
            printError("error: \(locked)")
            throw CommandFailed(status: .failed)
        }
        try publish(result, logger: logger)
        print(result.summary)
        if !result.succeeded { throw CommandFailed(status: .failed) }
    }

    /// Report and metrics are written even when databases failed: that is when they matter.
    private func publish(_ result: RunReport, logger: Logger) throws {
        if let report { try result.json().write(to: URL(fileURLWithPath: report)) }
        let previous = metricsFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
        let metrics = PrometheusMetrics(report: result, previous: previous)
        if let metricsFile { try metrics.write(to: metricsFile) }
        if let pushgateway {
            do {
                try metrics.push(to: pushgateway)
            } catch {
                // Metrics are about the run; failing to push them does not undo a good restore.
                logger.error("\(error)", metadata: ["event": "metrics_push_failed"])
            }
        }
    }
}
