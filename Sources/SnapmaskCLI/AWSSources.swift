import Foundation
import Snapmask
import SnapmaskAWS

/// Wires the AWS implementation of temporary sources (`aws-snapshot:`, `aws-clone:`) into the
/// commands that make them.
enum AWSSources {
    /// The provisioner when any of `databases` has a managed source (nil otherwise: a job without
    /// one never needs AWS credentials).
    static func provisioner(for databases: [DatabaseJob], environment: [String: String]) throws -> (any SourceProvisioner)? {
        guard databases.contains(where: { $0.managedSource != nil }) else { return nil }
        return try AWSSourceProvisioner(environment: environment)
    }
}
