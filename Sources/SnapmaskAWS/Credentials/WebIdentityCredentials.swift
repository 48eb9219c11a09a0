import Foundation
import Snapmask

/// IAM Roles for Service Accounts (IRSA): the EKS webhook gives the pod `AWS_ROLE_ARN` and
/// `AWS_WEB_IDENTITY_TOKEN_FILE` (a projected ServiceAccount token the kubelet renews), and STS
/// trades the token for the role's credentials (AssumeRoleWithWebIdentity, one hour).
public enum WebIdentityCredentials {
    public static let roleVariable = "AWS_ROLE_ARN"
    public static let tokenFileVariable = "AWS_WEB_IDENTITY_TOKEN_FILE"
    public static let sessionNameVariable = "AWS_ROLE_SESSION_NAME"

    /// The provider for the environment, nil when neither variable is set; a configuration error
    /// when only one is (a half-injected pod would otherwise fall through to the node's role).
    static func provider(_ environment: AWSEnvironment, refreshMargin: TimeInterval) throws -> RefreshingCredentialsProvider? {
        let role = environment.value(roleVariable), tokenFile = environment.value(tokenFileVariable)
        guard role != nil || tokenFile != nil else { return nil }
        guard let role, let tokenFile else {
            let (set, unset) = role == nil ? (tokenFileVariable, roleVariable) : (roleVariable, tokenFileVariable)
            throw ConfigError("\(set) is set but \(unset) is not: web identity (IRSA) needs both. On EKS the webhook sets "
                                  + "them when the pod's ServiceAccount has the annotation eks.amazonaws.com/role-arn")
        }
        let sts = try STSClient(environment: environment)
        let sessionName = environment.value(sessionNameVariable) ?? defaultSessionName()
        return RefreshingCredentialsProvider(source: "web identity (role \(role), token file \(tokenFile))",
                                             refreshMargin: refreshMargin,
                                             fetch: fetcher(roleARN: role, tokenFile: tokenFile, sessionName: sessionName, sts: sts))
    }

    /// One AssumeRoleWithWebIdentity, reading the token file anew each time (the kubelet
    /// replaces the token before it expires).
    public static func fetcher(roleARN: String, tokenFile: String, sessionName: String, sts: STSClient,
                               durationSeconds: Int? = nil) -> @Sendable () throws -> AWSCredentials {
        return {
            let token: String
            do {
                token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                let reason = FileManager.default.fileExists(atPath: tokenFile) ? "it cannot be read" : "it does not exist"
                throw AWSCredentialsError("web identity: the token file \(tokenFile) (\(tokenFileVariable)) cannot be used: "
                                              + "\(reason). On EKS it is mounted by the IRSA webhook; check the pod's "
                                              + "ServiceAccount and that the pod runs as a user that can read it")
            }
            guard !token.isEmpty else {
                throw AWSCredentialsError("web identity: the token file \(tokenFile) (\(tokenFileVariable)) is empty")
            }
            // The token is a credential too: whoever holds it can assume the role until it expires.
            SecretScrubber.registerWhole(token)
            do {
                return try sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName, webIdentityToken: token,
                                                         durationSeconds: durationSeconds)
            } catch let error as AWSServiceError {
                var message = "web identity: assuming role \(roleARN) failed: \(error)"
                if let hint = hint(error.code, tokenFile: tokenFile) { message += " (\(hint))" }
                throw AWSCredentialsError(message)
            }
        }
    }

    static func hint(_ code: String?, tokenFile: String) -> String? {
        switch code {
        case "AccessDenied":
            return "the role's trust policy must allow sts:AssumeRoleWithWebIdentity to the cluster's OIDC provider for "
                + "this ServiceAccount (condition <provider>:sub = system:serviceaccount:NAMESPACE:NAME, "
                + "<provider>:aud = sts.amazonaws.com)"
        case "InvalidIdentityToken":
            return "STS does not accept the token: the cluster's OIDC provider must be registered in IAM, and the "
                + "token's audience must be sts.amazonaws.com"
        case "ExpiredTokenException", "ExpiredToken":
            return "the token in \(tokenFile) has expired; the kubelet renews it while the pod runs: check the projected volume"
        case "ValidationError":
            return "check AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME (2 to 64 of letters, digits and +=,.@-)"
        default:
            return nil
        }
    }

    /// `snapmask-<seconds since 1970>`: shows in CloudTrail next to the role, so a DBA can tell
    /// snapmask's sessions from others'.
    static func defaultSessionName() -> String {
        "snapmask-\(Int(Date().timeIntervalSince1970))"
    }
}
