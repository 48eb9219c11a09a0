import Foundation

/// A value made on first use and then shared (the connection a target verifies the shadow copy
/// on), dropped on demand (before a swap, which must not find it connected). Thread-safe.
public final class Lazy<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value?

    public init() {}

    public func get(_ make: () throws -> Value) rethrows -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value { return value }
        let made = try make()
        value = made
        return made
    }

    public func drop() {
        lock.lock()
        value = nil
        lock.unlock()
    }
}
