import Foundation

/// A blocking FIFO of fixed capacity between a producing and a consuming thread: the producer
/// waits when it is full, so memory stays flat whatever the table size. Either side can fail it,
/// which wakes the other.
public final class BoundedQueue<Element>: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false
    private var failure: Error?

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public struct Cancelled: Error {}

    /// Blocks while full; throws if the queue failed.
    public func put(_ item: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && failure == nil { condition.wait() }
        if failure != nil { throw Cancelled() }
        items.append(item)
        condition.broadcast()
    }

    /// Blocks while empty; nil once closed and drained; throws if the queue failed.
    public func take() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed && failure == nil { condition.wait() }
        if let failure { throw failure }
        if items.isEmpty { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    public func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs blocking work (C library calls) on threads of its own rather than on Swift's cooperative
/// pool, which has only one thread per core and must not be blocked.
public enum BlockingThreads {
    /// Runs `body(index)` on `count` threads and waits for all; the first error is rethrown
    /// after every thread ended.
    public static func run(count: Int, name: String, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        let group = DispatchGroup()
        let errors = ErrorBox()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do { try body(index) } catch { errors.record(error) }
            }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        if let error = errors.first { throw error }
    }
}

extension BlockingThreads {
    /// Runs `body` for every item on up to `threads` threads; each thread gets its own `context`
    /// (a connection) from `makeContext`. Stops handing out items after the first error.
    public static func forEach<Item: Sendable, Context>(
        _ items: [Item], threads: Int, name: String, makeContext: @escaping @Sendable () throws -> Context,
        _ body: @escaping @Sendable (Item, Context) throws -> Void
    ) throws {
        guard !items.isEmpty else { return }
        let next = Counter()
        let failure = ErrorBox()
        try run(count: min(threads, items.count), name: name) { _ in
            let context = try makeContext()
            while !failure.hasError {
                let index = next.increment() - 1
                guard index < items.count else { return }
                do { try body(items[index], context) } catch {
                    failure.record(error)
                    throw error
                }
            }
        }
    }
}

/// The first error of several threads; later ones (usually consequences) are dropped.
final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    func record(_ error: Error) {
        lock.lock()
        if stored == nil || stored is BoundedQueue<RowBatch>.Cancelled { stored = error }
        lock.unlock()
    }

    var first: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    var hasError: Bool { first != nil }
}
