import Foundation

/// What a restore reports while it runs (logs, progress displays, metrics).
public protocol RestoreObserver: Sendable {
    func phase(_ database: String, _ message: String)
    func tableStarted(_ database: String, table: String, estimatedRows: Int)
    func tableProgress(_ database: String, table: String, rows: Int)
    func tableFinished(_ database: String, table: String, rows: Int, seconds: Double)
    /// What the weekly job says between restores.
    func runStarted(databases: Int, origin: String)
    func databaseDone(_ database: String, rows: Int)
    func databaseFailed(_ database: String, error: any Error)
    /// Something was passed over (an untrusted snapshot); the run goes on.
    func warning(_ database: String, _ message: String)
}

extension RestoreObserver {
    public func runStarted(databases: Int, origin: String) {}
    public func databaseDone(_ database: String, rows: Int) {}
    public func databaseFailed(_ database: String, error: any Error) {}
    public func warning(_ database: String, _ message: String) { phase(database, message) }
}

public struct RestoreOptions: Sendable {
    /// Tables copied at the same time.
    public var jobs: Int
    /// Original values sampled per masked column for the leak check.
    public var leakSampleSize: Int
    /// Batches buffered between reading and masking, and between masking and writing.
    public var queueDepth: Int
    /// Threads masking one table's batches.
    public var maskThreads: Int
    /// Tables estimated to hold at least this many rows are read and loaded in `jobs` slices at
    /// once, where the source can split them (PostgreSQL 14 and later; MySQL tables with a
    /// one-column integer key; DocumentDB collections with ObjectId `_id`s). 0 never splits.
    public var splitTablesFromRows: Int
    /// Off: every table already masks on all cores, and where the databases share the machine's
    /// cores with snapmask, slices cost more sessions than they gain (Benchmarks/postgres).
    public static let defaultSplitTablesFromRows = 0

    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, leakSampleSize: Int = 100, queueDepth: Int = 4,
                maskThreads: Int = ProcessInfo.processInfo.activeProcessorCount,
                splitTablesFromRows: Int = RestoreOptions.defaultSplitTablesFromRows) {
        self.jobs = max(1, jobs)
        self.leakSampleSize = leakSampleSize
        self.queueDepth = queueDepth
        self.maskThreads = max(1, maskThreads)
        self.splitTablesFromRows = splitTablesFromRows <= 0 ? Int.max : splitTablesFromRows
    }
}

/// A restore that stopped: the step it was in, why, and what staging holds now (as the target
/// found it after the failure).
public struct RestoreFailed: Error, Sendable, CustomStringConvertible {
    public var database: String
    public var step: String
    public var underlying: String
    public var report: RestoreReport
    public var staging: StagingState

    /// Whether staging is no longer exactly what it was before the run.
    public var stagingChanged: Bool { staging.data != .previous }

    public var description: String {
        "restore of \(database) failed while \(step): \(underlying)\n\(staging)"
    }
}

/// Check → shadow → parallel masked copy → schema after data → counts → overrides → leak
/// check → swap. Any failure before the swap removes the shadow copy and leaves staging as it was.
public struct RestoreRunner: Sendable {
    public let database: DatabaseJob
    public let engine: any DatabaseEngine
    public let rules: CompiledRules
    public let options: RestoreOptions
    public let observer: any RestoreObserver

    /// Restore from a sanitized snapshot instead of the source (nil: from the source).
    public let snapshot: SnapshotInput?

    public init(database: DatabaseJob, engine: any DatabaseEngine, rules: CompiledRules, options: RestoreOptions,
                observer: any RestoreObserver, snapshot: SnapshotInput? = nil) {
        self.database = database
        self.engine = engine
        self.rules = rules
        self.options = options
        self.observer = observer
        self.snapshot = snapshot
    }

    /// Opens where the rows come from and plans the restore; nothing is written. From the source:
    /// its snapshot, the rules checked against its schema. From a sanitized snapshot: rows masked
    /// already, checked when it was made.
    public func plan() throws -> (plan: RestorePlan, source: any SourceSession) {
        let input = try open()
        return (input.plan, input.source)
    }

    func open() throws -> RestoreInput {
        if let snapshot {
            observer.phase(database.name, "reading sanitized snapshot \(snapshot.name)")
            return try RestoreInput(snapshot: snapshot, engine: engine, rules: rules)
        }
        observer.phase(database.name, "opening the source snapshot (\(database.source))")
        return try RestoreInput(source: try engine.openSource(readers: options.jobs), engine: engine, rules: rules,
                                leakSampleSize: options.leakSampleSize)
    }

    /// `lockedTarget`: a target session whose lock the caller already holds (`snapmask run`
    /// takes every database's lock before it starts); it is left open and locked.
    public func run(lockedTarget: (any TargetSession)? = nil) throws -> RestoreReport {
        var report = RestoreReport(database: database)
        report.snapshot = snapshot?.name
        var step = snapshot == nil ? "opening the source" : "opening the snapshot"
        // Until the shadow copy exists, a failure leaves nothing behind.
        func fail(_ error: Error, staging: StagingState = StagingState(data: .previous, shadow: .none)) -> Error {
            report.finishedAt = Date()
            report.outcome = "failed: \(error)"
            report.staging = staging
            if error is CheckFailed { return error }
            return RestoreFailed(database: database.name, step: step, underlying: "\(error)", report: report,
                                 staging: staging)
        }
        let input: RestoreInput
        do { input = try open() } catch { throw fail(error) }
        let (plan, source) = (input.plan, input.source)
        defer { source.close() }
        report.notices = source.notices
        for notice in source.notices { observer.phase(database.name, notice) }
        step = "classifying the columns for the coverage report"
        do {
            report.coverage = try input.coverage(database, observer)
        } catch {
            throw fail(error)
        }

        // Under subset: the keys are read and followed before the target is touched.
        var copySource = source
        if input.readsSource {
            step = "selecting the subset"
            do {
                if let selection = try SubsetSelection.select(for: plan, source: source, database: database.name, observer: observer) {
                    report.subset = selection.report
                    copySource = selection.filtering(source)
                }
            } catch { throw fail(error) }
        } else if plan.rules.rules.subset != nil {
            observer.phase(database.name, "subset: is applied when rows are read from the source; the snapshot holds the rows it was made with")
        }

        step = "connecting to the target"
        let target: any TargetSession
        if let lockedTarget {
            target = lockedTarget
        } else {
            do {
                target = try engine.openTarget()
                step = "taking the target's lock"
                try target.lock()
            } catch { throw fail(error) }
        }
        defer {
            if lockedTarget == nil {
                target.unlock()
                target.close()
            }
        }
        let interruption = RunInterruption.shared
        var swapStarted = false
        do {
            try interruption.check()
            step = "creating the shadow copy"
            observer.phase(database.name, "creating the shadow copy on \(database.target)")
            // Reading the source's schema and creating the shadow database each take a good part
            // of a small database's restore; they do not depend on each other. (The closure is
            // handed to one other thread and called there alone, while this one waits.)
            let readDefinition = HandOff(input.definition)
            let definitions = ResultList<SchemaDefinition>()
            try BlockingThreads.run(count: 2, name: "shadow") { index in
                if index == 0 { definitions.append(try readDefinition.value()) } else { try target.createShadowContainer() }
            }
            let definition = definitions.items[0]
            try target.prepareShadow(definition: definition, plan: plan)

            step = "copying tables"
            observer.phase(database.name, "copying \(plan.tables.count) tables with \(options.jobs) jobs")
            report.tables = try interruption.whileRunning(onInterrupt: { target.interrupt() }) {
                try TableCopier(database: database.name, options: options, observer: observer)
                    .copy(plan.tables, source: copySource, splitting: true, serializedLoads: { target.serializedLoads($0) },
                          makeWriter: { try target.makeWriter(for: $0) },
                          makeMasker: input.makeMasker, tableLoaded: { try target.tableLoaded($0) })
            }
            input.recordMaskedColumns(in: &report.tables)

            try interruption.check()
            step = "creating indexes, constraints and triggers"
            observer.phase(database.name, "creating indexes, constraints, foreign keys and triggers; analyzing")
            try interruption.whileRunning(onInterrupt: { target.interrupt() }) {
                try target.finishSchema(definition: definition, plan: plan)
            }
            try interruption.check()

            step = "verifying row counts"
            try CountMismatch.verify(plan, report.tables, target: target)
            report.rowCountsVerified = true

            step = "applying overrides"
            observer.phase(database.name, "applying \(database.overrides.steps.count) overrides")
            report.overrides = try target.applyOverrides(database.overrides)

            step = "checking for leaked values"
            observer.phase(database.name, input.leakCheckPhase)
            report.leakChecks = try input.checkLeaks(target)
            if report.leakChecks.contains(where: { $0.leaks > 0 }) { throw LeakFound(results: report.leakChecks) }

            // Last moment to stop without touching staging; once begun, the swap runs to its end
            // (each engine bounds it) so staging is never left between two states by a signal.
            try interruption.check()
            step = "swapping the shadow copy in"
            observer.phase(database.name, "swapping the shadow copy in as \(database.target)")
            swapStarted = true
            try target.swap()
        } catch {
            observer.phase(database.name, "failed while \(step); removing the shadow copy")
            target.discardShadow()
            throw fail(error, staging: target.inspectStaging(swapStarted: swapStarted))
        }
        report.finishedAt = Date()
        report.outcome = "swapped"
        return report
    }
}

/// A sanitized snapshot to restore from: its reader, its stored schema and its leak check.
public struct SnapshotInput: Sendable {
    public let name: String
    public let open: @Sendable () throws -> any SourceSession
    public let definition: SchemaDefinition
    /// Compares the loaded shadow copy with what the snapshot recorded of the originals, after the
    /// overrides ran; one result per masked column or path rule, as the restore's own leak check.
    /// The engine's array text form is passed for `array: true` columns, compared element by element.
    public let checkLeaks: @Sendable (RestorePlan, any TargetSession, (any ArrayLiteralCodec)?) throws -> [LeakCheckResult]
    /// What the snapshot's run did to each column (nil in snapshots made before it was recorded).
    public let coverage: CoverageReport?

    public init(name: String, definition: SchemaDefinition, coverage: CoverageReport? = nil,
                checkLeaks: @escaping @Sendable (RestorePlan, any TargetSession, (any ArrayLiteralCodec)?) throws -> [LeakCheckResult],
                open: @escaping @Sendable () throws -> any SourceSession) {
        self.name = name
        self.coverage = coverage
        self.definition = definition
        self.checkLeaks = checkLeaks
        self.open = open
    }
}

extension CompiledRules {
    /// The rules of a restore from a sanitized snapshot: its rows were masked when it was made
    /// and nothing is masked again, so no transformer is built and no masking key is needed.
    public static func forMaskedSnapshot(_ rules: RuleSet) -> CompiledRules {
        CompiledRules(rules: rules, tables: [])
    }
}
