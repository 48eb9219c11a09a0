import Foundation

/// Moves a non-Sendable object to the one thread that uses it from then on.
struct HandOff<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// Hands out work (tables, slices of tables) to threads, one item at a time, in order.
final class WorkList<Item>: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: [Item]

    init(_ items: [Item]) {
        remaining = items.reversed()
    }

    func next() -> Item? {
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
