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

extension AWSSources {
    /// Runs `body` with the database reading its temporary cluster when its source is managed
    /// (made first, deleted after, whatever `body` does), else with the database as it is.
    static func reading<T>(_ database: DatabaseJob, observer: any RestoreObserver, _ body: (DatabaseJob) throws -> T) throws -> T {
        guard database.sourcePending,
              let provisioner = try provisioner(for: [database], environment: ProcessInfo.processInfo.environment) else {
            return try body(database)
        }
        let provisioned = try provisioner.provision(database, observer: observer)
        defer { observer.phase(database.name, provisioned.release().summary) }
        return try body(provisioned.database)
    }
}
