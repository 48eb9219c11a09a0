/// A secret from the configuration (an archive key): its description never shows the value.
public struct SecretText: Sendable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) {
        self.value = value
        SecretScrubber.register(value)
    }

    public var description: String { "(redacted)" }
}
