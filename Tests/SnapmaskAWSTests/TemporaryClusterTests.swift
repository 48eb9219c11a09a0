import Foundation
import Snapmask
@testable import SnapmaskAWS
import SnapmaskTestSupport
import Testing

/// The temporary cluster of an `aws-snapshot:`/`aws-clone:` source against the RDS API of the
/// test server (moto): the whole sequence, its failures, and the cleanup of leftovers. Each test
/// has a region of its own, so their clusters never meet.
@Suite(.serialized) struct TemporaryClusterTests {
    static let fastPolling = TemporaryCluster.Polling(first: 0.05, factor: 1.5, longest: 0.2, timeout: 20, deleteTimeout: 5)

    /// A job file with one postgres database reading `source` (YAML flow mapping).
    static func database(_ name: String, source: String, engine: Engine = .postgres) throws -> DatabaseJob {
        let (scheme, target, rules) = engine == .documentdb
            ? ("mongodb", "mongodb://127.0.0.1:57017/stage", "collections:\n  m: { fields: { _id: keep } }\n")
            : ("postgres", "postgres://writer@staging-db/app", "tables:\n  t: { columns: { id: keep } }\n")
        let job = try TestJob(databases: """
            \(name):
              engine: \(engine.rawValue)
              source: { \(source), url: "\(scheme)://reader:pw@{endpoint}/app" }
              target: \(target)
              rules: rules.yaml
            """, files: ["rules.yaml": rules])
        defer { job.remove() }
        return try job.load().databases[0]
    }

    static func provisioner(_ fixture: RDSFixture,
                            intercept: (@Sendable (any RDSQueryCalling) -> any RDSQueryCalling)? = nil) throws -> AWSSourceProvisioner {
        try AWSSourceProvisioner(environment: ["AWS_ENDPOINT_URL_RDS": fixture.endpoint, "AWS_REGION": fixture.region],
                                 polling: fastPolling, credentials: RDSFixture.credentials, intercept: intercept)
    }

    @Test func aSnapshotBecomesATaggedClusterAndIsDeletedAfter() throws {
        let rds = try RDSFixture(region: "us-west-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let database = try Self.database(name, source: """
            aws-snapshot: \(production.snapshot), cluster: \(production.cluster), instance_class: db.r6g.large,
            subnet_group: default, security_groups: [sg-0123456789abcdef0], expires_after: 2h
            """)
        let recorder = RecordingQuery.Log()
        let provisioner = try Self.provisioner(rds, intercept: { RecordingQuery(base: $0, log: recorder) })
        let observer = RecordingObserver()
        let started = Date()
        let provisioned = try provisioner.provision(database, observer: observer)

        let clusters = try rds.clusters(prefix: "snapmask-\(name)-")
        #expect(clusters.count == 1)
        let cluster = try #require(clusters.first)
        #expect(cluster.identifier == TemporaryCluster.clusterIdentifier(database: name, runID: provisioner.runID))
        #expect(cluster.status == "available" && cluster.engine == "aurora-postgresql")
        #expect(cluster.tags["snapmask:run-id"] == provisioner.runID && cluster.tags["snapmask:database"] == name)
        let expires = try #require(cluster.tags["snapmask:expires"].flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(abs(expires.timeIntervalSince(started) - 7200) < 60)
        let instance = try #require(try rds.client.instance(cluster.identifier + "-1"))
        #expect(instance.instanceClass == "db.r6g.large" && instance.cluster == cluster.identifier)
        #expect(instance.tags["snapmask:run-id"] == provisioner.runID)
        #expect(provisioned.database.source.hosts == "\(cluster.endpoint!):5432")
        #expect(!provisioned.database.sourcePending && provisioned.database.source.password == "pw")
        #expect(observer.phases.contains { $0.contains("restoring snapshot \(production.snapshot)") })
        let restore = try #require(recorder.calls.first { $0.action == "RestoreDBClusterFromSnapshot" })
        #expect(restore.parameters["DBSubnetGroupName"] == "default" && restore.parameters["Engine"] == "aurora-postgresql")
        #expect(restore.parameters["VpcSecurityGroupIds.VpcSecurityGroupId.1"] == "sg-0123456789abcdef0")
        #expect(restore.parameters["DeletionProtection"] == "false")

        let usage = provisioned.release()
        #expect(usage.deleteError == nil && usage.deleteRequestedAt != nil && usage.availableAt != nil)
        #expect(usage.instanceClass == "db.r6g.large" && usage.origin == production.snapshot && usage.kind == "aws-snapshot")
        #expect(usage.instanceMinutes > 0 && usage.instanceMinutes < 1)
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty, "the temporary cluster is gone")
        #expect(try rds.client.instance(cluster.identifier + "-1") == nil, "and its instance")
    }

    @Test func latestPicksTheNewestSnapshotOfItsType() throws {
        let rds = try RDSFixture(region: "us-west-2")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let newer = try rds.client.createSnapshot(production.cluster + "-newer", ofCluster: production.cluster)
        let name = RDSFixture.uniqueDatabase("app")
        for (choice, expected) in [("latest-manual", newer.identifier), ("latest-automated", "rds:\(production.cluster)-")] {
            let database = try Self.database(name, source: "aws-snapshot: \(choice), cluster: \(production.cluster), instance_class: db.t4g.medium")
            let usage = try Self.provisioner(rds).provision(database, observer: RecordingObserver()).release()
            #expect(usage.origin.hasPrefix(expected), "\(choice): \(usage.origin)")
        }
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func aCloneIsCopyOnWriteAtTheLatestRestorableTime() throws {
        let rds = try RDSFixture(region: "ca-central-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let recorder = RecordingQuery.Log()
        let provisioner = try Self.provisioner(rds, intercept: { RecordingQuery(base: $0, log: recorder) })
        let database = try Self.database(name, source: "aws-clone: \(production.cluster), instance_class: db.r6g.large")
        let provisioned = try provisioner.provision(database, observer: RecordingObserver())
        let clone = try #require(recorder.calls.first { $0.action == "RestoreDBClusterToPointInTime" })
        #expect(clone.parameters["RestoreType"] == "copy-on-write" && clone.parameters["UseLatestRestorableTime"] == "true")
        #expect(clone.parameters["SourceDBClusterIdentifier"] == production.cluster)
        #expect(clone.parameters["Tags.Tag.1.Key"] == "snapmask:run-id")
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").count == 1)
        let usage = provisioned.release()
        #expect(usage.kind == "aws-clone" && usage.origin == production.cluster && usage.deleteError == nil)
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
        #expect(try rds.client.cluster(production.cluster) != nil, "production is never touched")
    }

    @Test func aMissingSnapshotIsNamedWithHowToListThemAndNothingIsMade() throws {
        let rds = try RDSFixture(region: "sa-east-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let provisioner = try Self.provisioner(rds)
        let named = try Self.database(name, source: "aws-snapshot: weekly-gone, cluster: \(production.cluster), instance_class: db.r6g.large")
        let error = #expect(throws: RDSError.self) { try provisioner.provision(named, observer: RecordingObserver()) }
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains("weekly-gone of cluster \(production.cluster)") && text.contains("does not exist in sa-east-1"), "\(text)")
        #expect(text.contains("aws rds describe-db-cluster-snapshots --region sa-east-1"), "\(text)")

        let bare = try rds.client.createCluster(RDSFixture.uniqueDatabase("bare"), engine: "aurora-postgresql")
        let latest = try Self.database(name, source: "aws-snapshot: latest-manual, cluster: \(bare.identifier), instance_class: db.r6g.large")
        let none = #expect(throws: RDSError.self) { try provisioner.provision(latest, observer: RecordingObserver()) }
        #expect("\(none.map { "\($0)" } ?? "")".contains("has no available manual snapshot (it has none)"))
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func aSnapshotOfAnotherEngineIsRefusedBeforeAnythingIsMade() throws {
        let rds = try RDSFixture(region: "eu-west-2")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"), engine: "aurora-mysql")
        let name = RDSFixture.uniqueDatabase("app")
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let error = #expect(throws: ConfigError.self) { try Self.provisioner(rds).provision(database, observer: RecordingObserver()) }
        #expect(error?.message.contains("is aurora-postgresql but \(production.snapshot) is aurora-mysql") == true, "\(String(describing: error))")
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func aFailedInstanceCreationDeletesTheCluster() throws {
        let rds = try RDSFixture(region: "ap-south-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let provisioner = try Self.provisioner(rds, intercept: {
            FailingQuery(base: $0, action: "CreateDBInstance", status: 400, code: "InstanceQuotaExceeded",
                         message: "You have reached the maximum number of DB instances")
        })
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let error = #expect(throws: SourceProvisioningFailed.self) { try provisioner.provision(database, observer: RecordingObserver()) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("CreateDBInstance") && text.contains("InstanceQuotaExceeded") && text.contains("Service Quotas"), "\(text)")
        #expect(text.contains("was deleted again"), "\(text)")
        #expect(error?.usage.deleteRequestedAt != nil && error?.usage.deleteError == nil && error?.usage.instance == nil)
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty, "nothing is left")
    }

    @Test func accessDeniedNamesTheIAMActionToAllow() throws {
        let rds = try RDSFixture(region: "ap-northeast-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let provisioner = try Self.provisioner(rds, intercept: {
            FailingQuery(base: $0, action: "RestoreDBClusterFromSnapshot", status: 403, code: "AccessDenied",
                         message: "User: arn:aws:sts::111122223333:assumed-role/snapmask-restorer/x is not authorized")
        })
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let error = #expect(throws: RDSError.self) { try provisioner.provision(database, observer: RecordingObserver()) }
        #expect(error?.kind == .accessDenied)
        #expect("\(error.map { "\($0)" } ?? "")".contains("snapmask's role needs rds:RestoreDBClusterFromSnapshot"))
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func aClusterThatWillNeverBeAvailableIsDeleted() throws {
        let rds = try RDSFixture(region: "ap-northeast-2")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let provisioner = try Self.provisioner(rds, intercept: { StatusQuery(base: $0, clusterStatus: "incompatible-restore") })
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let error = #expect(throws: SourceProvisioningFailed.self) { try provisioner.provision(database, observer: RecordingObserver()) }
        #expect(error?.underlying.contains("is incompatible-restore and will not become available") == true, "\(String(describing: error))")
        #expect(error?.usage.instance != nil && error?.usage.deleteError == nil)
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func aClusterThatTakesTooLongIsDeletedAfterTheTimeout() throws {
        let rds = try RDSFixture(region: "ap-southeast-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        var polling = Self.fastPolling
        polling.timeout = 0.5
        let provisioner = try AWSSourceProvisioner(
            environment: ["AWS_ENDPOINT_URL_RDS": rds.endpoint, "AWS_REGION": rds.region], polling: polling,
            credentials: RDSFixture.credentials, intercept: { StatusQuery(base: $0, clusterStatus: "creating") })
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let observer = RecordingObserver()
        let error = #expect(throws: SourceProvisioningFailed.self) { try provisioner.provision(database, observer: observer) }
        #expect(error?.underlying.contains("giving up") == true, "\(String(describing: error))")
        #expect(observer.phases.contains { $0.contains("waiting for the temporary cluster") && $0.contains("cluster creating") })
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func deletionWaitsForAnInstanceStillBeingCreated() throws {
        let rds = try RDSFixture(region: "me-south-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let busy = BusyQuery.Counter()
        let provisioner = try Self.provisioner(rds, intercept: { BusyQuery(base: $0, counter: busy) })
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let usage = try provisioner.provision(database, observer: RecordingObserver()).release()
        #expect(usage.deleteError == nil, "\(String(describing: usage.deleteError))")
        #expect(busy.refusals == 3, "two instance deletions and one cluster deletion were refused first")
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func aFewUnansweredPollsAreWaitedOut() throws {
        let rds = try RDSFixture(region: "af-south-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("app")
        let provisioner = try Self.provisioner(rds, intercept: { FlakyQuery(base: $0, failures: FlakyQuery.Budget(2)) })
        let database = try Self.database(name, source: "aws-snapshot: \(production.snapshot), instance_class: db.r6g.large")
        let observer = RecordingObserver()
        let provisioned = try provisioner.provision(database, observer: observer)
        #expect(observer.phases.filter { $0.contains("no answer from RDS while waiting") }.count == 2)
        #expect(provisioned.release().deleteError == nil)
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func documentDBIsRestoredThroughTheSameAPIWithTheDocDBEngine() throws {
        // moto's RDS API has no docdb engine: the calls go through as aurora-postgresql and the
        // answers come back as docdb, while the recorder keeps what snapmask really sent.
        let rds = try RDSFixture(region: "eu-west-3")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let name = RDSFixture.uniqueDatabase("msg")
        let recorder = RecordingQuery.Log()
        let provisioner = try Self.provisioner(rds, intercept: {
            RecordingQuery(base: EngineTranslatingQuery(base: $0, sent: "docdb", served: "aurora-postgresql"), log: recorder)
        })
        let database = try Self.database(name, source: "aws-snapshot: latest-manual, cluster: \(production.cluster), instance_class: db.r6g.large",
                                         engine: .documentdb)
        let provisioned = try provisioner.provision(database, observer: RecordingObserver())
        let restore = try #require(recorder.calls.first { $0.action == "RestoreDBClusterFromSnapshot" })
        #expect(restore.parameters["Engine"] == "docdb" && restore.parameters["EnableIAMDatabaseAuthentication"] == nil)
        #expect(recorder.calls.first { $0.action == "CreateDBInstance" }?.parameters["Engine"] == "docdb")
        #expect(provisioned.database.source.scheme == "mongodb" && !provisioned.database.sourcePending)
        let usage = provisioned.release()
        #expect(usage.engine == "docdb" && usage.deleteError == nil)
        #expect(recorder.calls.map(\.action).suffix(2) == ["DeleteDBInstance", "DeleteDBCluster"])
        #expect(recorder.calls.first { $0.action == "DeleteDBCluster" }?.parameters["SkipFinalSnapshot"] == "true")
        #expect(try rds.clusters(prefix: "snapmask-\(name)-").isEmpty)
    }

    @Test func cleanupDeletesOnlyTaggedExpiredClusters() throws {
        let rds = try RDSFixture(region: "eu-north-1")
        let stamp = RDSFixture.uniqueDatabase("c")
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
        let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        func make(_ suffix: String, tags: [(key: String, value: String)], instanceTags: [(key: String, value: String)]?) throws -> String {
            let name = "\(stamp)-\(suffix)"
            _ = try rds.client.createCluster(name, engine: "aurora-postgresql", tags: tags)
            if let instanceTags {
                _ = try rds.client.createInstance(name + "-1", cluster: name, engine: "aurora-postgresql",
                                                  instanceClass: "db.t4g.medium", tags: instanceTags)
            }
            return name
        }
        let runTag = ("snapmask:run-id", "20261201t020000-abcd")
        let expired = try make("expired", tags: [runTag, ("snapmask:expires", past)], instanceTags: [runTag])
        let running = try make("running", tags: [runTag, ("snapmask:expires", future)], instanceTags: [runTag])
        let foreign = try make("foreign", tags: [("team", "payments")], instanceTags: [])
        let noRunID = try make("norunid", tags: [("snapmask:expires", past)], instanceTags: nil)
        let badDate = try make("baddate", tags: [runTag, ("snapmask:expires", "next week")], instanceTags: nil)
        let handMade = try make("handmade", tags: [runTag, ("snapmask:expires", past)], instanceTags: [("owner", "dba")])
        defer {
            for name in [running, foreign, noRunID, badDate, handMade] {
                try? rds.client.deleteInstance(name + "-1")
                try? rds.client.deleteCluster(name)
            }
        }
        let provisioner = try Self.provisioner(rds)
        let listed = try provisioner.removeLeftovers(regions: [rds.region], dryRun: true).filter { $0.cluster.hasPrefix(stamp) }
        #expect(Set(listed.map(\.cluster)) == [expired, handMade])
        #expect(listed.first { $0.cluster == expired }?.instances == [expired + "-1"])
        #expect(try rds.clusters(prefix: stamp).count == 6, "a dry run deletes nothing")

        let done = try provisioner.removeLeftovers(regions: [rds.region], dryRun: false).filter { $0.cluster.hasPrefix(stamp) }
        #expect(done.first { $0.cluster == expired }?.error == nil)
        #expect(done.first { $0.cluster == handMade }?.error?.contains("has no snapmask:run-id tag") == true,
                "\(String(describing: done.first { $0.cluster == handMade }))")
        #expect(Set(try rds.clusters(prefix: stamp).map(\.identifier)) == [running, foreign, noRunID, badDate, handMade])
        #expect(try rds.client.instance(expired + "-1") == nil)
    }
}

/// Static checks of names, errors and the endpoint map: no server.
@Suite struct TemporaryClusterNamingTests {
    @Test func clusterNamesAreValidRDSIdentifiers() {
        let runID = "20261205t124000-3f9a"
        #expect(TemporaryCluster.clusterIdentifier(database: "app", runID: runID) == "snapmask-app-20261205t124000-3f9a")
        #expect(TemporaryCluster.clusterIdentifier(database: "Billing_DB--v2", runID: runID) == "snapmask-billing-db-v2-20261205t124000-3f9a")
        let long = TemporaryCluster.clusterIdentifier(database: String(repeating: "orders-", count: 20), runID: runID)
        #expect(long.count + 2 <= 63 && !long.contains("--") && long.hasSuffix(runID), "\(long)")
        #expect(AWSSourceProvisioner.newRunID().range(of: #"^\d{8}t\d{6}-[0-9a-f]{4}$"#, options: .regularExpression) != nil)
    }

    @Test func errorsSayWhatToDo() {
        func error(_ code: String, status: Int = 400, action: String = "RestoreDBClusterFromSnapshot") -> RDSError {
            RDSError(action: action, region: "eu-west-1", subject: "snap-1",
                     service: .answer(api: "RDS", action: action, host: "rds.eu-west-1.amazonaws.com", status: status, code: code,
                                      message: "m"))
        }
        #expect(error("DBClusterQuotaExceededFault").kind == .quotaExceeded)
        #expect("\(error("DBClusterQuotaExceededFault"))".contains("snapmask cleanup --config FILE"))
        #expect(error("InsufficientDBInstanceCapacity").kind == .quotaExceeded)
        #expect("\(error("AccessDenied", status: 403, action: "DeleteDBCluster"))".contains("needs rds:DeleteDBCluster"))
        #expect(error("SomethingElse", status: 403).kind == .accessDenied)
        #expect("\(error("KMSKeyNotAccessibleFault"))".contains("kms:CreateGrant"))
        #expect(error("DBClusterSnapshotNotFoundFault").kind == .snapshotNotFound)
        #expect("\(error("DBClusterNotFoundFault"))".contains("aws rds describe-db-clusters --region eu-west-1"))
        #expect(error("InvalidDBClusterStateFault").kind == .invalidState)
    }

    @Test func theEndpointMapIsATestingAidWithStrictSyntax() throws {
        let map = try EndpointMap("*.eu-west-1.rds.amazonaws.com=127.0.0.1:55432, exact.example=10.0.0.1:3306")
        #expect(map.target(for: "tmp.cluster-x.eu-west-1.rds.amazonaws.com")! == ("127.0.0.1", 55432))
        #expect(map.target(for: "EXACT.example")! == ("10.0.0.1", 3306))
        #expect(map.target(for: "tmp.cluster-x.us-east-1.rds.amazonaws.com") == nil)
        #expect(try EndpointMap("*=127.0.0.1:1").target(for: "anything")! == ("127.0.0.1", 1))
        #expect(try EndpointMap(nil).rules.isEmpty)
        #expect(throws: ConfigError.self) { try EndpointMap("127.0.0.1:5432") }
        #expect(throws: ConfigError.self) { try EndpointMap("*=127.0.0.1") }
    }
}

/// Fails one action with an error answer, as AWS would give it; forwards the rest.
struct FailingQuery: RDSQueryCalling {
    let base: any RDSQueryCalling
    let action: String
    let status: Int
    let code: String
    let message: String

    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        if action == self.action {
            throw AWSServiceError.answer(api: "RDS", action: action, host: "rds.test", status: status, code: code, message: message)
        }
        return try base.call(action, parameters)
    }
}

/// Refuses the first two DeleteDBInstance calls and the first DeleteDBCluster as AWS does while
/// the instance is still being created.
struct BusyQuery: RDSQueryCalling {
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [String: Int] = [:]
        var refusals: Int { lock.withLock { counts.values.reduce(0, +) } }
        func refuse(_ action: String, times: Int) -> Bool {
            lock.withLock {
                guard counts[action, default: 0] < times else { return false }
                counts[action, default: 0] += 1
                return true
            }
        }
    }

    let base: any RDSQueryCalling
    let counter: Counter

    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        if action == "DeleteDBInstance", counter.refuse(action, times: 2) {
            throw AWSServiceError.answer(api: "RDS", action: action, host: "rds.test", status: 400, code: "InvalidDBInstanceState",
                                         message: "Instance is not in available state")
        }
        if action == "DeleteDBCluster", counter.refuse(action, times: 1) {
            throw AWSServiceError.answer(api: "RDS", action: action, host: "rds.test", status: 400, code: "InvalidDBClusterStateFault",
                                         message: "Cluster cannot be deleted, it still contains DB instances in non-deleting state.")
        }
        return try base.call(action, parameters)
    }
}

/// Answers the first polls of a temporary cluster with HTTP 503, as a service briefly unavailable.
struct FlakyQuery: RDSQueryCalling {
    final class Budget: @unchecked Sendable {
        private let lock = NSLock()
        private var left: Int
        init(_ count: Int) { left = count }
        func take() -> Bool { lock.withLock { left > 0 ? { left -= 1; return true }() : false } }
    }

    let base: any RDSQueryCalling
    let failures: Budget

    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        if action == "DescribeDBClusters", parameters.contains(where: { $0.value.hasPrefix("snapmask-") }), failures.take() {
            throw AWSServiceError.answer(api: "RDS", action: action, host: "rds.test", status: 503, code: "ServiceUnavailable",
                                         message: "Service unavailable")
        }
        return try base.call(action, parameters)
    }
}

/// Keeps every call's action and parameters.
struct RecordingQuery: RDSQueryCalling {
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [(action: String, parameters: [String: String])] = []
        var calls: [(action: String, parameters: [String: String])] { lock.withLock { recorded } }
        func add(_ action: String, _ parameters: [(name: String, value: String)]) {
            lock.withLock { recorded.append((action, Dictionary(parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }))) }
        }
    }

    let base: any RDSQueryCalling
    let log: Log

    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        log.add(action, parameters)
        return try base.call(action, parameters)
    }
}

/// Reports every cluster snapmask made (`snapmask-…`) in a fixed status, as a restore that fails
/// or never ends would.
struct StatusQuery: RDSQueryCalling {
    let base: any RDSQueryCalling
    let clusterStatus: String

    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        var result = try base.call(action, parameters)
        guard action == "DescribeDBClusters", parameters.contains(where: { $0.name == "DBClusterIdentifier" && $0.value.hasPrefix("snapmask-") })
        else { return result }
        result.rewrite { element in if element.name == "Status" { element.text = clusterStatus } }
        return result
    }
}

/// Sends `served` for the engine `sent`, and answers `sent` where the server says `served`.
struct EngineTranslatingQuery: RDSQueryCalling {
    let base: any RDSQueryCalling
    let sent: String
    let served: String

    func call(_ action: String, _ parameters: [(name: String, value: String)]) throws -> AWSXMLElement {
        let translated = parameters.map { $0.name == "Engine" && $0.value == sent ? (name: $0.name, value: served) : $0 }
        var result = try base.call(action, translated)
        result.rewrite { element in if element.name == "Engine", element.text == served { element.text = sent } }
        return result
    }
}

extension AWSXMLElement {
    /// Applies `change` to this element and every element below it.
    mutating func rewrite(_ change: (inout AWSXMLElement) -> Void) {
        change(&self)
        for index in children.indices { children[index].rewrite(change) }
    }
}
