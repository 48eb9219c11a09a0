import Foundation
import Snapmask
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An AWS API of the "query" protocol (STS, RDS, DocumentDB's control plane, IAM): a form POST
/// of `Action`, `Version` and the parameters, signed with SigV4 (or unsigned, for the few
/// actions that take no credentials), answered with `<ActionResponse><ActionResult>` or an
/// `<ErrorResponse>`. Retries what a retry can fix: throttling, 5xx answers, lost connections.
public struct AWSQueryClient: Sendable {
    /// The API's name in messages ("STS").
    public let name: String
    /// The service name in the SigV4 scope ("sts", "rds").
    public let signingName: String
    public let endpoint: URL
    public let region: String
    public let apiVersion: String
    public var maxAttempts = 3
    let transport: AWSHTTPTransport
    let host: String

    /// - Parameter endpoint: `https://host[:port][/path]` (or http, for a local test server).
    public init(name: String, signingName: String, endpoint: String, region: String, apiVersion: String,
                timeout: TimeInterval = 15) throws {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil else {
            throw ConfigError("the \(name) endpoint must be https://host[:port]; got '\(endpoint)'")
        }
        guard AWSEnvironment.isRegionName(region) else {
            throw ConfigError("'\(region)' is not an AWS region (such as us-east-1)")
        }
        self.name = name
        self.signingName = signingName
        self.endpoint = url
        self.region = region
        self.apiVersion = apiVersion
        self.transport = AWSHTTPTransport(timeout: timeout)
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = url.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            self.host = "\(bracketed):\(port)"
        } else {
            self.host = bracketed
        }
    }

    /// Sends `action` and returns its `<ActionResult>` element. Signed with the provider's
    /// current credentials, or unsigned when `credentials` is nil.
    public func call(_ action: String, _ parameters: [(name: String, value: String)] = [],
                     credentials: (any AWSCredentialsProvider)?) throws -> AWSXMLElement {
        let fields = [("Action", action), ("Version", apiVersion)] + parameters
        let body = Data(fields.map { SigV4.uriEncode($0.0, keepSlash: false) + "=" + SigV4.uriEncode($0.1, keepSlash: false) }
            .joined(separator: "&").utf8)
        var attempt = 0
        var delay = 0.2
        while true {
            attempt += 1
            var request = URLRequest(url: endpoint, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: transport.timeout)
            request.httpMethod = "POST"
            request.httpBody = body
            var headers = ["content-type": "application/x-www-form-urlencoded; charset=utf-8"]
            if let credentials {
                let current = try credentials.credentials()
                var signable = SigV4Signer.Request(method: "POST", host: host, path: endpoint.path.isEmpty ? "/" : endpoint.path,
                                                   headers: headers, payloadHash: SigV4.sha256Hex(body))
                SigV4Signer(credentials: current, region: region, service: signingName).sign(&signable, date: Date())
                headers = signable.headers
            }
            for (header, value) in headers { request.setValue(value, forHTTPHeaderField: header) }

            let failure: Error
            let retryable: Bool
            do {
                let response = try transport.send(request)
                let root = AWSXMLElement.parse(response.body)
                if response.status == 200 {
                    guard let root else {
                        throw AWSServiceError(api: name, action: action, host: host, status: 200, code: nil,
                                              message: "the answer is not XML")
                    }
                    return root.find("\(action)Result") ?? root
                }
                let error = root?.name == "Error" ? root : root?.find("Error")
                let code = error?.value("Code")
                failure = AWSServiceError(api: name, action: action, host: host, status: response.status, code: code,
                                          message: error?.value("Message").map(SecretScrubber.scrub))
                retryable = [500, 502, 503, 504].contains(response.status) || Self.retryableCodes.contains(code ?? "")
            } catch let error as AWSTransportError {
                failure = AWSServiceError(api: name, action: action, host: host, status: nil, code: nil,
                                          message: "\(error.description) (\(endpoint.scheme ?? "https")://\(host))")
                retryable = error.retryable
            }
            guard retryable, attempt < maxAttempts else {
                if var error = failure as? AWSServiceError {
                    error.attempts = attempt
                    throw error
                }
                throw failure
            }
            Thread.sleep(forTimeInterval: delay * Double.random(in: 0.75...1.25))
            delay = min(delay * 2, 5)
        }
    }

    /// Error codes of a busy or briefly unreachable service rather than of a wrong request.
    static let retryableCodes: Set<String> = ["Throttling", "ThrottlingException", "RequestLimitExceeded",
                                              "RequestThrottled", "ServiceUnavailable", "InternalFailure",
                                              "IDPCommunicationError"]
}

/// An AWS API call that failed: which API and action, where, the HTTP status, AWS's Code and
/// Message (never the request, which holds a signature or a token).
public struct AWSServiceError: Error, Sendable, CustomStringConvertible {
    public var api: String
    public var action: String
    public var host: String
    /// nil when no answer came (no connection, a time-out).
    public var status: Int?
    public var code: String?
    public var message: String?
    public var attempts = 1

    public var description: String {
        var text = "\(api) \(action) at \(host) failed: "
        if let status {
            text += "HTTP \(status)"
            if let code { text += " \(code)" }
            if let message, !message.isEmpty { text += ": \(message)" }
        } else {
            text += message ?? "no answer"
        }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }
}

extension AWSServiceError {
    /// An error answer of a service, as a stand-in of the service (a test, a tool) gives it.
    public static func answer(api: String, action: String, host: String, status: Int, code: String,
                              message: String) -> AWSServiceError {
        AWSServiceError(api: api, action: action, host: host, status: status, code: code, message: message)
    }
}
