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
