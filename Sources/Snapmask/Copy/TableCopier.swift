import Foundation

/// Copies tables from a source to writers, `jobs` tables at a time, largest first. Each table
/// streams reader → bounded queue → masking threads → bounded queue → writer, so memory stays
/// flat whatever its size. Used by restores (writers load the shadow copy) and by snapshots
/// (writers store parts).
public struct TableCopier: Sendable {
    public let database: String
    public let options: RestoreOptions
    public let observer: any RestoreObserver

    public init(database: String, options: RestoreOptions, observer: any RestoreObserver) {
        self.database = database
        self.options = options
        self.observer = observer
    }

    /// Copies the tables; the first failure stops the others and is rethrown. With
    /// `splitting` (the writers accept several loads into one table at once), a table of at
    /// least `options.splitTablesFromRows` estimated rows is copied in slices, as the source
    /// splits it, so that one huge table uses every job. `tableLoaded` is called with a table's
    /// name once all of its rows are written, while other tables may still be copied.
    /// `serializedLoads` says why a table's slices would load one at a time; such a table is
    /// read whole.
    public func copy(_ tables: [TablePlan], source: any SourceSession, splitting: Bool = false,
                     serializedLoads: (TablePlan) -> String? = { _ in nil },
                     makeWriter: @escaping @Sendable (TablePlan) throws -> any BatchWriter,
                     makeMasker: @escaping @Sendable (TablePlan) -> any BatchMasker,
                     tableLoaded: @escaping @Sendable (String) throws -> Void = { _ in }) throws -> [RestoreReport.Table] {
        var parts: [(plan: TablePlan, tally: TableTally)] = []
        for table in tables {
            var splits = splitting && options.jobs > 1 && !table.skipData && table.table.estimatedRows >= options.splitTablesFromRows
            if splits, let reason = serializedLoads(table) {
                observer.phase(database, "reading \(table.name) whole: \(reason)")
                splits = false
            }
            let slices = splits ? try source.slices(of: table, into: options.jobs) : []
            let tally = TableTally(table, parts: max(1, slices.count))
            if slices.isEmpty {
                parts.append((table, tally))
            } else {
                observer.phase(database, "reading \(table.name) (~\(table.table.estimatedRows) rows) in \(slices.count) slices at once")
                parts += slices.map { (table.sliced($0), tally) }
            }
        }
        let work = WorkList(parts)
        let results = ResultList<RestoreReport.Table>()
        let failure = ErrorBox()
        try BlockingThreads.run(count: min(options.jobs, max(1, parts.count)), name: "copy") { _ in
            while !failure.hasError, let part = work.next() {
                do {
                    if let table = try copy(part.plan, tally: part.tally, source: source, makeWriter: makeWriter,
                                            makeMasker: makeMasker, cancelled: failure) {
                        results.append(table)
                        if !table.dataSkipped { try tableLoaded(table.name) }
                    }
                } catch {
                    failure.record(error)
                    throw error
                }
            }
        }
        return results.items.sorted { $0.name < $1.name }
    }

    /// Copies one table or one slice of it; returns the table's line of the report when this
    /// was its last part to finish.
    private func copy(_ table: TablePlan, tally: TableTally, source: any SourceSession,
                      makeWriter: (TablePlan) throws -> any BatchWriter, makeMasker: (TablePlan) -> any BatchMasker,
                      cancelled: ErrorBox) throws -> RestoreReport.Table? {
        if table.skipData {
            return .init(name: table.name, rowsRead: 0, rowsWritten: 0, maskedColumns: [], dataSkipped: true, seconds: 0)
        }
        if tally.start() {
            observer.tableStarted(database, table: table.name, estimatedRows: table.table.estimatedRows)
        }
        let reader = HandOff(try source.makeReader(for: table))
        let writer: any BatchWriter
        do {
            writer = try makeWriter(table)
        } catch {
            reader.value.close()
            throw error
        }
        let masker = makeMasker(table)
        // reader → raw → maskers → ready → writer. Several maskers per table, because masking is
        // the step that costs CPU; COPY and LOAD DATA accept rows in any order. Every batch goes
        // through the masker, whether or not the table has a masked column: the masker is what
        // checks each row and document against the rules (a field the sample missed, a JSON key
        // no rule names), so no path skips it.
        let maskers = options.maskThreads
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
                try RunInterruption.shared.check()
                rowsRead.add(batch.rowCount)
                try raw.put(batch)
            }
            raw.close()
        }
        for index in 0..<maskers {
            start("mask-\(index)-\(table.name)") {
                while let batch = try raw.take() { try ready.put(try masker.mask(batch)) }
                if maskersDone.increment() == maskers { ready.close() }
            }
        }

        let rowsWritten: Int
        do {
            while let batch = try ready.take() {
                try writer.write(batch)
                observer.tableProgress(database, table: table.name, rows: tally.sent(batch.rowCount))
            }
            rowsWritten = try writer.finish()
        } catch {
            fail(error)
            workers.wait()
            throw failure.first ?? error
        }
        workers.wait()
        if let error = failure.first { throw error }
        guard let finished = tally.finish(read: rowsRead.value, written: rowsWritten) else { return nil }
        observer.tableFinished(database, table: table.name, rows: finished.rowsWritten, seconds: finished.seconds)
        return finished
    }
}

/// A table's totals while its slices are copied: the first slice to start announces the table,
/// the last to finish reports it.
final class TableTally: @unchecked Sendable {
    private let lock = NSLock()
    private let name: String
    private let maskedColumns: [String]
    private var started: Date?
    private var partsLeft: Int
    private var rowsRead = 0, rowsWritten = 0, rowsSent = 0

    init(_ table: TablePlan, parts: Int) {
        name = table.name
        maskedColumns = table.maskedColumns.map(\.displayName)
        partsLeft = parts
    }

    /// True for the first part to start.
    func start() -> Bool {
        lock.withLock {
            defer { if started == nil { started = Date() } }
            return started == nil
        }
    }

    /// Rows handed to the table's writers so far, all parts together.
    func sent(_ rows: Int) -> Int {
        lock.withLock {
            rowsSent += rows
            return rowsSent
        }
    }

    /// The table's report once its last part finished, else nil.
    func finish(read: Int, written: Int) -> RestoreReport.Table? {
        lock.withLock {
            rowsRead += read
            rowsWritten += written
            partsLeft -= 1
            guard partsLeft == 0 else { return nil }
            return .init(name: name, rowsRead: rowsRead, rowsWritten: rowsWritten, maskedColumns: maskedColumns,
                         dataSkipped: false, seconds: Date().timeIntervalSince(started ?? Date()))
        }
    }
}
