import Foundation
import Snapmask

/// A testing aid: `SNAPMASK_AWS_ENDPOINT_MAP=PATTERN=HOST:PORT[,…]` makes snapmask connect to
/// HOST:PORT instead of the endpoint RDS gives for a temporary cluster, so a test against a
/// stand-in of the RDS API (which makes no real database) reads a local test server. PATTERN is
/// an endpoint host name, `*.SUFFIX`, or `*` for every one. Never needed on AWS.
public struct EndpointMap: Sendable, Equatable {
    public static let variable = "SNAPMASK_AWS_ENDPOINT_MAP"

    public struct Rule: Sendable, Equatable {
        public var pattern: String
        public var host: String
        public var port: Int
    }

    public var rules: [Rule]

    public init(_ text: String?) throws {
        rules = []
        for entry in (text ?? "").split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigError("\(Self.variable): '\(trimmed)' is not PATTERN=HOST:PORT (e.g. *=127.0.0.1:5432)")
            }
            let pattern = String(trimmed[..<equals]).lowercased()
            let (host, port) = ConnectionString.hostAndPort(String(trimmed[trimmed.index(after: equals)...]))
            guard !pattern.isEmpty, !host.isEmpty, let port else {
                throw ConfigError("\(Self.variable): '\(trimmed)' is not PATTERN=HOST:PORT (e.g. *=127.0.0.1:5432)")
            }
            rules.append(Rule(pattern: pattern, host: host, port: port))
        }
    }

    /// Where to connect for the endpoint `host` (nil: as RDS said).
    public func target(for host: String) -> (host: String, port: Int)? {
        let name = host.lowercased()
        for rule in rules {
            let matches = rule.pattern == "*" || rule.pattern == name
                || (rule.pattern.hasPrefix("*.") && name.hasSuffix(String(rule.pattern.dropFirst())))
            if matches { return (rule.host, rule.port) }
        }
        return nil
    }
}
