import Foundation
import Snapmask

/// The password of an IAM database login on RDS and Aurora (PostgreSQL and MySQL): a
/// SigV4-presigned `connect` action, `host:port/?Action=connect&DBUser=USER&X-Amz-…`, signed
/// for the service `rds-db` in the database's region, valid 15 minutes for new connections
/// (an open session outlives it). Made locally: no request goes to AWS until the database
/// checks it. What it proves is the `rds-db:connect` permission of the credentials on
/// `arn:aws:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/USER`.
public enum RDSAuthToken {
    /// How long a token is valid (the most RDS accepts).
    public static let lifetime = 900

    public static func generate(host: String, port: Int, user: String, region: String, credentials: AWSCredentials,
                                date: Date = Date()) -> String {
        let hostHeader = "\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(port)"
        let request = SigV4Signer.Request(method: "GET", host: hostHeader, path: "/",
                                          query: [("Action", "connect"), ("DBUser", user)],
                                          payloadHash: SigV4.emptyPayloadHash)
        let presigned = SigV4Signer(credentials: credentials, region: region, service: "rds-db")
            .presign(request, date: date, expires: lifetime)
        // The signature is what makes the token a password; the rest (host, user, key id, date)
        // must stay readable in messages, so only it is scrubbed (the session token already is).
        SecretScrubber.registerWhole(presigned.signature.signature)
        return "\(hostHeader)/?\(presigned.queryString)"
    }

    /// The region in an RDS host name: `name.cluster-ro-abc.eu-west-1.rds.amazonaws.com` → eu-west-1
    /// (instances, clusters, readers, custom endpoints and RDS Proxy alike); nil for another name.
    public static func region(ofHost host: String) -> String? {
        let labels = host.lowercased().split(separator: ".").map(String.init)
        guard let rds = labels.lastIndex(of: "rds"), rds >= 1, rds + 1 < labels.count, labels[rds + 1] == "amazonaws" else {
            return nil
        }
        let region = labels[rds - 1]
        return AWSEnvironment.isRegionName(region) && region.contains("-") ? region : nil
    }
}

/// RDS IAM tokens for `auth=iam` URLs, from the process's credential chain. The chain is
/// resolved at the first token, so a job without IAM databases never needs AWS credentials.
public struct RDSTokenIssuer: DatabaseTokenIssuer {
    public let environment: AWSEnvironment
    let provider: (any AWSCredentialsProvider)?

    /// Credentials from the default chain of `environment` (shared with the S3 store).
    public init(environment: [String: String]) {
        self.environment = AWSEnvironment(environment)
        provider = nil
    }

    /// Credentials from a given provider (tests, tools).
    public init(environment: [String: String], credentials: any AWSCredentialsProvider) {
        self.environment = AWSEnvironment(environment)
        provider = credentials
    }

    public func token(host: String, port: Int, user: String) throws -> String {
        let region = try region(for: host)
        let credentials = try (provider ?? AWSCredentialChain.shared(environment)).credentials()
        return RDSAuthToken.generate(host: host, port: port, user: user, region: region, credentials: credentials)
    }

    /// The host name's region when it is an RDS endpoint (a token signed for any other region is
    /// refused, whatever AWS_REGION says); else AWS_REGION or AWS_DEFAULT_REGION (a CNAME of
    /// one's own in front of the endpoint).
    func region(for host: String) throws -> String {
        if let region = RDSAuthToken.region(ofHost: host) { return region }
        guard let region = environment.region else {
            throw ConfigError("\(host) is not an RDS host name (NAME.REGION.rds.amazonaws.com), so the region its token "
                                  + "is signed for must be given: set AWS_REGION")
        }
        guard AWSEnvironment.isRegionName(region) else {
            throw ConfigError("AWS_REGION '\(region)' is not an AWS region (such as us-east-1)")
        }
        return region
    }
}
