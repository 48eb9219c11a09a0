/// A driver's error that says what snapmask was doing when it happened ("loading public.users
/// into the shadow copy: ..."). Every engine's error type is one, so shared code (the override
/// runner, the copy) adds its context the same way.
public protocol ContextualError: Error, CustomStringConvertible {
    /// What snapmask was doing, outermost first.
    var context: String? { get set }
}

extension ContextualError {
    public func adding(context outer: String) -> Self {
        var copy = self
        copy.context = context.map { "\(outer): \($0)" } ?? outer
        return copy
    }
}
