import Foundation

/// Secondary index builds started as soon as their table is loaded, each on a thread and a
/// connection of its own, while other tables still load: on a restore whose tables finish at
/// different times the builds no longer all wait for the last table. At most `slots` run at
/// once. `finishSchema` waits for them; a failed build is reported there, or by the next
/// table to finish loading, which stops the copy early.
final class MySQLIndexBuilds: @unchecked Sendable {
    private let lock = NSLock()
    private let running = DispatchGroup()
    private var started: Set<String> = []
    private var failure: Error?
    private var slots: DispatchSemaphore?
    private var active = 0

    /// Starts `build` for `table` in the background; throws an earlier build's failure instead.
    func start(_ table: String, slots count: Int, _ build: @escaping @Sendable () throws -> Void) throws {
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
                try build()
            } catch {
                lock.lock()
                if failure == nil { failure = error }
                lock.unlock()
            }
        }
        thread.name = "index-\(table)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for every build started; returns their tables, or throws the first failure.
    func finish() throws -> Set<String> {
        running.wait()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        return started
    }

    /// Whether a build has not ended yet.
    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return active > 0
    }

    /// Waits for every build started, whatever its outcome (before the shadow copy is dropped).
    func settle() {
        running.wait()
    }
}
