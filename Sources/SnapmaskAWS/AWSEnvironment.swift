import Foundation

/// The AWS settings of a process, read from the variables the AWS SDKs and the EKS webhooks use.
/// Always built from an explicit dictionary (never ProcessInfo behind the caller's back), so tests
/// and tools can give each client an environment of its own.
public struct AWSEnvironment: Sendable {
    public let variables: [String: String]

    public init(_ variables: [String: String]) {
        self.variables = variables
    }

    /// A variable's value, trimmed; nil when unset or blank (an empty `${VAR:-}` in a manifest).
    public func value(_ name: String) -> String? {
        guard let raw = variables[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
        return raw
    }

    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    public var region: String? { value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") }

    /// The endpoint configured for a service: `AWS_ENDPOINT_URL_<SERVICE>` (`AWS_ENDPOINT_URL_STS`),
    /// else `AWS_ENDPOINT_URL`, as the SDKs read them.
    public func endpoint(service: String) -> String? {
        let suffix = service.uppercased().replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        return value("AWS_ENDPOINT_URL_\(suffix)") ?? value("AWS_ENDPOINT_URL")
    }

    /// `true`, `1`, `yes` (any case).
    public func flag(_ name: String) -> Bool {
        guard let text = value(name)?.lowercased() else { return false }
        return ["true", "1", "yes"].contains(text)
    }

    /// The DNS suffix of AWS endpoints in a region: amazonaws.com, or amazonaws.com.cn in China.
    public static func dnsSuffix(region: String) -> String {
        region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
    }

    /// Whether a text can be a region name (letters, digits and dashes), so that it can be put
    /// in a host name and a signing scope.
    public static func isRegionName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
    }
}
