import Foundation
import Snapmask

/// The life of one temporary cluster: resolve the snapshot (or the cluster to clone), make the
/// cluster and its one instance with the job file's settings and snapmask's tags, wait until
/// both are available, and delete both afterwards. Whatever fails part-way, what was made is
/// deleted before the error is thrown; what cannot be deleted keeps its tags, by which
/// `snapmask cleanup` finds it once it has expired.
public struct TemporaryCluster: Sendable {
    public let client: RDSClient
    public let runID: String
    public let polling: Polling

    /// How often the cluster is asked whether it is ready: at once, then after `first` seconds,
    /// growing by `factor` up to `longest`, for at most `timeout`.
    public struct Polling: Sendable {
        public var first: TimeInterval
        public var factor: Double
        public var longest: TimeInterval
        public var timeout: TimeInterval
        /// How long a cluster deletion refused because its instance is not yet deleting is retried.
        public var deleteTimeout: TimeInterval

        public init(first: TimeInterval = 5, factor: Double = 1.5, longest: TimeInterval = 60, timeout: TimeInterval = 2 * 3600,
                    deleteTimeout: TimeInterval = 15 * 60) {
            self.first = first
            self.factor = factor
            self.longest = longest
            self.timeout = timeout
            self.deleteTimeout = deleteTimeout
        }
    }

    public static let runIDTag = "snapmask:run-id"
    public static let expiresTag = "snapmask:expires"
    public static let databaseTag = "snapmask:database"

    public init(client: RDSClient, runID: String, polling: Polling = Polling()) {
        self.client = client
        self.runID = runID
        self.polling = polling
    }

    /// The RDS engine a job file's engine is restored as.
    public static func rdsEngine(_ engine: Engine) -> String {
        switch engine {
        case .postgres: return "aurora-postgresql"
        case .mysql: return "aurora-mysql"
        case .documentdb: return "docdb"
        }
    }

    static func defaultPort(_ engine: Engine) -> Int {
        switch engine {
        case .postgres: return 5432
        case .mysql: return 3306
        case .documentdb: return 27017
        }
    }

    /// `snapmask-<database>-<run id>`: recognisable in the console, unique per run, within the
    /// 63 characters RDS allows (the instance adds `-1`).
    public static func clusterIdentifier(database: String, runID: String) -> String {
        var name = ""
        for character in database.lowercased() {
            let keep = character.isASCII && (character.isLetter || character.isNumber)
            if keep { name.append(character) } else if !name.hasSuffix("-") && !name.isEmpty { name.append("-") }
        }
        while name.hasSuffix("-") { name.removeLast() }
        if name.isEmpty { name = "db" }
        let room = 63 - 2 - "snapmask-".count - 1 - runID.count
        name = String(name.prefix(max(room, 1)))
        while name.hasSuffix("-") { name.removeLast() }
        return "snapmask-\(name)-\(runID)"
    }

    /// A cluster that exists and answers.
    public struct Ready: Sendable {
        public var host: String
        public var port: Int
        public var usage: TemporarySourceUsage
    }

    /// Makes and waits for the temporary cluster of `database`. On failure (a signal included)
    /// deletes what was made and throws `SourceProvisioningFailed`, or the lookup's error when
    /// nothing was made yet.
    public func create(for database: DatabaseJob, managed: ManagedSource, progress: @Sendable (String) -> Void) throws -> Ready {
        let engine = Self.rdsEngine(database.engine)
        let cluster = Self.clusterIdentifier(database: database.name, runID: runID)
        let instance = cluster + "-1"
        let origin = try resolveOrigin(managed, engine: engine, database: database.name)

        let createdAt = Date()
        var settings = RDSClient.ClusterSettings(engine: engine)
        settings.subnetGroup = managed.subnetGroup
        settings.securityGroups = managed.securityGroups
        settings.parameterGroup = managed.parameterGroup
        settings.kmsKey = managed.kmsKey
        settings.iamAuthentication = managed.url.authentication == .iam
        settings.tags = tags(database: database.name, expires: createdAt.addingTimeInterval(managed.expiresAfter))
        var usage = TemporarySourceUsage(kind: managed.kind, origin: origin.name, cluster: cluster, instance: nil,
                                         instanceClass: managed.instanceClass, engine: engine, region: client.region,
                                         createdAt: createdAt)
        do {
            switch origin {
            case let .snapshot(snapshot):
                progress("restoring snapshot \(snapshot) into the temporary cluster \(cluster) (\(client.region))")
                _ = try client.restoreCluster(cluster, fromSnapshot: snapshot, settings: settings)
            case let .clone(source):
                progress("cloning \(source) (copy-on-write, at its latest restorable time) into the temporary cluster \(cluster)")
                _ = try client.cloneCluster(cluster, from: source, settings: settings)
            }
        } catch {
            // A call that got no answer may still have made the cluster.
            if (error as? RDSError)?.service?.status == nil, (try? client.cluster(cluster)) != nil {
                throw SourceProvisioningFailed(underlying: "\(error)", usage: delete(usage))
            }
            throw error
        }
        do {
            progress("creating the instance \(instance) (\(managed.instanceClass)) in \(cluster)")
            _ = try client.createInstance(instance, cluster: cluster, engine: engine, instanceClass: managed.instanceClass,
                                          tags: settings.tags)
            usage.instance = instance
            let endpoint = try waitUntilAvailable(cluster: cluster, instance: instance, progress: progress)
            usage.availableAt = Date()
            return Ready(host: endpoint.host, port: endpoint.port ?? Self.defaultPort(database.engine), usage: usage)
        } catch {
            if usage.instance == nil, (try? client.instance(instance)) != nil { usage.instance = instance }
            progress("making the temporary cluster failed; deleting \(cluster)")
            throw SourceProvisioningFailed(underlying: "\(error)", usage: delete(usage))
        }
    }

    enum Origin {
        case snapshot(String)
        case clone(String)

        var name: String {
            switch self {
            case let .snapshot(name), let .clone(name): return name
            }
        }
    }

    /// The snapshot to restore (the newest available one for latest-*), or the cluster to clone,
    /// checked to be of the job's engine.
    func resolveOrigin(_ managed: ManagedSource, engine: String, database: String) throws -> Origin {
        let found: (name: String, engine: String, status: String)
        switch managed.origin {
        case let .snapshot(.named(name), cluster):
            do {
                let snapshot = try client.snapshot(name)
                found = (name, snapshot.engine, snapshot.status)
            } catch var error as RDSError where error.kind == .snapshotNotFound {
                if let cluster { error.subject = "\(name) of cluster \(cluster)" }
                throw error
            }
        case let .snapshot(choice, cluster):
            let cluster = cluster ?? ""
            let type = choice == .latestManual ? "manual" : "automated"
            let candidates = try client.snapshots(ofCluster: cluster, type: type)
            guard let newest = candidates.filter({ $0.status == "available" })
                .max(by: { ($0.created ?? .distantPast) < ($1.created ?? .distantPast) }) else {
                let listing = candidates.isEmpty ? "it has none" : "none of its \(candidates.count) is available yet"
                throw RDSError(action: "DescribeDBClusterSnapshots", region: client.region, subject: "\(type) snapshot of \(cluster)",
                               kind: .snapshotNotFound, code: nil,
                               message: "the cluster \(cluster) has no available \(type) snapshot (\(listing))")
            }
            found = (newest.identifier, newest.engine, newest.status)
        case let .clone(cluster):
            guard let source = try client.cluster(cluster) else {
                throw RDSError(action: "DescribeDBClusters", region: client.region, subject: cluster, kind: .clusterNotFound,
                               code: "DBClusterNotFoundFault", message: "no such cluster")
            }
            found = (cluster, source.engine, source.status)
        }
        if !found.engine.isEmpty, found.engine != engine {
            throw ConfigError("database '\(database)' is \(engine) but \(found.name) is \(found.engine): point aws-snapshot:/aws-clone: "
                                  + "at a \(engine) cluster, or fix engine:", at: managed.location)
        }
        if case .snapshot = managed.origin, found.status != "available" {
            throw RDSError(action: "DescribeDBClusterSnapshots", region: client.region, subject: found.name, kind: .invalidState,
                           code: nil, message: "the snapshot is \(found.status), not available; wait for it or choose another")
        }
        if case .snapshot = managed.origin { return .snapshot(found.name) }
        return .clone(found.name)
    }

    func tags(database: String, expires: Date) -> [(key: String, value: String)] {
        [(Self.runIDTag, runID), (Self.expiresTag, ISO8601DateFormatter().string(from: expires)), (Self.databaseTag, database)]
    }

    /// Statuses from which a cluster or instance never becomes available by itself.
    static let hopeless: Set<String> = ["failed", "deleting", "deleted", "incompatible-restore", "incompatible-parameters",
                                        "incompatible-network", "inaccessible-encryption-credentials", "restore-error",
                                        "storage-full", "stopped"]

    /// Polls cluster and instance with a growing interval until both are available; a signal
    /// (SIGTERM, SIGINT) stops the wait at once.
    func waitUntilAvailable(cluster: String, instance: String,
                            progress: @Sendable (String) -> Void) throws -> (host: String, port: Int?) {
        let started = Date()
        var interval = polling.first
        var lastSaid = ""
        var unanswered = 0
        while true {
            try RunInterruption.shared.check()
            // A wait of twenty minutes can meet a network blip longer than one call's retries:
            // a few unanswered polls in a row are waited out rather than deleting the cluster.
            let clusterAnswer: RDSCluster?
            do {
                clusterAnswer = try client.cluster(cluster)
                unanswered = 0
            } catch let error as RDSError where error.isTransient && unanswered < 5 {
                unanswered += 1
                progress("no answer from RDS while waiting for \(cluster) (\(error)); asking again")
                try sleep(interval)
                continue
            }
            guard let clusterState = clusterAnswer else {
                throw RDSError(action: "DescribeDBClusters", region: client.region, subject: cluster, kind: .clusterNotFound,
                               code: nil, message: "the temporary cluster disappeared while it was being made")
            }
            let instanceState = try client.instance(instance)
            let instanceStatus = instanceState?.status ?? "not visible yet"
            for (what, status) in [("cluster", clusterState.status), ("instance", instanceStatus)] where Self.hopeless.contains(status) {
                throw RDSError(action: "DescribeDBClusters", region: client.region, subject: what == "cluster" ? cluster : instance,
                               kind: .invalidState, code: nil,
                               message: "the temporary \(what) is \(status) and will not become available (see its events: "
                                   + "`aws rds describe-events --source-identifier \(what == "cluster" ? cluster : instance) "
                                   + "--source-type db-\(what)`)")
            }
            if clusterState.status == "available", instanceStatus == "available", let host = clusterState.endpoint {
                progress("temporary cluster \(cluster) is available after \(Self.minutes(Date().timeIntervalSince(started))) "
                             + "at \(host):\(clusterState.port.map(String.init) ?? "default port")")
                return (host, clusterState.port)
            }
            let elapsed = Date().timeIntervalSince(started)
            guard elapsed < polling.timeout else {
                throw RDSError(action: "DescribeDBClusters", region: client.region, subject: cluster, kind: .invalidState, code: nil,
                               message: "not available after \(Self.minutes(elapsed)) (cluster \(clusterState.status), "
                                   + "instance \(instanceStatus)); giving up")
            }
            let said = "cluster \(clusterState.status), instance \(instanceStatus)"
            // A line per change, and one at least every few polls, so a log shows the wait is alive.
            if said != lastSaid || interval >= polling.longest {
                progress("waiting for the temporary cluster \(cluster): \(said) (\(Self.minutes(elapsed)) so far; AWS usually "
                             + "takes 10–20 min for the cluster and 5–10 for the instance)")
                lastSaid = said
            }
            try sleep(interval)
            interval = min(interval * polling.factor, polling.longest)
        }
    }

    /// Sleeps in short steps, so a signal ends the wait within a fraction of a second.
    private func sleep(_ seconds: TimeInterval) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            try RunInterruption.shared.check()
            Thread.sleep(forTimeInterval: min(0.2, max(end.timeIntervalSinceNow, 0)))
        }
    }

    /// Deletes the instance, then the cluster (SkipFinalSnapshot); never throws: a failure is
    /// recorded in the usage. Not interrupted by signals: this is the cleaning up they ask for.
    public func delete(_ usage: TemporarySourceUsage) -> TemporarySourceUsage {
        var usage = usage
        do {
            if let instance = usage.instance { try retryingWhileBusy { try client.deleteInstance(instance) } }
            try deleteClusterRetrying(usage.cluster, instance: usage.instance)
            usage.deleteRequestedAt = Date()
        } catch {
            usage.deleteRequestedAt = Date()
            usage.deleteError = "\(error)"
        }
        return usage
    }

    /// A cluster whose instance is still being created refuses deletion (InvalidDBClusterStateFault)
    /// until the instance is deleting too: retried, and the instance's deletion asked again.
    func deleteClusterRetrying(_ cluster: String, instance: String?) throws {
        var again = false
        try retryingWhileBusy {
            if again, let instance { try? client.deleteInstance(instance) }
            again = true
            try client.deleteCluster(cluster)
        }
    }

    /// Runs `body` again while RDS answers that the resource is in a state that does not allow
    /// it yet (an instance still being created cannot be deleted), for at most `deleteTimeout`.
    func retryingWhileBusy(_ body: () throws -> Void) throws {
        let started = Date()
        var interval = polling.first
        while true {
            do {
                try body()
                return
            } catch let error as RDSError where error.kind == .invalidState {
                guard Date().timeIntervalSince(started) < polling.deleteTimeout else { throw error }
                Thread.sleep(forTimeInterval: interval)
                interval = min(interval * polling.factor, polling.longest)
            }
        }
    }

    static func minutes(_ seconds: TimeInterval) -> String {
        seconds < 60 ? "\(Int(seconds)) s" : String(format: "%.1f min", seconds / 60)
    }
}
