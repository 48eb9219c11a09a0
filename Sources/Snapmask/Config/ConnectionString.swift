import Foundation

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
    /// The query parameters, without `auth` (which is snapmask's, never a driver's).
    public let query: [(key: String, value: String)]
    /// The password of the URL, or an IAM token per connection (`auth=iam`).
    public let authentication: DatabaseAuthentication
    /// The `auth=` value as written, when the URL has one.
    let authenticationParameter: String?

    public init(_ raw: String, at location: SourceLocation? = nil) throws {
        self.raw = raw
        guard let parts = Self.split(raw) else {
            // Never echo the value: a malformed URL may still hold a password.
            throw ConfigError("not a database URL: expected scheme://user:password@host:port/database "
                                  + "(percent-encode special characters in the password)", at: location)
        }
        scheme = parts.scheme.lowercased()
        if let userInfo = parts.userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                user = Self.percentDecoded(userInfo[..<colon])
                password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else {
                user = Self.percentDecoded(userInfo)
                password = nil
            }
        } else {
            user = nil
            password = nil
        }
        if let password { SecretScrubber.register(password) }
        hosts = String(parts.hosts)
        database = parts.path.flatMap { $0.isEmpty ? nil : Self.percentDecoded($0) }
        let parameters = (parts.query ?? "").split(separator: "&").map { pair in
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (key: Self.percentDecoded(pieces[0]), value: pieces.count > 1 ? Self.percentDecoded(pieces[1]) : "")
        }
        query = parameters.filter { $0.key != DatabaseAuthentication.parameter }
        for (key, value) in query where Self.isSecretParameter(Substring(key)) { SecretScrubber.register(value) }
        authenticationParameter = parameters.last { $0.key == DatabaseAuthentication.parameter }?.value
        if let given = authenticationParameter {
            guard let chosen = DatabaseAuthentication(rawValue: given.lowercased()) else {
                throw ConfigError("auth=\(given) in \(Self.redact(raw)): use auth=iam (an IAM token per connection) "
                                      + "or auth=password", at: location)
            }
            authentication = chosen
        } else {
            authentication = .password
        }
        if authentication == .iam { try checkIAM(at: location) }
    }

    /// What an IAM token needs: a PostgreSQL or MySQL URL, one host (the token is signed for
    /// it), a user (the token is for it) and no password (it would be ignored, and a DBA reading
    /// the job file would think it is used).
    private func checkIAM(at location: SourceLocation?) throws {
        let shown = Self.redact(raw)
        guard DatabaseAuthentication.iamSchemes.contains(scheme) else {
            throw ConfigError("\(shown): IAM authentication (auth=iam) is for PostgreSQL and MySQL (RDS, Aurora); "
                                  + "a \(scheme):// server logs in with its own users", at: location)
        }
        let host = primaryHost.host
        guard !hosts.contains(","), !host.isEmpty, !host.hasPrefix("/") else {
            throw ConfigError("\(shown): IAM authentication signs its token for one host name: give exactly one "
                                  + "(the cluster or instance endpoint)", at: location)
        }
        guard let user, !user.isEmpty else {
            throw ConfigError("\(shown): IAM authentication needs the database user in the URL "
                                  + "(\(scheme)://USER@host/...): the token is made for that user", at: location)
        }
        if let password, !password.isEmpty {
            throw ConfigError("\(shown): a URL with IAM authentication carries no password (a token per connection "
                                  + "replaces it); remove it", at: location)
        }
    }

    /// The URL as a driver should parse it: the user and password percent-encoded, so a password
    /// holding '@', '/', '?', ':' or '%' cannot be cut into a host name or a database name (and
    /// quoted back in the driver's error).
    /// snapmask's own `auth=` parameter is left out: no driver knows it.
    public var forDriver: String {
        guard let parts = Self.split(raw), parts.userInfo != nil || authenticationParameter != nil else { return raw }
        var text = String(parts.scheme) + "://"
        if parts.userInfo != nil {
            if let user { text += Self.percentEncoded(user) }
            if let password { text += ":" + Self.percentEncoded(password) }
            text += "@"
        }
        text += parts.hosts
        if let path = parts.path { text += "/" + path }
        if let query = parts.query {
            let kept = query.split(separator: "&").filter { pair in
                Self.percentDecoded(pair.prefix { $0 != "=" }) != DatabaseAuthentication.parameter
            }
            if !kept.isEmpty { text += "?" + kept.joined(separator: "&") }
        }
        return text
    }

    /// Whether the URL has a query part (a '?' in a password does not count).
    var hasQuery: Bool { Self.split(raw)?.query != nil }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private struct Parts {
        var scheme: Substring
        var userInfo: Substring?
        var hosts: Substring
        var path: Substring?
        var query: Substring?
    }

    /// scheme://[userinfo@]hosts[/path][?query]. The user info ends at the last '@' before the
    /// host, so a password holding '/', '?' or '@' (as base64 passwords do) still parses.
    private static func split(_ raw: String) -> Parts? {
        guard let schemeEnd = raw.range(of: "://"), schemeEnd.lowerBound > raw.startIndex,
              raw[..<schemeEnd.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." })
        else { return nil }
        var rest = raw[schemeEnd.upperBound...]
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let hosts = rest[..<hostEnd]
        rest = rest[hostEnd...]
        var path: Substring?
        var query: Substring?
        if rest.first == "/" {
            let queryStart = rest.firstIndex(of: "?") ?? rest.endIndex
            path = rest[rest.index(after: rest.startIndex)..<queryStart]
            rest = rest[queryStart...]
        }
        if rest.first == "?" { query = rest.dropFirst() }
        return Parts(scheme: raw[..<schemeEnd.lowerBound], userInfo: userInfo, hosts: hosts, path: path, query: query)
    }

    public static func == (lhs: ConnectionString, rhs: ConnectionString) -> Bool { lhs.raw == rhs.raw }
    public func hash(into hasher: inout Hasher) { hasher.combine(raw) }

    /// The first host's name and port (nil when the URL gives none).
    public var primaryHost: (host: String, port: Int?) {
        Self.hostAndPort(hosts.split(separator: ",").first.map(String.init) ?? "")
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port` split in two.
    public static func hostAndPort(_ first: String) -> (host: String, port: Int?) {
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

    /// Parameters whose value is hidden: any name holding password, secret or token
    /// (`password`, `sslpassword`, `tlsCertificateKeyFilePassword`, `aws_session_token`), and
    /// MongoDB's `authMechanismProperties` (it may carry AWS credentials).
    static func isSecretParameter(_ name: Substring) -> Bool {
        let lowered = name.lowercased()
        return ["password", "secret", "token"].contains { lowered.contains($0) } || lowered == "authmechanismproperties"
    }

    static func redact(_ url: String) -> String {
        guard let parts = split(url) else { return "(not a valid URL)" }
        var text = String(parts.scheme) + "://"
        if let userInfo = parts.userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                text += userInfo[..<colon] + ":***@"
            } else {
                text += userInfo + "@"
            }
        }
        text += parts.hosts
        if let path = parts.path { text += "/" + path }
        if let query = parts.query {
            text += "?" + query.split(separator: "&").map { pair -> String in
                let pieces = pair.split(separator: "=", maxSplits: 1)
                if let name = pieces.first, isSecretParameter(name) { return "\(name)=***" }
                return String(pair)
            }.joined(separator: "&")
        }
        return text
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
