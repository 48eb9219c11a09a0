import Foundation

/// The work on a table that can start as soon as its rows are loaded (its secondary indexes,
/// then its row count), each table on a thread and a connection of its own, while other tables
/// still load: on a restore whose tables finish at different times that work no longer all
/// waits for the last table. At most `slots` run at once. `finishSchema` waits for them; a
/// failure is reported there, or by the next table to finish loading, which stops the copy early.
final class MySQLLoadedTables: @unchecked Sendable {
    private let lock = NSLock()
    private let running = DispatchGroup()
    private var started: Set<String> = []
    private var counts: [String: Int] = [:]
    private var failure: Error?
    private var slots: DispatchSemaphore?
    private var active = 0

    /// Starts `work` for `table` in the background, which returns the table's row count; throws
    /// an earlier failure instead.
    func start(_ table: String, slots count: Int, _ work: @escaping @Sendable () throws -> Int) throws {
        lock.lock()
        if let failure {
            lock.unlock()
            throw failure
        }
        started.insert(table)
        active += 1
        if slots == nil { slots = DispatchSemaphore(value: max(1, count)) }
        let slots = self.slots!
        lock.unlock()
        running.enter()
        let thread = Thread { [self] in
            slots.wait()
            defer {
                slots.signal()
                lock.lock()
                active -= 1
                lock.unlock()
                running.leave()
            }
            do {
                let rows = try work()
                lock.lock()
                counts[table] = rows
                lock.unlock()
            } catch {
                lock.lock()
                if failure == nil { failure = error }
                lock.unlock()
            }
        }
        thread.name = "loaded-\(table)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the work started; returns its tables, or throws the first failure.
    func finish() throws -> Set<String> {
        running.wait()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        return started
    }

    /// The rows counted in `table` once it was loaded (nothing writes a shadow table after that
    /// until the overrides, which come after the counts are verified).
    func rowCount(of table: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return counts[table]
    }

    /// Whether some work has not ended yet.
    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return active > 0
    }

    /// Waits for the work started, whatever its outcome (before the shadow copy is dropped).
    func settle() {
        running.wait()
    }
}
