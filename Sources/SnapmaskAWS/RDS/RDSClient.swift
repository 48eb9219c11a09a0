import Foundation
import Snapmask

/// Sends one RDS query-API action and returns its result element. The signed client is the one
/// snapmask uses; tests put one in front of it that fails a chosen action.
public protocol RDSQueryCalling: Sendable {
    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement
}

/// The RDS API signed with the credential chain's current credentials.
public struct SignedRDSQuery: RDSQueryCalling {
    public let api: AWSQueryClient
    public let credentials: any AWSCredentialsProvider

    public init(api: AWSQueryClient, credentials: any AWSCredentialsProvider) {
        self.api = api
        self.credentials = credentials
    }

    public func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        try api.call(action, parameters, credentials: credentials)
    }
}

/// The RDS control plane (Aurora and DocumentDB clusters share it: DocumentDB's API is the same
/// query API at the same endpoint, with Engine=docdb), the few actions a temporary source needs.
/// Errors come back as `RDSError`, which says what to do.
public struct RDSClient: Sendable {
    public let region: String
    public let endpoint: String
    let query: any RDSQueryCalling

    public static let apiVersion = "2014-10-31"

    public init(region: String, endpoint: String, query: any RDSQueryCalling) {
        self.region = region
        self.endpoint = endpoint
        self.query = query
    }

    /// Signed with `credentials`, at `endpoint`.
    public init(region: String, endpoint: String, credentials: any AWSCredentialsProvider, timeout: TimeInterval = 30) throws {
        let api = try AWSQueryClient(name: "RDS", signingName: "rds", endpoint: endpoint, region: region,
                                     apiVersion: Self.apiVersion, timeout: timeout)
        self.init(region: region, endpoint: endpoint, query: SignedRDSQuery(api: api, credentials: credentials))
    }

    /// The endpoint the SDKs would use: `AWS_ENDPOINT_URL_RDS`, else `AWS_ENDPOINT_URL`, else
    /// `https://rds.<region>.amazonaws.com` (DocumentDB's control plane too).
    public static func endpoint(region: String, environment: AWSEnvironment) -> String {
        environment.endpoint(service: "rds") ?? "https://rds.\(region).\(AWSEnvironment.dnsSuffix(region: region))"
    }

    func call(_ action: String, _ parameters: [(name: String, value: String)] = [],
              subject: String? = nil) throws -> AWSXMLElement {
        do {
            return try query.call(action, parameters)
        } catch let error as AWSServiceError {
            throw RDSError(action: action, region: region, subject: subject, service: error)
        }
    }

    // MARK: Reading

    /// One cluster; nil when it does not exist.
    public func cluster(_ identifier: String) throws -> RDSCluster? {
        do {
            let result = try call("DescribeDBClusters", [("DBClusterIdentifier", identifier)], subject: identifier)
            return result.child("DBClusters")?.children.first.map(RDSCluster.init)
        } catch let error as RDSError where error.kind == .clusterNotFound {
            return nil
        }
    }

    /// Every cluster of the region (paged), DocumentDB's included.
    public func clusters() throws -> [RDSCluster] {
        var clusters: [RDSCluster] = []
        var marker: String?
        repeat {
            var parameters: [(name: String, value: String)] = [("MaxRecords", "100")]
            if let marker { parameters.append(("Marker", marker)) }
            let result = try call("DescribeDBClusters", parameters)
            clusters += result.child("DBClusters")?.children.map(RDSCluster.init) ?? []
            marker = result.value("Marker").flatMap { $0.isEmpty ? nil : $0 }
        } while marker != nil
        return clusters
    }

    /// One instance; nil when it does not exist.
    public func instance(_ identifier: String) throws -> RDSInstance? {
        do {
            let result = try call("DescribeDBInstances", [("DBInstanceIdentifier", identifier)], subject: identifier)
            return result.child("DBInstances")?.children.first.map(RDSInstance.init)
        } catch let error as RDSError where error.kind == .instanceNotFound {
            return nil
        }
    }

    /// One snapshot by identifier or ARN (a `DBClusterSnapshotNotFoundFault` when it does not exist).
    public func snapshot(_ identifier: String) throws -> RDSClusterSnapshot {
        let result = try call("DescribeDBClusterSnapshots", [("DBClusterSnapshotIdentifier", identifier)], subject: identifier)
        guard let first = result.child("DBClusterSnapshots")?.children.first else {
            throw RDSError(action: "DescribeDBClusterSnapshots", region: region, subject: identifier, kind: .snapshotNotFound,
                           code: "DBClusterSnapshotNotFoundFault", message: "no such snapshot")
        }
        return RDSClusterSnapshot(first)
    }

    /// The snapshots of a cluster of one type (`automated`, `manual`), paged.
    public func snapshots(ofCluster cluster: String, type: String) throws -> [RDSClusterSnapshot] {
        var snapshots: [RDSClusterSnapshot] = []
        var marker: String?
        repeat {
            var parameters: [(name: String, value: String)] = [("DBClusterIdentifier", cluster), ("SnapshotType", type),
                                                               ("MaxRecords", "100")]
            if let marker { parameters.append(("Marker", marker)) }
            let result = try call("DescribeDBClusterSnapshots", parameters, subject: cluster)
            snapshots += result.child("DBClusterSnapshots")?.children.map(RDSClusterSnapshot.init) ?? []
            marker = result.value("Marker").flatMap { $0.isEmpty ? nil : $0 }
        } while marker != nil
        return snapshots
    }

    // MARK: Creating

    /// Settings of a temporary cluster, from the job file.
    public struct ClusterSettings: Sendable {
        public var engine: String
        public var subnetGroup: String?
        public var securityGroups: [String] = []
        public var parameterGroup: String?
        public var kmsKey: String?
        public var iamAuthentication = false
        public var tags: [(key: String, value: String)] = []

        public init(engine: String) {
            self.engine = engine
        }

        var parameters: [(name: String, value: String)] {
            var list: [(name: String, value: String)] = [("Engine", engine), ("DeletionProtection", "false")]
            if let subnetGroup { list.append(("DBSubnetGroupName", subnetGroup)) }
            for (index, group) in securityGroups.enumerated() { list.append(("VpcSecurityGroupIds.VpcSecurityGroupId.\(index + 1)", group)) }
            if let parameterGroup { list.append(("DBClusterParameterGroupName", parameterGroup)) }
            if let kmsKey { list.append(("KmsKeyId", kmsKey)) }
            // DocumentDB has no IAM database authentication (and refuses the parameter).
            if iamAuthentication, engine != "docdb" { list.append(("EnableIAMDatabaseAuthentication", "true")) }
            return list + RDSTags.parameters(tags)
        }
    }

    /// RestoreDBClusterFromSnapshot: a new cluster (no instance yet) from a cluster snapshot.
    public func restoreCluster(_ identifier: String, fromSnapshot snapshot: String, settings: ClusterSettings) throws -> RDSCluster {
        let result = try call("RestoreDBClusterFromSnapshot",
                              [("DBClusterIdentifier", identifier), ("SnapshotIdentifier", snapshot)] + settings.parameters,
                              subject: snapshot)
        return RDSCluster(result.child("DBCluster") ?? result)
    }

    /// RestoreDBClusterToPointInTime with RestoreType=copy-on-write at the latest restorable
    /// time: an Aurora clone, which shares the source's storage until either side writes.
    public func cloneCluster(_ identifier: String, from source: String, settings: ClusterSettings) throws -> RDSCluster {
        // The clone has the source's engine; the parameter is not accepted here.
        let parameters = settings.parameters.filter { $0.name != "Engine" }
        let result = try call("RestoreDBClusterToPointInTime",
                              [("DBClusterIdentifier", identifier), ("SourceDBClusterIdentifier", source),
                               ("RestoreType", "copy-on-write"), ("UseLatestRestorableTime", "true")] + parameters,
                              subject: source)
        return RDSCluster(result.child("DBCluster") ?? result)
    }

    /// CreateDBInstance in a cluster (the cluster's one reader and writer).
    public func createInstance(_ identifier: String, cluster: String, engine: String, instanceClass: String,
                               tags: [(key: String, value: String)]) throws -> RDSInstance {
        let result = try call("CreateDBInstance",
                              [("DBInstanceIdentifier", identifier), ("DBClusterIdentifier", cluster), ("Engine", engine),
                               ("DBInstanceClass", instanceClass)] + RDSTags.parameters(tags),
                              subject: identifier)
        return RDSInstance(result.child("DBInstance") ?? result)
    }

    // MARK: Deleting

    /// DeleteDBInstance; an instance already gone (or going) is not an error. No final-snapshot
    /// parameter: a cluster member has no snapshot of its own (the cluster holds the data), and
    /// DocumentDB's DeleteDBInstance takes none.
    public func deleteInstance(_ identifier: String) throws {
        do {
            _ = try call("DeleteDBInstance", [("DBInstanceIdentifier", identifier)], subject: identifier)
        } catch let error as RDSError where error.kind == .instanceNotFound || error.code == "InvalidDBInstanceState" {
            if error.kind == .instanceNotFound { return }
            // Already deleting: fine; anything else (still creating) is retried by the caller.
            if try instance(identifier)?.status == "deleting" { return }
            throw error
        }
    }

    /// DeleteDBCluster with SkipFinalSnapshot=true (a temporary copy of a snapshot that still
    /// exists needs none); a cluster already gone is not an error.
    public func deleteCluster(_ identifier: String) throws {
        do {
            _ = try call("DeleteDBCluster", [("DBClusterIdentifier", identifier), ("SkipFinalSnapshot", "true")],
                         subject: identifier)
        } catch let error as RDSError where error.kind == .clusterNotFound {
            return
        }
    }

    // MARK: For tests and tools

    /// CreateDBCluster (tests make a "production" cluster to snapshot; snapmask never creates one).
    public func createCluster(_ identifier: String, engine: String, tags: [(key: String, value: String)] = []) throws -> RDSCluster {
        let result = try call("CreateDBCluster",
                              [("DBClusterIdentifier", identifier), ("Engine", engine), ("MasterUsername", "snapmask"),
                               ("MasterUserPassword", "not-used-by-snapmask")] + RDSTags.parameters(tags),
                              subject: identifier)
        return RDSCluster(result.child("DBCluster") ?? result)
    }

    /// CreateDBClusterSnapshot (tests; snapmask reads snapshots, never makes them).
    public func createSnapshot(_ identifier: String, ofCluster cluster: String) throws -> RDSClusterSnapshot {
        let result = try call("CreateDBClusterSnapshot",
                              [("DBClusterSnapshotIdentifier", identifier), ("DBClusterIdentifier", cluster)], subject: cluster)
        return RDSClusterSnapshot(result.child("DBClusterSnapshot") ?? result)
    }
}
