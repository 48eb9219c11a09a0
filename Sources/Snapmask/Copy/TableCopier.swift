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

    /// Copies the tables; the first failure stops the others and is rethrown.
    public func copy(_ tables: [TablePlan], source: any SourceSession,
                     makeWriter: @escaping @Sendable (TablePlan) throws -> any BatchWriter,
                     makeMasker: @escaping @Sendable (TablePlan) -> any BatchMasker) throws -> [RestoreReport.Table] {
        let work = WorkList(tables)
        let results = ResultList<RestoreReport.Table>()
        let failure = ErrorBox()
        try BlockingThreads.run(count: min(options.jobs, max(1, tables.count)), name: "copy") { _ in
            while !failure.hasError, let table = work.next() {
                do {
                    results.append(try copy(table, source: source, makeWriter: makeWriter, makeMasker: makeMasker,
                                            cancelled: failure))
                } catch {
                    failure.record(error)
                    throw error
                }
            }
        }
        return results.items.sorted { $0.name < $1.name }
    }

    private func copy(_ table: TablePlan, source: any SourceSession,
                      makeWriter: (TablePlan) throws -> any BatchWriter, makeMasker: (TablePlan) -> any BatchMasker,
                      cancelled: ErrorBox) throws -> RestoreReport.Table {
        let started = Date()
        let masked = table.maskedColumns.map(\.displayName)
        if table.skipData {
            return .init(name: table.name, rowsRead: 0, rowsWritten: 0, maskedColumns: [], dataSkipped: true, seconds: 0)
        }
        observer.tableStarted(database, table: table.name, estimatedRows: table.table.estimatedRows)
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

        var rowsWritten = 0
        do {
            while let batch = try ready.take() {
                try writer.write(batch)
                rowsWritten += batch.rowCount
                observer.tableProgress(database, table: table.name, rows: rowsWritten)
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
        observer.tableFinished(database, table: table.name, rows: rowsWritten, seconds: seconds)
        return .init(name: table.name, rowsRead: rowsRead.value, rowsWritten: rowsWritten, maskedColumns: masked,
                     dataSkipped: false, seconds: seconds)
    }

}
