import Foundation

/// An RDS call that failed, in words a DBA can act on: which action, on what, and what to do
/// (the IAM action to allow, the quota to raise, how to list the snapshots that do exist).
public struct RDSError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case accessDenied
        case quotaExceeded
        case snapshotNotFound
        case clusterNotFound
        case instanceNotFound
        case alreadyExists
        case invalidState
        case other
    }

    public var action: String
    public var region: String
    /// The snapshot, cluster or instance the call was about.
    public var subject: String?
    public var kind: Kind
    public var code: String?
    public var message: String?
    /// How the call failed at the HTTP level (endpoint, status, attempts), when it did.
    public var service: AWSServiceError?

    public init(action: String, region: String, subject: String?, kind: Kind, code: String?, message: String?) {
        self.action = action
        self.region = region
        self.subject = subject
        self.kind = kind
        self.code = code
        self.message = message
    }

    init(action: String, region: String, subject: String?, service: AWSServiceError) {
        self.init(action: action, region: region, subject: subject, kind: Self.kind(of: service.code, status: service.status),
                  code: service.code, message: service.message)
        self.service = service
    }

    static func kind(of code: String?, status: Int?) -> Kind {
        switch code ?? "" {
        case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "NotAuthorized", "KMSKeyNotAccessibleFault":
            return .accessDenied
        case "DBClusterQuotaExceededFault", "DBClusterQuotaExceeded", "InstanceQuotaExceeded", "InstanceQuotaExceededFault",
             "StorageQuotaExceeded", "StorageQuotaExceededFault", "InsufficientDBClusterCapacityFault",
             "InsufficientDBInstanceCapacity", "InsufficientStorageClusterCapacity":
            return .quotaExceeded
        case "DBClusterSnapshotNotFoundFault", "DBClusterSnapshotNotFound", "DBSnapshotNotFound": return .snapshotNotFound
        case "DBClusterNotFoundFault", "DBClusterNotFound": return .clusterNotFound
        case "DBInstanceNotFound", "DBInstanceNotFoundFault": return .instanceNotFound
        case "DBClusterAlreadyExistsFault", "DBInstanceAlreadyExists": return .alreadyExists
        case "InvalidDBClusterStateFault", "InvalidDBInstanceState", "InvalidDBClusterSnapshotStateFault": return .invalidState
        default: return status == 403 ? .accessDenied : .other
        }
    }

    /// No answer, or a server-side error: asking again later may work.
    public var isTransient: Bool {
        guard let service else { return false }
        guard let status = service.status else { return true }
        return status >= 500 || AWSQueryClient.retryableCodes.contains(code ?? "")
    }

    /// The IAM action a call needs (`rds:RestoreDBClusterFromSnapshot`).
    public var iamAction: String { "rds:\(action)" }

    public var description: String {
        let about = subject.map { " (\($0))" } ?? ""
        let aws = [code, message].compactMap { $0 }.joined(separator: ": ")
        let said = aws.isEmpty ? (service.map { "\($0)" } ?? "failed") : "AWS said \(aws)"
        switch kind {
        case .accessDenied:
            var text = "RDS \(action)\(about) in \(region) was refused: \(said). snapmask's role needs \(iamAction)"
            if code == "KMSKeyNotAccessibleFault" {
                text += " and kms:CreateGrant and kms:Decrypt on the snapshot's (or kms_key:'s) KMS key"
            }
            return text + " (see \"Managed snapshots and clones\" in the README for the whole policy)"
        case .quotaExceeded:
            return "RDS \(action)\(about) in \(region) failed: \(said). The account has reached a limit for clusters, "
                + "instances or storage (or the instance class has no capacity in the subnet group's zones): delete "
                + "clusters left behind (`snapmask cleanup --config FILE`), ask for a higher quota in Service Quotas "
                + "(Amazon RDS: DB clusters, DB instances), or choose another instance_class:"
        case .snapshotNotFound:
            return "the cluster snapshot \(subject ?? "?") does not exist in \(region) (or this role cannot see it): \(said). "
                + "List the snapshots with `aws rds describe-db-cluster-snapshots --region \(region) --db-cluster-identifier "
                + "CLUSTER` (`aws docdb describe-db-cluster-snapshots` for DocumentDB), and check region:"
        case .clusterNotFound:
            return "the cluster \(subject ?? "?") does not exist in \(region) (or this role cannot see it): \(said). "
                + "List the clusters with `aws rds describe-db-clusters --region \(region) --query 'DBClusters[].DBClusterIdentifier'`"
        case .instanceNotFound, .alreadyExists, .invalidState, .other:
            if let service, code == nil { return "RDS \(action)\(about): \(service)" }
            return "RDS \(action)\(about) in \(region) failed: \(said)"
        }
    }
}
