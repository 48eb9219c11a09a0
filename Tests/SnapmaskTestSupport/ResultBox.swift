import Foundation
import Snapmask

/// The outcome of a restore running on another thread.
public final class OutcomeBox<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, Error>?

    public init() {}

    public func set(_ value: Result<Value, Error>) {
        condition.lock()
        result = value
        condition.broadcast()
        condition.unlock()
    }

    public func wait() -> Result<Value, Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// A restore's outcome from another thread.
public typealias ResultBox = OutcomeBox<RestoreReport>
