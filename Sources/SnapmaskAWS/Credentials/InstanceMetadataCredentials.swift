import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The EC2 instance metadata service, version 2 only: a session token (PUT /latest/api/token),
/// then the role's name and its credentials. IMDSv1 (no token) is never used: it is what SSRF
/// attacks read. On EKS, a pod reaches IMDSv2 only when the node's hop limit is 2 or more, and
/// then gets the node's role, shared by every pod: IRSA or Pod Identity is the way for snapmask.
public enum InstanceMetadataCredentials {
    public static let endpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
    public static let disabledVariable = "AWS_EC2_METADATA_DISABLED"
    public static let defaultEndpoint = "http://169.254.169.254"

    /// - Parameter notConfigured: the sources the chain found nothing in, for a failure message
    ///   that says everything that was tried.
    static func provider(_ environment: AWSEnvironment, refreshMargin: TimeInterval, timeout: TimeInterval = 1,
                         notConfigured: [String]) -> RefreshingCredentialsProvider {
        var configured = environment.value(endpointVariable) ?? defaultEndpoint
        while configured.hasSuffix("/") { configured.removeLast() }
        let endpoint = configured
        let transport = AWSHTTPTransport(timeout: timeout)
        let source = "EC2 instance metadata (IMDSv2 at \(endpoint))"
        let tried = notConfigured.isEmpty ? "" : "; found nothing before it in: " + notConfigured.joined(separator: "; ")
        return RefreshingCredentialsProvider(source: source, refreshMargin: refreshMargin) {
            do {
                return try fetch(endpoint, transport: transport)
            } catch let error as AWSCredentialsError {
                throw AWSCredentialsError(error.message + tried)
            }
        }
    }

    static func fetch(_ endpoint: String, transport: AWSHTTPTransport) throws -> AWSCredentials {
        let hint = "; on EKS, pods reach IMDSv2 only when the node's metadata hop limit is 2, and get the node's role: "
            + "give snapmask's ServiceAccount an IAM role (IRSA or Pod Identity) instead, or set \(disabledVariable)=true"
        func call(_ method: String, _ path: String, _ headers: [String: String]) throws -> AWSHTTPResponse {
            guard let url = URL(string: endpoint + path) else {
                throw AWSCredentialsError("\(endpointVariable) '\(endpoint)' is not a URL")
            }
            var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: transport.timeout)
            request.httpMethod = method
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            var last: AWSTransportError?
            for attempt in 1...2 {
                do {
                    return try transport.send(request)
                } catch let error as AWSTransportError {
                    last = error
                    guard error.retryable, attempt < 2 else { break }
                }
            }
            throw AWSCredentialsError("EC2 instance metadata: no answer from \(endpoint) to \(method) \(path): "
                                          + "\(last?.description ?? "no answer")" + hint)
        }

        let tokenAnswer = try call("PUT", "/latest/api/token", ["X-aws-ec2-metadata-token-ttl-seconds": "21600"])
        guard tokenAnswer.status == 200, !tokenAnswer.body.isEmpty else {
            throw AWSCredentialsError("EC2 instance metadata: \(endpoint) refused an IMDSv2 session token (HTTP \(tokenAnswer.status)); "
                                          + "snapmask does not fall back to IMDSv1" + hint)
        }
        let token = String(decoding: tokenAnswer.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let session = ["X-aws-ec2-metadata-token": token]

        let roles = try call("GET", "/latest/meta-data/iam/security-credentials/", session)
        let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard roles.status == 200, !role.isEmpty else {
            throw AWSCredentialsError("EC2 instance metadata: this instance has no IAM role (HTTP \(roles.status) for "
                                          + "/latest/meta-data/iam/security-credentials/)" + hint)
        }
        let encodedRole = role.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? role
        let answer = try call("GET", "/latest/meta-data/iam/security-credentials/\(encodedRole)", session)
        let json = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any]
        guard answer.status == 200, let json else {
            throw AWSCredentialsError("EC2 instance metadata: the credentials of role \(role) could not be read (HTTP \(answer.status))")
        }
        if let code = json["Code"] as? String, code != "Success" {
            throw AWSCredentialsError("EC2 instance metadata: the credentials of role \(role) are not available: \(code)")
        }
        guard let accessKey = json["AccessKeyId"] as? String, let secret = json["SecretAccessKey"] as? String,
              !accessKey.isEmpty, !secret.isEmpty else {
            throw AWSCredentialsError("EC2 instance metadata: the answer for role \(role) holds no AccessKeyId and SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: json["Token"] as? String,
                              expiration: (json["Expiration"] as? String).flatMap(AWSDates.parse))
    }
}
