/// A configuration problem: a job file, rule file or override file that cannot be used as written.
/// The message names the place and says what was expected, so it can be fixed without reading code.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var location: SourceLocation?
    public var message: String

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String {
        guard let location else { return message }
        return "\(location): \(message)"
    }
}
