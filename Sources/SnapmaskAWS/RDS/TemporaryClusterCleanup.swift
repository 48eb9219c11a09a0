import Foundation
import Snapmask

/// Finds temporary clusters that runs killed before they could delete them (SIGKILL, a node
/// lost, a second Ctrl-C) left behind, and deletes them: only clusters carrying snapmask's
/// `snapmask:run-id` tag whose `snapmask:expires` has passed; a cluster without the tag, or
/// with an expiry that cannot be read, is never touched. A cluster with an instance that is
/// not snapmask's (someone added one by hand) is reported and left alone.
public struct TemporaryClusterCleanup: Sendable {
    public let client: RDSClient
    public let polling: TemporaryCluster.Polling

    public init(client: RDSClient, polling: TemporaryCluster.Polling = TemporaryCluster.Polling()) {
        self.client = client
        self.polling = polling
    }

    /// Clusters of this region that are snapmask's and expired at `now`, not already being deleted.
    public func expired(at now: Date = Date()) throws -> [LeftoverSource] {
        try client.clusters().compactMap { cluster in
            guard let runID = cluster.tags[TemporaryCluster.runIDTag], !runID.isEmpty,
                  let expiresText = cluster.tags[TemporaryCluster.expiresTag],
                  let expires = ISO8601DateFormatter().date(from: expiresText),
                  expires < now, !["deleting", "deleted"].contains(cluster.status) else { return nil }
            return LeftoverSource(cluster: cluster.identifier, region: client.region, runID: runID, expires: expires,
                                  instances: cluster.members)
        }
    }

    /// Deletes each leftover's instances (only those tagged by snapmask) and then the cluster;
    /// returns them with the error of those that could not be deleted.
    public func delete(_ leftovers: [LeftoverSource]) -> [LeftoverSource] {
        leftovers.map { leftover in
            var leftover = leftover
            do {
                for identifier in leftover.instances {
                    guard let instance = try client.instance(identifier) else { continue }
                    guard instance.tags[TemporaryCluster.runIDTag] != nil else {
                        throw ConfigError("its instance \(identifier) has no \(TemporaryCluster.runIDTag) tag: someone added it "
                                              + "by hand, so snapmask leaves the cluster alone; delete it yourself if it is no "
                                              + "longer needed")
                    }
                    try client.deleteInstance(identifier)
                }
                let remover = TemporaryCluster(client: client, runID: leftover.runID, polling: polling)
                try remover.deleteClusterRetrying(leftover.cluster, instance: leftover.instances.first)
            } catch {
                leftover.error = "\(error)"
            }
            return leftover
        }
    }
}
