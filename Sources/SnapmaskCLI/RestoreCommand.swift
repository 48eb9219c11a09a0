import ArgumentParser
import Foundation
import Snapmask
import SnapmaskStore

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restores one database masked into staging: check, shadow copy, overrides, verify, swap.",
        discussion: """
            Reads the source in one consistent snapshot, masks every row by the rules and loads a shadow copy \
            next to the staging database. Then the overrides run, row counts and a leak check are verified, and \
            the shadow copy replaces staging in one step (sessions on staging are ended at that moment). If any \
            step fails, staging is left exactly as it was and the shadow copy is removed.

            Exit 0 when staging was replaced, 1 when the check or the restore failed, 2 for bad usage or configuration.
            """)

    @OptionGroup var target: DatabaseOptions

    @Option(name: .shortAndLong, help: "Tables copied at the same time (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: JobOptions.splitFromRowsHelp)
    var splitFromRows: Int = RestoreOptions.defaultSplitTablesFromRows

    @Flag(help: "Check the rules against the source and show the plan; write nothing.")
    var dryRun = false

    @Option(help: "Write a JSON report of the run to this file.")
    var report: String?

    @Option(help: "Original values sampled per masked column for the leak check.")
    var leakSample: Int = 100

    @Option(help: "Restore from a sanitized snapshot (latest or its name) instead of the source.")
    var snapshot: String?

    @Flag(help: "Restore a snapshot made under other rules or overrides than the current ones.")
    var allowRulesChange = false

    @Flag(help: "Restore a snapshot made with --unencrypted: nothing proves who wrote it; only if you trust every writer of the store.")
    var allowUnencrypted = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard splitFromRows >= 0 else { throw ValidationError("--split-from-rows must be 0 (never split) or more") }
    }

    func run() throws {
        let logger = Logs.logger()
        // From a snapshot nothing is masked: the masking key is not needed (nor expected) here.
        var (_, database, rules) = try target.load(masking: snapshot == nil)
        var input: SnapshotInput?
        if let snapshot {
            let (_, catalog, key) = try SnapshotCommand.Store.open(config: target.config)
            input = try SnapshotRestore.input(catalog: catalog, name: snapshot, database: database, archiveKey: key,
                                              allowRulesChange: allowRulesChange, allowUnencrypted: allowUnencrypted,
                                              warn: { logger.warning("\($0)", metadata: ["database": "\(database.name)", "event": "snapshot_skipped"]) })
        }
        let observer = ConsoleObserver(logger: logger)
        // An aws-snapshot:/aws-clone: source: its temporary cluster lives for this restore only.
        var provisioned: ProvisionedSource?
        if input == nil, !dryRun, database.sourcePending,
           let provisioner = try AWSSources.provisioner(for: [database], environment: ProcessInfo.processInfo.environment) {
            provisioned = try provisioner.provision(database, observer: observer)
            database = provisioned!.database
        }
        func release() -> TemporarySourceUsage? {
            defer { provisioned = nil }
            guard let usage = provisioned?.release() else { return nil }
            observer.phase(database.name, usage.summary)
            return usage
        }
        let runner = RestoreRunner(database: database, engine: try Engines.engine(for: database, sampling: target.sampling), rules: rules,
                                   options: RestoreOptions(jobs: jobs, leakSampleSize: leakSample, splitTablesFromRows: splitFromRows),
                                   observer: observer, snapshot: input)
        if dryRun {
            let (plan, source) = try CheckFailure.reporting { try runner.plan() }
            source.close()
            print(PlanDescription.text(plan, database: database))
            return
        }
        do {
            var result = try CheckFailure.reporting { try runner.run() }
            result.temporarySource = release()
            try write(result)
            print(result.summary + (result.temporarySource.map { "\n  " + $0.summary } ?? ""))
        } catch let failure as RestoreFailed {
            var report = failure.report
            report.temporarySource = release()
            try write(report)
            printError("error: \(failure)")
            throw CommandFailed(status: .failed)
        } catch {
            _ = release()
            throw error
        }
    }

    private func write(_ result: RestoreReport) throws {
        guard let report else { return }
        try result.json().write(to: URL(fileURLWithPath: report))
    }
}

/// A failed check prints its problems and ends with exit 1.
enum CheckFailure {
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failed as CheckFailed {
            printError("error: \(failed)")
            throw CommandFailed(status: .failed)
        }
    }
}

/// What a restore would do, for `--dry-run`.
enum PlanDescription {
    static func text(_ plan: RestorePlan, database: DatabaseJob) -> String {
        var lines = ["\(database.name) (\(database.engine.rawValue)): \(database.source) → \(database.target)"]
        for table in plan.tables {
            var line = "  \(table.name): ~\(table.table.estimatedRows) rows"
            if table.skipData {
                line += ", schema only (data: skip)"
            } else {
                let masked = table.maskedColumns.map { "\($0.displayName) (\($0.transformer.name))" }
                line += masked.isEmpty ? ", copied as is" : ", masks \(masked.joined(separator: ", "))"
                if let condition = table.whereClause { line += ", where \(condition)" }
            }
            lines.append(line)
        }
        lines.append("  overrides: \(database.overrides.steps.count) steps")
        return lines.joined(separator: "\n")
    }
}
