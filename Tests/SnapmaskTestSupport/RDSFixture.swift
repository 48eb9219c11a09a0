import Foundation
import Snapmask
import SnapmaskAWS

/// The RDS API of the test server (moto answers S3, STS and RDS at one endpoint): "production"
/// clusters and snapshots to restore from, and what snapmask left there.
public struct RDSFixture: Sendable {
    public let endpoint: String
    public let region: String
    public let client: RDSClient

    /// Static test keys (moto accepts any signature).
    public static let credentials = StaticCredentialsProvider(
        AWSCredentials(accessKeyID: "AKIDSNAPMASKTEST", secretAccessKey: "snapmask-test-secret-key-0123456789"))

    /// The environment a `snapmask` process needs to reach it.
    public var environment: [String: String?] {
        ["AWS_ENDPOINT_URL_RDS": endpoint, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": Self.credentials.fixed.accessKeyID,
         "AWS_SECRET_ACCESS_KEY": Self.credentials.fixed.secretAccessKey, "AWS_SESSION_TOKEN": nil, "AWS_PROFILE": nil,
         "AWS_ROLE_ARN": nil, "AWS_WEB_IDENTITY_TOKEN_FILE": nil]
    }

    /// Each test takes a region of its own, so one test's cleanup never meets another's clusters.
    public init(region: String) throws {
        endpoint = try TestServers.s3().endpoint
        self.region = region
        client = try RDSClient(region: region, endpoint: endpoint, credentials: Self.credentials)
    }

    /// A "production" cluster with one manual snapshot (and the automated one moto makes).
    public func production(_ name: String, engine: String = "aurora-postgresql") throws -> (cluster: String, snapshot: String) {
        _ = try client.createCluster(name, engine: engine)
        let snapshot = try client.createSnapshot("\(name)-weekly", ofCluster: name)
        return (name, snapshot.identifier)
    }

    /// The clusters whose name starts with `prefix` (snapmask's temporary ones: `snapmask-<database>-`).
    public func clusters(prefix: String) throws -> [RDSCluster] {
        try client.clusters().filter { $0.identifier.hasPrefix(prefix) }
    }

    /// The instances in this region whose name starts with `prefix`.
    public func instances(prefix: String) throws -> [String] {
        try client.clusters().flatMap(\.members).filter { $0.hasPrefix(prefix) }
    }

    /// A database name no other test uses (it becomes part of the temporary cluster's name).
    public static func uniqueDatabase(_ label: String) -> String {
        "\(label)\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}
