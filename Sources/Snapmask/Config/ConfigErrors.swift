/// Every configuration problem found in one pass, so a DBA fixes them all at once.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError] = []) {
        self.errors = errors
    }


    /// Keeps any error: configuration errors as they are, others as a message.
    public mutating func append(_ error: any Error) {
        switch error {
        case let error as ConfigError: errors.append(error)
        case let error as ConfigErrors: errors.append(contentsOf: error.errors)
        default: errors.append(ConfigError("\(error)"))
        }
    }

    /// Runs `body`, keeping its error and carrying on.
    public mutating func collect(_ body: () throws -> Void) {
        do { try body() } catch { append(error) }
    }

    public func throwIfAny() throws {
        if !errors.isEmpty { throw self }
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
