/// Replaces `${VAR}` (and `${VAR:-default}`) with values from the environment. A missing variable
/// is an error naming it; the value itself is never repeated in a message, as it may be a secret.
///
/// What a file may expand is scoped: rule files expand nothing (a rule has no business with the
/// environment), and override files may not expand snapmask's own keys (`SNAPMASK_*`) or any
/// variable a source URL uses, since an override's value lands in staging, where a reviewed
/// override could otherwise copy a production password.
public struct Interpolator: Sendable {
    public var environment: [String: String]
    /// Variables this file may not expand, with the reason.
    public var refused: [String: String]
    /// Prefixes of variable names this file may not expand, with the reason.
    public var refusedPrefixes: [(prefix: String, reason: String)]
    /// Set for files that expand nothing: the reason.
    public var noExpansion: String?

    public init(environment: [String: String], refused: [String: String] = [:],
                refusedPrefixes: [(prefix: String, reason: String)] = []) {
        self.environment = environment
        self.refused = refused
        self.refusedPrefixes = refusedPrefixes
    }

    /// For files that take no `${VAR}` at all.
    public static func none(_ reason: String) -> Interpolator {
        var interpolator = Interpolator(environment: [:])
        interpolator.noExpansion = reason
        return interpolator
    }

    /// For override files: no snapmask key, no variable of a source URL.
    public static func overrides(environment: [String: String], sourceVariables: [String: String]) -> Interpolator {
        var refused: [String: String] = [:]
        for (name, database) in sourceVariables {
            refused[name] = "it is used in the source URL of database '\(database)', and an override's value is written into staging"
        }
        return Interpolator(environment: environment, refused: refused, refusedPrefixes: [
            ("SNAPMASK_", "snapmask's own keys never go into staging data"),
        ])
    }

    /// The variable names `${...}` references in `text` (for finding the ones a URL uses).
    public static func variables(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
            let body = rest[start.upperBound..<end]
            names.append(String(body.range(of: ":-").map { body[..<$0.lowerBound] } ?? body))
            rest = rest[rest.index(after: end)...]
        }
        return names
    }

    public func expand(_ text: String, at location: SourceLocation?) throws -> String {
        guard text.contains("${") else { return text }
        if let noExpansion {
            throw ConfigError("'${' in a value: \(noExpansion)", at: location)
        }
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
            let why = refused[String(name)] ?? refusedPrefixes.first { name.hasPrefix($0.prefix) }?.reason
            if let why {
                throw ConfigError("this file may not use ${\(name)}: \(why). Write the value itself, or give it a variable "
                                      + "of its own", at: location)
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
