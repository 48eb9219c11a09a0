import Foundation
import Snapmask

/// The temporary clusters of `aws-snapshot:` and `aws-clone:` sources, made through the RDS API
/// with the process's credential chain: what the command line installs for `run`, `restore` and
/// `cleanup`.
public struct AWSSourceProvisioner: SourceProvisioner {
    public let environment: AWSEnvironment
    /// Tags every cluster this process makes (`snapmask:run-id`) and is part of its name.
    public let runID: String
    public let polling: TemporaryCluster.Polling
    let credentials: (any AWSCredentialsProvider)?
    let endpointMap: EndpointMap
    /// Puts something in front of the RDS API (tests fail a chosen action with it).
    let intercept: (@Sendable (any RDSQueryCalling) -> any RDSQueryCalling)?

    /// - Parameter credentials: nil for the default chain of `environment`, resolved at the first call.
    public init(environment: [String: String], runID: String = AWSSourceProvisioner.newRunID(),
                polling: TemporaryCluster.Polling = TemporaryCluster.Polling(),
                credentials: (any AWSCredentialsProvider)? = nil,
                intercept: (@Sendable (any RDSQueryCalling) -> any RDSQueryCalling)? = nil) throws {
        self.environment = AWSEnvironment(environment)
        self.runID = runID
        self.polling = polling
        self.credentials = credentials
        self.intercept = intercept
        endpointMap = try EndpointMap(self.environment.value(EndpointMap.variable))
    }

    /// `20261205t124000-3f9a`: the time it started (sorts, and says which run a cluster is of)
    /// and four random hex digits (two runs started in the same second differ).
    public static func newRunID(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd't'HHmmss"
        return formatter.string(from: now) + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }

    /// The region of a managed source: its `region:`, else AWS_REGION.
    public func region(of managed: ManagedSource) throws -> String {
        guard let region = managed.region ?? environment.region else {
            throw ConfigError("the source's region is unknown: add region: to it, or set AWS_REGION", at: managed.location)
        }
        guard AWSEnvironment.isRegionName(region) else {
            throw ConfigError("'\(region)' is not an AWS region (such as us-east-1)", at: managed.location)
        }
        return region
    }

    public func client(region: String) throws -> RDSClient {
        let provider = try credentials ?? AWSCredentialChain.shared(environment)
        let signed = try RDSClient(region: region, endpoint: RDSClient.endpoint(region: region, environment: environment),
                                   credentials: provider)
        guard let intercept else { return signed }
        return RDSClient(region: region, endpoint: signed.endpoint, query: intercept(signed.query))
    }

    public func provision(_ database: DatabaseJob, observer: any RestoreObserver) throws -> ProvisionedSource {
        guard let managed = database.managedSource else {
            throw ConfigError("database '\(database.name)' has a live source: there is no temporary cluster to make")
        }
        let temporary = TemporaryCluster(client: try client(region: try region(of: managed)), runID: runID, polling: polling)
        observer.phase(database.name, "making a temporary cluster from \(managed.originDescription) (run \(runID))")
        let ready = try temporary.create(for: database, managed: managed, progress: { observer.phase(database.name, $0) })
        var (host, port) = (ready.host, ready.port)
        if let mapped = endpointMap.target(for: host) {
            observer.phase(database.name, "connecting to \(mapped.host):\(mapped.port) instead of \(host):\(port) "
                               + "(\(EndpointMap.variable), a testing aid)")
            (host, port) = mapped
        }
        let release: @Sendable () -> TemporarySourceUsage = {
            observer.phase(database.name, "deleting the temporary cluster \(ready.usage.cluster)")
            return temporary.delete(ready.usage)
        }
        let url: ConnectionString
        do {
            let endpoint = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            url = try managed.url(endpoint: endpoint)
        } catch {
            throw SourceProvisioningFailed(underlying: "\(error)", usage: release())
        }
        observer.phase(database.name, "reading \(url) (temporary cluster \(ready.usage.cluster))")
        return ProvisionedSource(database: database.provisioned(source: url), release: release)
    }

    public func removeLeftovers(of databases: [DatabaseJob], dryRun: Bool,
                                observer: any RestoreObserver) throws -> [LeftoverSource] {
        var regions: [String] = []
        for database in databases {
            guard let managed = database.managedSource else { continue }
            let region = try region(of: managed)
            if !regions.contains(region) { regions.append(region) }
        }
        return try removeLeftovers(regions: regions, dryRun: dryRun)
    }

    /// The expired temporary clusters of these regions, deleted unless `dryRun`.
    public func removeLeftovers(regions: [String], dryRun: Bool) throws -> [LeftoverSource] {
        var found: [LeftoverSource] = []
        for region in regions {
            let cleanup = TemporaryClusterCleanup(client: try client(region: region), polling: polling)
            let expired = try cleanup.expired()
            found += dryRun ? expired : cleanup.delete(expired)
        }
        return found
    }
}
