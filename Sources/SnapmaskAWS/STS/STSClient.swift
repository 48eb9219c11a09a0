import Foundation
import Snapmask

/// The AWS Security Token Service: trading the pod's web identity (IRSA) for role credentials,
/// and asking who a set of credentials belongs to.
public struct STSClient: Sendable {
    public let api: AWSQueryClient

    public init(endpoint: String, region: String, timeout: TimeInterval = 15) throws {
        api = try AWSQueryClient(name: "STS", signingName: "sts", endpoint: endpoint, region: region,
                                 apiVersion: "2011-06-15", timeout: timeout)
    }

    /// The endpoint the SDKs would use: `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, else the
    /// regional endpoint (`https://sts.<region>.amazonaws.com`, which keeps STS traffic in the
    /// region and inside a VPC endpoint), else the global one.
    public init(environment: AWSEnvironment, timeout: TimeInterval = 15) throws {
        let region = environment.region
        if let configured = environment.endpoint(service: "sts") {
            try self.init(endpoint: configured, region: region ?? "us-east-1", timeout: timeout)
        } else if let region {
            guard AWSEnvironment.isRegionName(region) else {
                throw ConfigError("AWS_REGION '\(region)' is not an AWS region (such as us-east-1)")
            }
            try self.init(endpoint: "https://sts.\(region).\(AWSEnvironment.dnsSuffix(region: region))", region: region,
                          timeout: timeout)
        } else {
            try self.init(endpoint: "https://sts.amazonaws.com", region: "us-east-1", timeout: timeout)
        }
    }

    /// AssumeRoleWithWebIdentity: the token is the credential, so the request is not signed.
    /// - Parameter durationSeconds: nil for the role's default (one hour).
    public func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, webIdentityToken: String,
                                          durationSeconds: Int? = nil) throws -> AWSCredentials {
        var parameters: [(name: String, value: String)] = [("RoleArn", roleARN), ("RoleSessionName", sessionName),
                                                           ("WebIdentityToken", webIdentityToken)]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let result = try api.call("AssumeRoleWithWebIdentity", parameters, credentials: nil)
        return try Self.credentials(in: result, action: "AssumeRoleWithWebIdentity", host: api.host)
    }

    public struct CallerIdentity: Sendable, Equatable {
        public var account: String
        public var arn: String
        public var userID: String
    }

    /// GetCallerIdentity: who the credentials are (needs no permission; a quick way to see that
    /// signing works and which role a pod really has).
    public func callerIdentity(_ credentials: any AWSCredentialsProvider) throws -> CallerIdentity {
        let result = try api.call("GetCallerIdentity", credentials: credentials)
        return CallerIdentity(account: result.value("Account") ?? "", arn: result.value("Arn") ?? "",
                              userID: result.value("UserId") ?? "")
    }

    static func credentials(in result: AWSXMLElement, action: String, host: String) throws -> AWSCredentials {
        guard let element = result.find("Credentials") ?? (result.name == "Credentials" ? result : nil),
              let accessKey = element.value("AccessKeyId"), !accessKey.isEmpty,
              let secret = element.value("SecretAccessKey"), !secret.isEmpty,
              let token = element.value("SessionToken"), !token.isEmpty else {
            throw AWSServiceError(api: "STS", action: action, host: host, status: 200, code: nil,
                                  message: "the answer holds no complete Credentials")
        }
        return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: token,
                              expiration: element.value("Expiration").flatMap(AWSDates.parse))
    }
}
