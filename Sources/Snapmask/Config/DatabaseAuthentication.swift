import Foundation

/// How snapmask logs in to a database: with the password of its URL, or with a short-lived IAM
/// authentication token made for each new connection (`auth: iam` in the job file, or
/// `?auth=iam` in the URL). The core knows tokens only through `DatabaseTokenIssuer`: the
/// program installs the AWS one (RDS IAM tokens), so neither the core nor the drivers know AWS.
public enum DatabaseAuthentication: String, Sendable, CaseIterable {
    case password
    case iam

    /// The URL parameter that chooses it (removed before the URL reaches a driver).
    public static let parameter = "auth"

    /// The schemes whose servers take IAM tokens as passwords (RDS and Aurora PostgreSQL and MySQL).
    static let iamSchemes: Set<String> = ["postgres", "postgresql", "mysql", "mariadb"]

    static func defaultPort(scheme: String) -> Int {
        ["mysql", "mariadb"].contains(scheme) ? 3306 : 5432
    }
}

/// Makes the token a connection logs in with, when its URL says `auth=iam`.
public protocol DatabaseTokenIssuer: Sendable {
    /// A token valid for a connection made now to `host:port` as `user`. Throws a `ConfigError`
    /// for a setup problem (no credentials configured, no region), anything else for a failure.
    func token(host: String, port: Int, user: String) throws -> String
}

/// The issuer the program installed (the command line installs the RDS one at start).
public enum DatabaseTokens {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: (any DatabaseTokenIssuer)?

    public static func install(_ issuer: (any DatabaseTokenIssuer)?) {
        lock.withLock { current = issuer }
    }

    public static var issuer: (any DatabaseTokenIssuer)? { lock.withLock { current } }
}

/// Getting the IAM token of a new connection failed (credentials, STS, the clock).
public struct DatabaseTokenError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension ConnectionString {
    /// The password a connection made now logs in with: the URL's, or for `auth=iam` a fresh
    /// token (each one is valid 15 minutes for new logins only; an open session is not affected
    /// by its expiry, so a token is made per connection and never kept).
    public func passwordForNewConnection() throws -> String? {
        guard authentication == .iam else { return password }
        guard let issuer = DatabaseTokens.issuer else {
            throw ConfigError("\(self) uses IAM authentication (auth=iam), which this program cannot do: no token issuer")
        }
        let (host, port) = primaryHost
        do {
            return try issuer.token(host: host, port: port ?? DatabaseAuthentication.defaultPort(scheme: scheme), user: user ?? "")
        } catch let error as ConfigError {
            throw ConfigError("IAM authentication to \(self): \(error.message)", at: error.location)
        } catch {
            throw DatabaseTokenError("IAM authentication to \(self) failed: \(error)")
        }
    }

    /// The same URL with `auth=` set (the job file's `auth:`); refused when the URL already says
    /// otherwise, or for a URL IAM cannot apply to.
    public func with(_ authentication: DatabaseAuthentication, at location: SourceLocation? = nil) throws -> ConnectionString {
        if let given = authenticationParameter {
            guard given.lowercased() == authentication.rawValue else {
                throw ConfigError("auth: \(authentication.rawValue) contradicts auth=\(given) in the URL \(self); keep one",
                                  at: location)
            }
            return self
        }
        if authentication == .password { return self }
        let separator = hasQuery ? "&" : "?"
        return try ConnectionString(raw + separator + "\(DatabaseAuthentication.parameter)=\(authentication.rawValue)", at: location)
    }
}
