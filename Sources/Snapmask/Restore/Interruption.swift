import Foundation

/// A signal (SIGTERM from Kubernetes, SIGINT from a terminal) asked the run to stop.
public struct RunInterrupted: Error, Sendable, CustomStringConvertible {
    public var signal: Int32

    public init(signal: Int32) {
        self.signal = signal
    }

    public var description: String {
        "interrupted by \(signal == 15 ? "SIGTERM" : signal == 2 ? "SIGINT" : "signal \(signal)")"
    }
}

/// Signals asking the run to stop. The command line records them here; copy threads and the
/// runner look between batches and steps, and targets are asked to stop their statements, so a
/// run stops promptly, cleans up, and says what staging holds.
public final class RunInterruption: @unchecked Sendable {
    public static let shared = RunInterruption()

    private let lock = NSLock()
    private var received: Int32?
    private var handlers: [Int: @Sendable () -> Void] = [:]
    private var nextHandler = 0

    /// The signal received, if any.
    public var signal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Throws once a signal arrived.
    public func check() throws {
        if let signal { throw RunInterrupted(signal: signal) }
    }

    /// Called by the signal handler: records the signal and runs the registered handlers.
    public func request(signal: Int32) {
        lock.lock()
        if received == nil { received = signal }
        let current = Array(handlers.values)
        lock.unlock()
        for handler in current { handler() }
    }

    /// Runs `handler` when a signal arrives while `body` runs. When `body` fails after a signal
    /// arrived, the failure is the interruption: the handler cancelled what `body` was doing (a
    /// statement ended "canceling statement due to user request" is not a database problem).
    public func whileRunning<T>(onInterrupt handler: @escaping @Sendable () -> Void, _ body: () throws -> T) throws -> T {
        lock.lock()
        let id = nextHandler
        nextHandler += 1
        handlers[id] = handler
        lock.unlock()
        defer {
            lock.lock()
            handlers[id] = nil
            lock.unlock()
        }
        do {
            return try body()
        } catch {
            if let signal, !(error is RunInterrupted) { throw RunInterrupted(signal: signal) }
            throw error
        }
    }
}
