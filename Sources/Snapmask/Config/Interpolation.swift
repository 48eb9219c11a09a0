/// Replaces `${VAR}` (and `${VAR:-default}`) with values from the environment. A missing variable
/// is an error naming it; the value itself is never repeated in a message, as it may be a secret.
public struct Interpolator: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func expand(_ text: String, at location: SourceLocation?) throws -> String {
        guard text.contains("${") else { return text }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigError("'${' is not closed: write ${NAME} to use the environment variable NAME", at: location)
            }
            let body = rest[start.upperBound..<end]
            var name = Substring(body)
            var fallback: Substring?
            if let dash = body.range(of: ":-") {
                name = body[..<dash.lowerBound]
                fallback = body[dash.upperBound...]
            }
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw ConfigError("'${\(body)}' is not a valid variable reference: use ${NAME} with letters, digits and _", at: location)
            }
            if let value = environment[String(name)], !value.isEmpty {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                throw ConfigError("environment variable \(name) is not set; export it or write ${\(name):-default}", at: location)
            }
            rest = rest[rest.index(after: end)...]
        }
        output += rest
        return output
    }
}
