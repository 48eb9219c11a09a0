import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP answer with its body read whole. Header names are lowercase.
public struct AWSHTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A request that got no HTTP answer: no connection, a time-out, a connection dropped.
public struct AWSTransportError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// False when retrying cannot help (a malformed URL, an unsupported scheme, a bad certificate).
    public var retryable: Bool

    public init(description: String, retryable: Bool) {
        self.description = description
        self.retryable = retryable
    }
}

/// URLSession used synchronously: the callers (S3 store workers, database connections asking
/// for a token, credential refreshes) are blocking threads, so each request waits on a
/// semaphore for its completion handler. Shared by every AWS client of this module.
public final class AWSHTTPTransport: @unchecked Sendable {
    let session: URLSession
    public let timeout: TimeInterval

    /// `timeout` bounds each wait for data (connecting, an idle transfer); a whole request may
    /// take up to ten times as long (a large part over a slow link).
    public init(timeout: TimeInterval) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 10
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpMaximumConnectionsPerHost = 16
        session = URLSession(configuration: configuration)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    private final class Outcome: @unchecked Sendable {
        var data: Data?
        var response: URLResponse?
        var error: Error?
    }

    public func send(_ request: URLRequest) throws -> AWSHTTPResponse {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { data, response, error in
            outcome.data = data
            outcome.response = response
            outcome.error = error
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout * 10 + 30) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 10)
            throw AWSTransportError(description: "no answer within \(Int(timeout * 10 + 30)) s", retryable: true)
        }
        if let error = outcome.error { throw Self.describe(error) }
        guard let http = outcome.response as? HTTPURLResponse else {
            throw AWSTransportError(description: "the answer is not HTTP", retryable: true)
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return AWSHTTPResponse(status: http.statusCode, headers: headers, body: outcome.data ?? Data())
    }

    /// A short reason without the request's URL or headers (never a signature).
    static func describe(_ error: Error) -> AWSTransportError {
        guard let error = error as? URLError else {
            return AWSTransportError(description: "\(type(of: error))", retryable: true)
        }
        let reason: String
        var retryable = true
        switch error.code {
        case .timedOut: reason = "timed out"
        case .cannotConnectToHost: reason = "connection refused"
        case .cannotFindHost, .dnsLookupFailed: reason = "unknown host"
        case .networkConnectionLost: reason = "connection lost"
        case .notConnectedToInternet: reason = "no network"
        case .badServerResponse: reason = "bad server response"
        case .secureConnectionFailed: reason = "TLS connection failed"
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
             .serverCertificateNotYetValid, .clientCertificateRejected, .clientCertificateRequired:
            reason = "TLS certificate not accepted"
            retryable = false
        case .badURL, .unsupportedURL:
            reason = "invalid URL"
            retryable = false
        case .cancelled: reason = "cancelled"
        default: reason = "URL error \(error.code.rawValue)"
        }
        return AWSTransportError(description: reason, retryable: retryable)
    }
}
