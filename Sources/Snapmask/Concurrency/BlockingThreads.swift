import Foundation

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

extension BlockingThreads {
    /// Runs `body` for every item on one thread per context (a connection that thread alone
    /// uses), so several rounds of work share the connections of the first instead of opening
    /// their own. Stops handing out items after the first error.
    public static func forEach<Item: Sendable, Context: Sendable>(
        _ items: [Item], contexts: [Context], name: String, _ body: @escaping @Sendable (Item, Context) throws -> Void
    ) throws {
        guard !items.isEmpty, !contexts.isEmpty else { return }
        let next = Counter()
        let failure = ErrorBox()
        try run(count: min(contexts.count, items.count), name: name) { thread in
            while !failure.hasError {
                let index = next.increment() - 1
                guard index < items.count else { return }
                do { try body(items[index], contexts[thread]) } catch {
                    failure.record(error)
                    throw error
                }
            }
        }
    }

    /// `count` contexts made at once on threads of their own (connections: their set-up round
    /// trips overlap); the first error is rethrown.
    public static func make<Context: Sendable>(_ count: Int, name: String,
                                               _ makeContext: @escaping @Sendable () throws -> Context) throws -> [Context] {
        let made = ResultList<(Int, Context)>()
        try run(count: count, name: name) { index in made.append((index, try makeContext())) }
        return made.items.sorted { $0.0 < $1.0 }.map(\.1)
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
