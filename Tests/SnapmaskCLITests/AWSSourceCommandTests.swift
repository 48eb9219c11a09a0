import Foundation
import Snapmask
import SnapmaskAWS
import SnapmaskTestSupport
import Testing

/// `snapmask run`, `restore` and `cleanup` with an `aws-snapshot:` source, end to end: the RDS
/// API of the test server (moto) makes the temporary cluster, `SNAPMASK_AWS_ENDPOINT_MAP` sends
/// its endpoint to the local database server, and after every run, good or failed or stopped by
/// a signal, no temporary cluster is left. Each test has a region of its own.
@Suite(.serialized) struct AWSSourceCommandTests {
    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', 'Name ' || g FROM generate_series(1, 200) g;
        """
    static let rules = "tables:\n  users:\n    columns: { id: keep, email: { transform: email, unique: true }, name: full_name }\n"

    struct Setup {
        let scratch: PostgresScratch
        let rds: RDSFixture
        let database: String
        let job: TestJob
        let environment: [String: String?]

        var clusterPrefix: String { "snapmask-\(database)-" }

        func remainingClusters() throws -> [String] { try rds.clusters(prefix: clusterPrefix).map(\.identifier) }

        func cleanup() {
            scratch.drop()
            job.remove()
        }
    }

    /// A PostgreSQL "production" database, a cluster snapshot of it on the RDS API, and a job
    /// reading `aws-snapshot: <snapshot>` (or `snapshot:` when given) into staging.
    static func setUp(_ label: String, region: String, snapshot: String? = nil, sql: String = sourceSQL,
                      sourceDatabase: String = "src") throws -> Setup {
        let scratch = try PostgresScratch(label)
        _ = try scratch.url("src", create: true, sql: sql)
        let rds = try RDSFixture(region: region)
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"))
        let database = RDSFixture.uniqueDatabase(label)
        let job = try TestJob(databases: """
            \(database):
              engine: postgres
              source:
                aws-snapshot: \(snapshot ?? production.snapshot)
                cluster: \(production.cluster)
                url: "postgres://postgres@{endpoint}/\(scratch.prefix)_\(sourceDatabase)"
                instance_class: db.r6g.large
                region: \(region)
              target: \(try scratch.url("stage").raw)
              rules: rules.yaml
            """, files: ["rules.yaml": rules])
        var environment = rds.environment
        environment["AWS_REGION"] = nil
        environment[EndpointMap.variable] = "*=\(scratch.server.hosts)"
        return Setup(scratch: scratch, rds: rds, database: database, job: job, environment: environment)
    }

    @Test func runRestoresFromASnapshotAndDeletesTheTemporaryCluster() throws {
        let setup = try Self.setUp("awsrun", region: "us-east-2")
        defer { setup.cleanup() }
        let report = setup.job.directory.appendingPathComponent("report.json").path
        let metrics = setup.job.directory.appendingPathComponent("snapmask.prom").path
        let result = try CommandRunner.run(["run", "--config", setup.job.path, "--report", report, "--metrics-file", metrics],
                                           environment: setup.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("1 of 1 databases restored"))
        #expect(result.stdout.contains("temporary cluster \(setup.clusterPrefix)") && result.stdout.contains("; deleted"),
                "\(result.stdout)")
        #expect(result.stderr.contains("restoring snapshot") && result.stderr.contains("SNAPMASK_AWS_ENDPOINT_MAP, a testing aid"))
        #expect(try setup.scratch.rows("stage", "SELECT count(*) FROM users WHERE email LIKE '%@corp.example.org'") == [["0"]])
        #expect(try setup.scratch.rows("stage", "SELECT count(*) FROM users") == [["200"]])
        #expect(try setup.remainingClusters().isEmpty, "the temporary cluster is gone")

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let entry = (json?["databases"] as? [[String: Any]])?.first
        let temporary = entry?["temporarySource"] as? [String: Any]
        #expect(temporary?["instanceClass"] as? String == "db.r6g.large" && temporary?["kind"] as? String == "aws-snapshot")
        #expect(temporary?["deleteRequestedAt"] != nil && temporary?["deleteError"] == nil)
        #expect((temporary?["cluster"] as? String)?.hasPrefix(setup.clusterPrefix) == true)
        #expect(temporary?["instanceMinutes"] is Double && temporary?["secondsUntilAvailable"] is Double)

        let (samples, types) = try RunCommandTests.parseMetrics(metrics)
        let labels = "{database=\"\(setup.database)\",instance_class=\"db.r6g.large\"}"
        #expect((samples["snapmask_temporary_cluster_seconds\(labels)"] ?? 0) > 0, "\(samples)")
        #expect(samples["snapmask_temporary_cluster_wait_seconds\(labels)"] != nil)
        #expect(samples["snapmask_temporary_cluster_deleted\(labels)"] == 1)
        #expect(types["snapmask_temporary_cluster_seconds"] == "gauge")
        #expect(samples["snapmask_last_run_success{database=\"\(setup.database)\"}"] == 1)
    }

    @Test func aRestoreThatFailsAfterTheClusterExistsDeletesIt() throws {
        // The source has a column no rule covers: the check inside the restore fails once the
        // temporary cluster is up.
        let setup = try Self.setUp("awsfail", region: "eu-central-1",
                                   sql: Self.sourceSQL + "ALTER TABLE users ADD COLUMN phone text;")
        defer { setup.cleanup() }
        let report = setup.job.directory.appendingPathComponent("report.json").path
        let metrics = setup.job.directory.appendingPathComponent("snapmask.prom").path
        let result = try CommandRunner.run(["run", "--config", setup.job.path, "--report", report, "--metrics-file", metrics],
                                           environment: setup.environment)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("public.users.phone"), "\(result.stdout)")
        #expect(result.stderr.contains("deleting the temporary cluster"))
        #expect(try setup.remainingClusters().isEmpty, "the temporary cluster is gone")
        #expect(try setup.scratch.databases() == ["\(setup.scratch.prefix)_src"], "staging untouched, no shadow")
        let json = try String(contentsOfFile: report, encoding: .utf8)
        #expect(json.contains("\"temporarySource\"") && json.contains("\"deleteRequestedAt\""))
        let (samples, _) = try RunCommandTests.parseMetrics(metrics)
        #expect(samples["snapmask_temporary_cluster_deleted{database=\"\(setup.database)\",instance_class=\"db.r6g.large\"}"] == 1)
    }

    @Test func anUnreachableTemporarySourceFailsTheRunAndTheClusterIsDeleted() throws {
        let setup = try Self.setUp("awsnodb", region: "ap-southeast-2", sourceDatabase: "missing")
        defer { setup.cleanup() }
        let result = try CommandRunner.run(["run", "--config", setup.job.path], environment: setup.environment)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("FAILED") && result.stdout.contains("\(setup.scratch.prefix)_missing"), "\(result.stdout)")
        #expect(try setup.remainingClusters().isEmpty)
    }

    @Test func aMissingSnapshotIsNamedAndNothingIsMade() throws {
        let setup = try Self.setUp("awsnosnap", region: "eu-west-1", snapshot: "weekly-that-never-was")
        defer { setup.cleanup() }
        let result = try CommandRunner.run(["run", "--config", setup.job.path], environment: setup.environment)
        #expect(result.status == 1)
        #expect(result.stdout.contains("the cluster snapshot weekly-that-never-was of cluster prod"), "\(result.stdout)")
        #expect(result.stdout.contains("describe-db-cluster-snapshots --region eu-west-1"))
        #expect(try setup.remainingClusters().isEmpty)
    }

    @Test func sigtermDuringTheCopyDeletesTheTemporaryCluster() throws {
        let setup = try Self.setUp("awsterm", region: "ap-southeast-3", sql: """
            CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
            INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', repeat('n', 200) FROM generate_series(1, 60000) g;
            """)
        defer { setup.cleanup() }
        let run = try RunningCommand(["run", "--config", setup.job.path], environment: setup.environment)
        #expect(run.waitForStderr(containing: "copying 1 tables"))
        #expect(try setup.remainingClusters().count == 1, "the cluster exists while the copy runs")
        run.signal(SIGTERM)
        let result = run.wait()
        #expect(result.status == 143, "\(result.stderr)")
        #expect(result.stderr.contains("deleting the temporary cluster"), "\(result.stderr)")
        #expect(try setup.remainingClusters().isEmpty, "deleted on SIGTERM")
    }

    @Test func cleanupAndRunDeleteExpiredLeftoversOnly() throws {
        let setup = try Self.setUp("awsleft", region: "us-west-1")
        defer { setup.cleanup() }
        let client = setup.rds.client
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-600))
        let leftover = "snapmask-\(setup.database)-20261129t020000-dead"
        let untagged = "\(setup.database)-reporting"
        _ = try client.createCluster(leftover, engine: "aurora-postgresql",
                                     tags: [("snapmask:run-id", "20261129t020000-dead"), ("snapmask:expires", past)])
        _ = try client.createInstance(leftover + "-1", cluster: leftover, engine: "aurora-postgresql", instanceClass: "db.r6g.large",
                                      tags: [("snapmask:run-id", "20261129t020000-dead")])
        _ = try client.createCluster(untagged, engine: "aurora-postgresql", tags: [("snapmask:expires", past)])
        defer { try? client.deleteCluster(untagged) }

        let listed = try CommandRunner.run(["cleanup", "--config", setup.job.path, "--dry-run"], environment: setup.environment)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("\(leftover) (us-west-1, run 20261129t020000-dead") && listed.stdout.contains("would be deleted"),
                "\(listed.stdout)")
        #expect(!listed.stdout.contains(untagged))
        #expect(try client.cluster(leftover) != nil, "a dry run deletes nothing")

        // run deletes it before it makes its own cluster.
        let run = try CommandRunner.run(["run", "--config", setup.job.path], environment: setup.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("temporary cluster \(leftover) (us-west-1) left behind by run 20261129t020000-dead"),
                "\(run.stderr)")
        #expect(try client.cluster(leftover) == nil && client.instance(leftover + "-1") == nil)
        #expect(try client.cluster(untagged) != nil, "a cluster without snapmask:run-id is never deleted")
        #expect(try setup.remainingClusters().isEmpty)

        let again = try CommandRunner.run(["cleanup", "--config", setup.job.path], environment: setup.environment)
        #expect(again.status == 0 && again.stdout.contains("0 expired temporary clusters in us-west-1"), "\(again.stdout)")
    }

    @Test func restoreMakesAndDeletesItsClusterAndCheckSaysWhatToDo() throws {
        let setup = try Self.setUp("awsrest", region: "us-west-2")
        defer { setup.cleanup() }
        let report = setup.job.directory.appendingPathComponent("report.json").path
        let result = try CommandRunner.run(["restore", "--config", setup.job.path, "--report", report], environment: setup.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("swapped") && result.stdout.contains("temporary cluster \(setup.clusterPrefix)"))
        #expect(try String(contentsOfFile: report, encoding: .utf8).contains("\"temporarySource\""))
        #expect(try setup.remainingClusters().isEmpty)

        let check = try CommandRunner.run(["check", "--config", setup.job.path], environment: setup.environment)
        #expect(check.status != 0)
        #expect((check.stdout + check.stderr).contains("which only `snapmask run`, `snapmask restore` and `snapmask snapshot create` make"),
                "\(check.stdout)\(check.stderr)")
        let dryRun = try CommandRunner.run(["restore", "--config", setup.job.path, "--dry-run"], environment: setup.environment)
        #expect(dryRun.status != 0 && dryRun.stderr.contains("so reading the source cannot read it"), "\(dryRun.stderr)")
        let offline = try CommandRunner.run(["check", "--config", setup.job.path, "--offline"], environment: setup.environment)
        #expect(offline.status == 0, "\(offline.stdout)\(offline.stderr)")
        #expect(try setup.remainingClusters().isEmpty, "check never makes a cluster")
    }

    @Test func snapshotCreateReadsATemporaryCluster() throws {
        let setup = try Self.setUp("awssnap", region: "eu-south-1")
        defer { setup.cleanup() }
        let store = setup.job.directory.appendingPathComponent("store").path
        let text = try String(contentsOfFile: setup.job.path, encoding: .utf8)
        try setup.job.write("snapmask.yaml", text.replacingOccurrences(of: "databases:\n", with: "store: \(store)\ndatabases:\n"))
        let result = try CommandRunner.run(["snapshot", "create", "--config", setup.job.path, "--unencrypted", "--name", "weekly-1"],
                                           environment: setup.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("snapshot weekly-1: 1 tables, 200 rows"), "\(result.stdout)")
        #expect(result.stderr.contains("restoring snapshot") && result.stderr.contains("; deleted"), "\(result.stderr)")
        #expect(try setup.remainingClusters().isEmpty)
    }

    @Test func mysqlRunsFromAnAuroraMySQLSnapshot() throws {
        let mysql = try MySQLScratch("awsmy")
        defer { mysql.drop() }
        _ = try mysql.url("src", create: true, sql: """
            CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(200));
            INSERT INTO customers SELECT seq, CONCAT('customer', seq, '@corp.example.org') FROM seq_1_to_150;
            """)
        let rds = try RDSFixture(region: "ca-central-1")
        let production = try rds.production(RDSFixture.uniqueDatabase("prod"), engine: "aurora-mysql")
        let database = RDSFixture.uniqueDatabase("shop")
        let server = try TestServers.mysql()
        let user = server.user ?? "root"
        let job = try TestJob(databases: """
            \(database):
              engine: mysql
              source: { aws-snapshot: latest-manual, cluster: \(production.cluster), region: ca-central-1,
                        url: "mysql://\(user)@{endpoint}/\(mysql.name("src"))", instance_class: db.r6g.xlarge }
              target: \(try mysql.url("stage").raw)
              rules: rules.yaml
            """, files: ["rules.yaml": "tables:\n  customers:\n    columns: { id: keep, email: email }\n"])
        defer { job.remove() }
        var environment = rds.environment
        environment[EndpointMap.variable] = "*=\(server.hosts)"
        let result = try CommandRunner.run(["run", "--config", job.path], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try mysql.rows("stage", "SELECT COUNT(*) FROM customers WHERE email NOT LIKE '%@corp.example.org'") == [["150"]])
        #expect(try rds.clusters(prefix: "snapmask-\(database)-").isEmpty)
    }
}
