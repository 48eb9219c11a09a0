/// A database URL from the job file. It may carry a password, so its description is always the
/// redacted form; only drivers read `raw`.
public struct ConnectionString: Sendable, Hashable, CustomStringConvertible {
    public let raw: String
    public let scheme: String
    public let user: String?
    public let password: String?
    /// `host[:port]`, comma-separated when several (MongoDB replica sets).
    public let hosts: String
    /// The path without its leading slash (the database name), percent-decoded.
    public let database: String?
    public let query: [(key: String, value: String)]

    public init(_ raw: String, at location: SourceLocation? = nil) throws {
        self.raw = raw
        guard let schemeEnd = raw.range(of: "://") else {
            throw ConfigError("'\(Self.redact(raw))' is not a database URL: expected scheme://user:password@host:port/database",
                              at: location)
        }
        scheme = String(raw[..<schemeEnd.lowerBound]).lowercased()
        var rest = raw[schemeEnd.upperBound...]
        var queryText: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var pathText: Substring?
        if let slash = rest.firstIndex(of: "/") {
            pathText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                user = Self.percentDecoded(userInfo[..<colon])
                password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else {
                user = Self.percentDecoded(userInfo)
                password = nil
            }
            rest = rest[rest.index(after: at)...]
        } else {
            user = nil
            password = nil
        }
        hosts = String(rest)
        database = pathText.flatMap { $0.isEmpty ? nil : Self.percentDecoded($0) }
        query = queryText.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.percentDecoded(parts[0]), parts.count > 1 ? Self.percentDecoded(parts[1]) : "")
        }
    }

    public static func == (lhs: ConnectionString, rhs: ConnectionString) -> Bool { lhs.raw == rhs.raw }
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }

    /// The first host's name and port (nil when the URL gives none).
    public var primaryHost: (host: String, port: Int?) {
        let first = hosts.split(separator: ",").first.map(String.init) ?? ""
        if first.hasPrefix("["), let close = first.firstIndex(of: "]") {
            let host = String(first[first.index(after: first.startIndex)..<close])
            let after = first[first.index(after: close)...]
            return (host, after.hasPrefix(":") ? Int(after.dropFirst()) : nil)
        }
        if let colon = first.lastIndex(of: ":") {
            return (String(first[..<colon]), Int(first[first.index(after: colon)...]))
        }
        return (first, nil)
    }

    public func queryValue(_ key: String) -> String? { query.first { $0.key == key }?.value }

    /// The URL with any password (in the user part or a password-like parameter) replaced by ***.
    public var description: String { Self.redact(raw) }

    private static let secretParameters = ["password", "sslpassword", "secret", "token", "authmechanismproperties"]

    static func redact(_ url: String) -> String {
        var text = url
        if let schemeEnd = text.range(of: "://") {
            let afterScheme = text[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        guard let question = text.firstIndex(of: "?") else { return text }
        let pairs = text[text.index(after: question)...].split(separator: "&").map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1)
            if secretParameters.contains(parts[0].lowercased()) { return "\(parts[0])=***" }
            return String(pair)
        }
        return text[...question] + pairs.joined(separator: "&")
    }

    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
               let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
               let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index = utf8.index(after: low)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
