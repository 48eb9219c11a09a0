import Foundation

/// Where signers get credentials. Asked before every signed request (and every RDS token), so
/// temporary credentials are renewed in the middle of a run of several hours without anyone
/// holding on to an expired set.
public protocol AWSCredentialsProvider: Sendable {
    /// Credentials usable now (temporary ones for at least a few more minutes). Cheap when
    /// nothing needs renewing.
    func credentials() throws -> AWSCredentials
    /// Where the credentials come from, for messages: "environment variables",
    /// "web identity (role arn:aws:iam::…)". Never a secret.
    var source: String { get }
}

/// A credential source failed or is misconfigured: what was tried and why it failed, in words a
/// DBA can act on. Never holds a secret.
public struct AWSCredentialsError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Fixed credentials (environment keys, a profile's keys, tests).
public struct StaticCredentialsProvider: AWSCredentialsProvider {
    public let fixed: AWSCredentials
    public let source: String

    public init(_ credentials: AWSCredentials, source: String = "static credentials") {
        fixed = credentials
        self.source = source
    }

    public func credentials() throws -> AWSCredentials { fixed }
}

/// Temporary credentials fetched by `fetch` (STS, the Pod Identity agent, IMDS) and kept until
/// `refreshMargin` before they expire (5 minutes by default, as the AWS SDKs do), then fetched
/// again. One fetch at a time: concurrent callers wait for it rather than each asking the
/// credential service. When a refresh fails while the current set is still valid for a while,
/// that set is used and the next call tries again, so a short outage of STS does not fail a run.
public final class RefreshingCredentialsProvider: AWSCredentialsProvider, @unchecked Sendable {
    public let source: String
    public let refreshMargin: TimeInterval
    private let fetch: @Sendable () throws -> AWSCredentials
    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var cached: AWSCredentials?
    private var fetches = 0

    /// Below this, credentials are not used even when a refresh failed: a request signed with
    /// them could expire on its way.
    static let minimumRemaining: TimeInterval = 30

    /// - Parameter now: the clock (tests move it to make credentials expire mid-run).
    public init(source: String, refreshMargin: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() },
                fetch: @escaping @Sendable () throws -> AWSCredentials) {
        self.source = source
        self.refreshMargin = refreshMargin
        self.now = now
        self.fetch = fetch
    }

    /// How many times credentials were fetched (for tests and diagnostics).
    public var fetchCount: Int { lock.withLock { fetches } }

    public func credentials() throws -> AWSCredentials {
        lock.lock()
        defer { lock.unlock() }
        let time = now()
        if let cached, !needsRefresh(cached, at: time) { return cached }
        do {
            let fresh = try fetch()
            fetches += 1
            if let expiration = fresh.expiration, expiration <= time {
                throw AWSCredentialsError("\(source) gave credentials that expired at \(Self.format(expiration)); "
                                              + "check the clock of this machine")
            }
            cached = fresh
            return fresh
        } catch {
            if let cached, let expiration = cached.expiration, expiration.timeIntervalSince(time) > Self.minimumRemaining {
                return cached
            }
            throw error
        }
    }

    private func needsRefresh(_ credentials: AWSCredentials, at time: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(time) <= refreshMargin
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// The dates credential services write: `2026-11-27T03:00:00Z`, with or without a fraction.
enum AWSDates {
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: trimmed) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: trimmed)
    }
}
