import Crypto
import Foundation
import Snapmask

/// Where credentials come from, in the order of the AWS SDKs' default chain:
///
/// 1. environment keys: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (`AWS_SESSION_TOKEN`);
/// 2. web identity (IRSA): `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` → STS;
/// 3. container credentials (EKS Pod Identity, ECS): `AWS_CONTAINER_CREDENTIALS_FULL_URI`
///    (or `_RELATIVE_URI`) with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (or `_TOKEN`);
/// 4. the shared files: `AWS_PROFILE` (default `default`) in `AWS_SHARED_CREDENTIALS_FILE`
///    (`~/.aws/credentials`) and `AWS_CONFIG_FILE` (`~/.aws/config`), static keys only;
/// 5. the EC2 instance metadata service (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`.
///
/// The first source that is configured is the one used, and its failures are reported as its
/// own: snapmask never falls through from a broken IRSA setup to the node's role. A source
/// configured by halves (a key without its secret, a role without its token file) is a
/// configuration error naming the missing variable.
public enum AWSCredentialChain {
    /// Temporary credentials are renewed this long before they expire.
    public static let refreshMargin: TimeInterval = 300

    public static func resolve(_ environment: AWSEnvironment) throws -> any AWSCredentialsProvider {
        var notConfigured: [String] = []

        let accessKey = environment.value(AWSCredentials.accessKeyVariable)
        let secretKey = environment.value(AWSCredentials.secretKeyVariable)
        if let accessKey, let secretKey {
            let credentials = AWSCredentials(accessKeyID: accessKey, secretAccessKey: secretKey,
                                             sessionToken: environment.value(AWSCredentials.sessionTokenVariable))
            return StaticCredentialsProvider(credentials, source: "environment variables (AWS_ACCESS_KEY_ID)")
        }
        if accessKey != nil || secretKey != nil {
            let (set, unset) = accessKey == nil ? (AWSCredentials.secretKeyVariable, AWSCredentials.accessKeyVariable)
                                                : (AWSCredentials.accessKeyVariable, AWSCredentials.secretKeyVariable)
            throw ConfigError("\(set) is set but \(unset) is not: set both (and \(AWSCredentials.sessionTokenVariable) for "
                                  + "temporary keys), or neither to use the pod's role")
        }
        notConfigured.append("environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set)")

        if let provider = try WebIdentityCredentials.provider(environment, refreshMargin: refreshMargin) { return provider }
        notConfigured.append("web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are not set)")

        if let provider = try ContainerCredentials.provider(environment, refreshMargin: refreshMargin) { return provider }
        notConfigured.append("EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI is not set)")

        switch try SharedConfigCredentials.resolve(environment) {
        case let .provider(provider): return provider
        case let .notConfigured(reason): notConfigured.append("shared files (\(reason))")
        }

        if environment.flag(InstanceMetadataCredentials.disabledVariable) {
            notConfigured.append("EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
            throw ConfigError("no AWS credentials: " + notConfigured.joined(separator: "; ")
                                  + ". On EKS give snapmask's ServiceAccount an IAM role (annotation eks.amazonaws.com/role-arn, "
                                  + "or a Pod Identity association); elsewhere export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                  + "or set AWS_PROFILE")
        }
        return InstanceMetadataCredentials.provider(environment, refreshMargin: refreshMargin, notConfigured: notConfigured)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var resolved: [String: any AWSCredentialsProvider] = [:]

    /// One provider per AWS configuration in this process, so the S3 store and the database
    /// tokens share one set of temporary credentials (one STS call, one refresh) instead of each
    /// fetching its own. Keyed by a digest of the `AWS_*` variables and HOME.
    public static func shared(_ environment: AWSEnvironment) throws -> any AWSCredentialsProvider {
        let relevant = environment.variables.filter { $0.key.hasPrefix("AWS_") || $0.key == "HOME" }
            .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        let key = SigV4.hex(SHA256.hash(data: Data(relevant.utf8)))
        lock.lock()
        defer { lock.unlock() }
        if let provider = resolved[key] { return provider }
        let provider = try resolve(environment)
        resolved[key] = provider
        return provider
    }
}
