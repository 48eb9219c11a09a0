import Foundation

/// What a restore reports while it runs (logs, progress displays, metrics).
public protocol RestoreObserver: Sendable {
    func phase(_ database: String, _ message: String)
    func tableStarted(_ database: String, table: String, estimatedRows: Int)
    func tableProgress(_ database: String, table: String, rows: Int)
    func tableFinished(_ database: String, table: String, rows: Int, seconds: Double)
}

public struct RestoreOptions: Sendable {
    /// Tables copied at the same time.
    public var jobs: Int
    /// Original values sampled per masked column for the leak check.
    public var leakSampleSize: Int
    /// Batches buffered between reading and masking, and between masking and writing.
    public var queueDepth: Int
    /// Threads masking one table's batches (tables without masked columns skip this step).
    public var maskThreads: Int

    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, leakSampleSize: Int = 100, queueDepth: Int = 4,
                maskThreads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.jobs = max(1, jobs)
        self.leakSampleSize = leakSampleSize
        self.queueDepth = queueDepth
        self.maskThreads = max(1, maskThreads)
    }
}

/// A restore that stopped: the step it was in and why. Staging is unchanged and the shadow
/// copy was removed.
public struct RestoreFailed: Error, Sendable, CustomStringConvertible {
    public var database: String
    public var step: String
    public var underlying: String
    public var report: RestoreReport

    public var description: String {
        "restore of \(database) failed while \(step): \(underlying)\nstaging is unchanged; the shadow copy was removed"
    }
}

/// Row counts in the shadow copy differ from what was read from the source.
public struct CountMismatch: Error, Sendable, CustomStringConvertible {
    public var mismatches: [(table: String, read: Int, written: Int)]

    public var description: String {
        "row counts differ between source and shadow copy: "
            + mismatches.map { "\($0.table) read \($0.read), shadow has \($0.written)" }.joined(separator: "; ")
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

    public init(database: DatabaseJob, engine: any DatabaseEngine, rules: CompiledRules, options: RestoreOptions,
                observer: any RestoreObserver) {
        self.database = database
        self.engine = engine
        self.rules = rules
        self.options = options
        self.observer = observer
    }

    /// Opens the source snapshot and checks the rules against its schema; nothing is written.
    public func plan() throws -> (plan: RestorePlan, source: any SourceSession) {
        observer.phase(database.name, "opening the source snapshot (\(database.source))")
        let source = try engine.openSource(readers: options.jobs)
        do {
            return (try RestorePlan.make(rules: rules, schema: source.schema), source)
        } catch {
            source.close()
            throw error
        }
    }

    public func run() throws -> RestoreReport {
        var report = RestoreReport(database: database)
        var step = "opening the source"
        func fail(_ error: Error) -> Error {
            report.finishedAt = Date()
            report.outcome = "failed: \(error)"
            if error is CheckFailed { return error }
            return RestoreFailed(database: database.name, step: step, underlying: "\(error)", report: report)
        }
        let (plan, source): (RestorePlan, any SourceSession)
        do { (plan, source) = try self.plan() } catch { throw fail(error) }
        defer { source.close() }
        for notice in source.notices { observer.phase(database.name, notice) }

        step = "connecting to the target"
        let target: any TargetSession
        do {
            target = try engine.openTarget()
            step = "taking the target's lock"
            try target.lock()
        } catch { throw fail(error) }
        defer {
            target.unlock()
            target.close()
        }
        do {
            step = "creating the shadow copy"
            observer.phase(database.name, "creating the shadow copy on \(database.target)")
            try target.prepareShadow(source: source, plan: plan)

            step = "copying tables"
            observer.phase(database.name, "copying \(plan.tables.count) tables with \(options.jobs) jobs")
            report.tables = try copyTables(plan, source: source, target: target)

            step = "creating indexes, constraints and triggers"
            observer.phase(database.name, "creating indexes, constraints, foreign keys and triggers; analyzing")
            try target.finishSchema(source: source, plan: plan)

            step = "verifying row counts"
            try verifyCounts(plan, report.tables, target: target)
            report.rowCountsVerified = true

            step = "applying overrides"
            observer.phase(database.name, "applying \(database.overrides.steps.count) overrides")
            report.overrides = try target.applyOverrides(database.overrides)

            step = "checking for leaked values"
            observer.phase(database.name, "checking for original values in the shadow copy")
            report.leakChecks = try LeakCheck.run(plan: plan, source: source, target: target,
                                                  sampleSize: options.leakSampleSize)
            if report.leakChecks.contains(where: { $0.leaks > 0 }) { throw LeakFound(results: report.leakChecks) }

            step = "swapping the shadow copy in"
            observer.phase(database.name, "swapping the shadow copy in as \(database.target)")
            try target.swap()
        } catch {
            observer.phase(database.name, "failed while \(step); removing the shadow copy")
            target.discardShadow()
            throw fail(error)
        }
        report.finishedAt = Date()
        report.outcome = "swapped"
        return report
    }

    /// Copies every table, `jobs` at a time, largest first. Each table streams through a bounded
    /// queue: one thread reads and masks, another writes.
    func copyTables(_ plan: RestorePlan, source: any SourceSession, target: any TargetSession) throws -> [RestoreReport.Table] {
        let work = WorkList(plan.tables)
        let results = ResultList<RestoreReport.Table>()
        let failure = ErrorBox()
        try BlockingThreads.run(count: min(options.jobs, max(1, plan.tables.count)), name: "copy") { _ in
            while !failure.hasError, let table = work.next() {
                do {
                    results.append(try copy(table, source: source, target: target, cancelled: failure))
                } catch {
                    failure.record(error)
                    throw error
                }
            }
        }
        return results.items.sorted { $0.name < $1.name }
    }

    private func copy(_ table: TablePlan, source: any SourceSession, target: any TargetSession,
                      cancelled: ErrorBox) throws -> RestoreReport.Table {
        let started = Date()
        let masked = table.maskedColumns.map(\.name)
        if table.skipData {
            return .init(name: table.name, rowsRead: 0, rowsWritten: 0, maskedColumns: [], dataSkipped: true, seconds: 0)
        }
        observer.tableStarted(database.name, table: table.name, estimatedRows: table.table.estimatedRows)
        let reader = HandOff(try source.makeReader(for: table))
        let writer: any BatchWriter
        do {
            writer = try target.makeWriter(for: table)
        } catch {
            reader.value.close()
            throw error
        }
        let masker = engine.makeMasker(for: table)
        // reader → raw → maskers → ready → writer. Several maskers per table, because masking is
        // the step that costs CPU; COPY and LOAD DATA accept rows in any order.
        let maskers = table.masks.isEmpty ? 0 : options.maskThreads
        let raw = BoundedQueue<RowBatch>(capacity: options.queueDepth)
        let ready = BoundedQueue<RowBatch>(capacity: options.queueDepth)
        let rowsRead = Counter()
        let maskersDone = Counter()
        let failure = ErrorBox()
        let workers = DispatchGroup()
        @Sendable func fail(_ error: Error) {
            failure.record(error)
            raw.fail(error)
            ready.fail(error)
        }
        func start(_ name: String, _ body: @escaping @Sendable () throws -> Void) {
            workers.enter()
            let thread = Thread {
                defer { workers.leave() }
                do { try body() } catch { fail(error) }
            }
            thread.name = name
            thread.stackSize = 8 << 20
            thread.start()
        }
        start("read-\(table.name)") {
            defer { reader.value.close() }
            while let batch = try reader.value.next() {
                if let error = cancelled.first { throw error }
                rowsRead.add(batch.rowCount)
                if maskers == 0 { try ready.put(batch) } else { try raw.put(batch) }
            }
            if maskers == 0 { ready.close() } else { raw.close() }
        }
        for index in 0..<maskers {
            start("mask-\(index)-\(table.name)") {
                while let batch = try raw.take() { try ready.put(try masker.mask(batch)) }
                if maskersDone.increment() == maskers { ready.close() }
            }
        }

        var rowsWritten = 0
        do {
            while let batch = try ready.take() {
                try writer.write(batch)
                rowsWritten += batch.rowCount
                observer.tableProgress(database.name, table: table.name, rows: rowsWritten)
            }
            rowsWritten = try writer.finish()
        } catch {
            fail(error)
            workers.wait()
            throw failure.first ?? error
        }
        workers.wait()
        if let error = failure.first { throw error }
        let seconds = Date().timeIntervalSince(started)
        observer.tableFinished(database.name, table: table.name, rows: rowsWritten, seconds: seconds)
        return .init(name: table.name, rowsRead: rowsRead.value, rowsWritten: rowsWritten, maskedColumns: masked,
                     dataSkipped: false, seconds: seconds)
    }

    private func verifyCounts(_ plan: RestorePlan, _ tables: [RestoreReport.Table], target: any TargetSession) throws {
        var mismatches: [(String, Int, Int)] = []
        for table in plan.tables where !table.skipData {
            let read = tables.first { $0.name == table.name }?.rowsRead ?? 0
            let counted = try target.countRows(table)
            if counted != read { mismatches.append((table.name, read, counted)) }
        }
        if !mismatches.isEmpty { throw CountMismatch(mismatches: mismatches) }
    }
}

/// Moves a non-Sendable object to the one thread that uses it from then on.
struct HandOff<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// Hands out tables to copy threads, one at a time.
final class WorkList: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: [TablePlan]

    init(_ tables: [TablePlan]) {
        remaining = tables.reversed()
    }

    func next() -> TablePlan? {
        lock.lock()
        defer { lock.unlock() }
        return remaining.popLast()
    }
}

final class ResultList<Item>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Item] = []

    func append(_ item: Item) {
        lock.lock()
        stored.append(item)
        lock.unlock()
    }

    var items: [Item] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0

    func add(_ amount: Int) {
        lock.lock()
        total += amount
        lock.unlock()
    }

    /// Adds one and returns the new total.
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        total += 1
        return total
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return total
    }
}
