import Foundation
import Snapmask
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// EKS Pod Identity (and ECS task roles): a local agent hands out the pod's role credentials
/// over HTTP. EKS sets `AWS_CONTAINER_CREDENTIALS_FULL_URI` (http://169.254.170.23/v1/credentials)
/// and `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (a ServiceAccount token the agent checks); ECS sets
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`. The answer is JSON: AccessKeyId, SecretAccessKey,
/// Token, Expiration.
public enum ContainerCredentials {
    public static let fullURIVariable = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
    public static let relativeURIVariable = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
    public static let tokenFileVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
    public static let tokenVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN"

    /// Plain HTTP is allowed only to the agents' own addresses and loopback, as in the AWS SDKs:
    /// the authorization token must not travel in clear to anywhere else.
    static let plainHTTPHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]",
                                              "localhost", "::1", "[::1]"]

    static func provider(_ environment: AWSEnvironment, refreshMargin: TimeInterval) throws -> RefreshingCredentialsProvider? {
        let address: String
        if let full = environment.value(fullURIVariable) {
            address = full
        } else if let relative = environment.value(relativeURIVariable) {
            address = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else {
            return nil
        }
        guard let url = URL(string: address), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(),
              scheme == "https" || scheme == "http" else {
            throw ConfigError("\(fullURIVariable) must be an http(s) URL; got '\(address)'")
        }
        if scheme == "http" && !(plainHTTPHosts.contains(host) || host.hasPrefix("127.")) {
            throw ConfigError("\(fullURIVariable) is plain HTTP to \(host): only the EKS Pod Identity agent (169.254.170.23), "
                                  + "the ECS agent (169.254.170.2) and loopback may be reached without TLS; use https")
        }
        let tokenFile = environment.value(tokenFileVariable)
        let fixedToken = environment.value(tokenVariable)
        if let fixedToken { SecretScrubber.registerWhole(fixedToken) }
        let transport = AWSHTTPTransport(timeout: 5)
        let source = tokenFile.map { "container credentials (\(address), token file \($0))" } ?? "container credentials (\(address))"
        return RefreshingCredentialsProvider(source: source, refreshMargin: refreshMargin) {
            try fetch(url, tokenFile: tokenFile, token: fixedToken, transport: transport)
        }
    }

    static func fetch(_ url: URL, tokenFile: String?, token: String?, transport: AWSHTTPTransport) throws -> AWSCredentials {
        var authorization = token
        if let tokenFile {
            // Read anew each time: the kubelet replaces the token before it expires.
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw AWSCredentialsError("container credentials: the token file \(tokenFile) (\(tokenFileVariable)) cannot be "
                                              + "read; on EKS the Pod Identity webhook mounts it when the ServiceAccount has a "
                                              + "pod identity association")
            }
            authorization = text.trimmingCharacters(in: .whitespacesAndNewlines)
            SecretScrubber.registerWhole(authorization ?? "")
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: transport.timeout)
        request.httpMethod = "GET"
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let authorization, !authorization.isEmpty { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let location = "\(url.scheme ?? "http")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")\(url.path)"

        var response: AWSHTTPResponse?
        var lastError: AWSTransportError?
        for attempt in 1...3 {
            do {
                let answer = try transport.send(request)
                // 5xx: the agent is starting or busy; a 4xx will not change.
                if answer.status >= 500 && attempt < 3 {
                    Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
                    continue
                }
                response = answer
                break
            } catch let error as AWSTransportError {
                lastError = error
                guard error.retryable, attempt < 3 else { break }
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
        guard let response else {
            throw AWSCredentialsError("container credentials: no answer from \(location): \(lastError?.description ?? "no answer")"
                                          + "; on EKS check that the Pod Identity agent runs on the node")
        }
        let json = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
        guard response.status == 200 else {
            let detail = (json?["message"] as? String) ?? (json?["Message"] as? String)
                ?? String(decoding: response.body.prefix(200), as: UTF8.self)
            var message = "container credentials: \(location) answered HTTP \(response.status)"
            let shown = SecretScrubber.scrub(detail.trimmingCharacters(in: .whitespacesAndNewlines))
            if !shown.isEmpty { message += ": \(shown)" }
            if response.status == 401 || response.status == 403 {
                message += " (the authorization token was refused: check the pod identity association of this ServiceAccount)"
            }
            throw AWSCredentialsError(message)
        }
        guard let json, let accessKey = json["AccessKeyId"] as? String, let secret = json["SecretAccessKey"] as? String,
              !accessKey.isEmpty, !secret.isEmpty else {
            throw AWSCredentialsError("container credentials: the answer of \(location) holds no AccessKeyId and SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: json["Token"] as? String,
                              expiration: (json["Expiration"] as? String).flatMap(AWSDates.parse))
    }
}
