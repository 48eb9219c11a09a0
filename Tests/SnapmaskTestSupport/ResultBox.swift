import Foundation
import Snapmask

/// The outcome of a restore running on another thread.
public final class ResultBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<RestoreReport, Error>?

    public init() {}

    public func set(_ value: Result<RestoreReport, Error>) {
        condition.lock()
        result = value
        condition.broadcast()
        condition.unlock()
    }

    public func wait() -> Result<RestoreReport, Error> {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}
