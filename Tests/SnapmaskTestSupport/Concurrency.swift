import Foundation
import Snapmask

/// The outcome of work running on another thread (a restore, a snapshot, a statement).
public final class OutcomeBox<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<Value, Error>?

    public init() {}

    /// Starts `body` on a thread of its own.
    public static func start(_ body: @escaping @Sendable () throws -> Value) -> OutcomeBox<Value> {
        let outcome = OutcomeBox<Value>()
        Thread { outcome.set(Result { try body() }) }.start()
        return outcome
    }

    public func set(_ value: Result<Value, Error>) {
        condition.lock()
        result = value
        condition.broadcast()
        condition.unlock()
    }

    public var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return result != nil
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

/// Runs an action once, synchronously on the restore's thread, when the restore reaches a phase
/// (`when:`) or writes its first batch (`atFirstProgress:`), so a test can act at an exact point
/// between check, copy and swap.
public final class PhaseHook: RestoreObserver, @unchecked Sendable {
    private let phasePrefix: String?
    private let action: @Sendable () -> Void
    private let lock = NSLock()
    private var done = false

    /// At the first phase whose message starts with `prefix`.
    public init(when prefix: String, _ action: @escaping @Sendable () -> Void) {
        phasePrefix = prefix
        self.action = action
    }

    /// When the first batch of any table or collection has been written.
    public init(atFirstProgress action: @escaping @Sendable () -> Void) {
        phasePrefix = nil
        self.action = action
    }

    /// Whether the action ran.
    public var fired: Bool {
        lock.lock()
        defer { lock.unlock() }
        return done
    }

    private func fire(if matches: Bool) {
        lock.lock()
        let now = !done && matches
        if now { done = true }
        lock.unlock()
        if now { action() }
    }

    public func phase(_ database: String, _ message: String) {
        if let phasePrefix { fire(if: message.hasPrefix(phasePrefix)) }
    }

    public func tableProgress(_ database: String, table: String, rows: Int) {
        if phasePrefix == nil { fire(if: true) }
    }

    public func tableStarted(_ database: String, table: String, estimatedRows: Int) {}
    public func tableFinished(_ database: String, table: String, rows: Int, seconds: Double) {}
}

/// Polls `condition` every 50 ms for up to `seconds`.
public func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    } while Date() < deadline
    return false
}
