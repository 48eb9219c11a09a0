import Foundation
import Testing
@testable import Snapmask

/// `source: { aws-snapshot: … }` and `{ aws-clone: … }`: what the job file accepts, and the
/// errors (file:line:column) of the forms it does not.
@Suite struct ManagedSourceConfigTests {
    static let key = "0123456789abcdef0123456789"

    func job(engine: String = "postgres", source: String, auth: String? = nil,
             target: String = "postgres://writer@staging-db/app") -> String {
        """
        masking_key: \(Self.key)
        databases:
          app:
            engine: \(engine)
        \(auth.map { "    auth: \($0)\n" } ?? "")    source:
        \(source.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            target: \(target)
            rules: rules.yaml
        """
    }

    func load(_ text: String, environment: [String: String] = [:]) throws -> (JobFile, String) {
        let dir = try TempDir()
        try dir.write("rules.yaml", "tables:\n  t: { columns: { id: keep } }\n")
        let path = try dir.write("job.yaml", text)
        return (try JobFile.load(path: path, environment: environment), path)
    }

    func errors(_ text: String, environment: [String: String] = [:]) -> (messages: [String], path: String) {
        var path = ""
        let found = configErrors {
            let dir = try TempDir()
            try dir.write("rules.yaml", "tables:\n  t: { columns: { id: keep } }\n")
            path = try dir.write("job.yaml", text)
            return try JobFile.load(path: path, environment: environment)
        }
        return (found.map(\.description), path)
    }

    @Test func aSnapshotSourceWithEverySetting() throws {
        let (job, _) = try load(job(source: """
            aws-snapshot: latest-automated
            cluster: prod-pg
            url: "postgres://reader:${PW}@{endpoint}/app?sslmode=verify-full"
            instance_class: db.r6g.large
            subnet_group: staging-db
            security_groups: [sg-0123456789abcdef0, sg-0fedcba9876543210]
            parameter_group: snapmask-restore
            kms_key: alias/staging
            region: eu-west-1
            expires_after: 12h
            """), environment: ["PW": "s3cret-reader"])
        let database = job.databases[0]
        let managed = try #require(database.managedSource)
        #expect(managed.origin == .snapshot(.latestAutomated, cluster: "prod-pg"))
        #expect(managed.instanceClass == "db.r6g.large")
        #expect(managed.subnetGroup == "staging-db")
        #expect(managed.securityGroups == ["sg-0123456789abcdef0", "sg-0fedcba9876543210"])
        #expect(managed.parameterGroup == "snapmask-restore" && managed.kmsKey == "alias/staging")
        #expect(managed.region == "eu-west-1" && managed.expiresAfter == 12 * 3600)
        #expect(database.sourcePending)
        #expect(database.source.hosts == "{endpoint}" && database.source.password == "s3cret-reader")

        let resolved = database.provisioned(source: try managed.url(endpoint: "tmp.cluster-abc.eu-west-1.rds.amazonaws.com:5432"))
        #expect(!resolved.sourcePending)
        #expect(resolved.source.hosts == "tmp.cluster-abc.eu-west-1.rds.amazonaws.com:5432")
        #expect(resolved.source.queryValue("sslmode") == "verify-full")
        #expect(resolved.managedSource == managed, "kept for the report")
    }

    @Test func namedSnapshotsClonesAndDefaults() throws {
        let named = try load(job(source: """
            { aws-snapshot: rds:prod-pg-2026-12-01-03-10, url: "postgres://reader@{endpoint}/app", instance_class: db.t4g.medium }
            """)).0.databases[0].managedSource
        #expect(named?.origin == .snapshot(.named("rds:prod-pg-2026-12-01-03-10"), cluster: nil))
        #expect(named?.expiresAfter == ManagedSource.defaultExpiry && named?.securityGroups == [])
        let arn = "arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:shared-weekly"
        let shared = try load(job(source: "{ aws-snapshot: \"\(arn)\", url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large }"))
        #expect(shared.0.databases[0].managedSource?.origin == .snapshot(.named(arn), cluster: nil))
        let clone = try load(job(engine: "mysql", source: """
            { aws-clone: prod-mysql, url: "mysql://reader@{endpoint}/shop", instance_class: db.r6g.large, security_groups: sg-1 }
            """, target: "mysql://writer@staging-db/shop")).0.databases[0]
        #expect(clone.managedSource?.origin == .clone(cluster: "prod-mysql"))
        #expect(clone.managedSource?.securityGroups == ["sg-1"], "one group may be written without a list")
        #expect(clone.managedSource?.kind == "aws-clone")
    }

    @Test func iamAuthenticationAppliesToTheURL() throws {
        let database = try load(job(source: """
            { aws-snapshot: latest-manual, cluster: prod-pg, url: "postgres://snapmask_reader@{endpoint}/app", instance_class: db.r6g.large }
            """, auth: "iam")).0.databases[0]
        #expect(database.source.authentication == .iam)
        let resolved = try database.managedSource!.url(endpoint: "x.cluster-a.us-east-1.rds.amazonaws.com:5432")
        #expect(resolved.authentication == .iam && resolved.user == "snapmask_reader")
    }

    @Test func wrongFormsAreNamedWithTheirLine() throws {
        let cases: [(source: String, engine: String, expected: String, line: Int)] = [
            ("{ aws-snapshot: latest-automated, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large }", "postgres",
             "aws-snapshot: latest-automated needs cluster:", 6),
            ("{ aws-snapshot: latest, cluster: c, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large }", "postgres",
             "latest is ambiguous", 6),
            ("{ aws-snapshot: s1, aws-clone: c, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large }", "postgres",
             "has both aws-snapshot: and aws-clone:", 6),
            ("{ cluster: c, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large }", "postgres",
             "needs aws-snapshot:", 6),
            ("{ aws-snapshot: s1, instance_class: db.r6g.large }", "postgres", "needs url:", 6),
            ("{ aws-snapshot: s1, url: \"postgres://r@prod-db/app\", instance_class: db.r6g.large }", "postgres",
             "url: must have {endpoint} as its host", 6),
            ("{ aws-snapshot: s1, url: \"postgres://r@{endpoint}/app\" }", "postgres", "needs instance_class:", 6),
            ("{ aws-snapshot: s1, url: \"postgres://r@{endpoint}/app\", instance_class: r6g.large }", "postgres",
             "is not an RDS instance class", 6),
            ("{ aws-snapshot: s1, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large, security_groups: [default] }",
             "postgres", "is not a VPC security group id", 6),
            ("{ aws-snapshot: s1, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large, expires_after: 10m }",
             "postgres", "expires_after: '10m' must be a duration between 1h and 7d", 6),
            ("{ aws-snapshot: s1, url: \"postgres://r@{endpoint}/app\", instance_class: db.r6g.large, instance_klass: x }",
             "postgres", "did you mean 'instance_class'?", 6),
            ("{ aws-clone: prod, cluster: prod, url: \"mongodb://r@{endpoint}/m\", instance_class: db.r6g.large }", "postgres",
             "aws-clone: names the cluster to clone itself", 6),
            ("{ aws-clone: prod-docdb, url: \"mongodb://r@{endpoint}/m\", instance_class: db.r6g.large }", "documentdb",
             "DocumentDB does not offer", 6),
            ("aws-snapshot:latest-automated", "postgres", "is written as a mapping", 6),
            ("{ aws-snapshot: s1, url: \"mysql://r@{endpoint}/app\", instance_class: db.r6g.large }", "postgres",
             "is a mysql:// URL, but its engine is postgres", 3),
        ]
        for (source, engine, expected, line) in cases {
            let (messages, path) = errors(job(engine: engine, source: source))
            #expect(messages.contains { $0.contains(expected) && $0.hasPrefix("\(path):\(line):") },
                    "\(source): \(messages)")
        }
    }

    @Test func overridesMayNotExpandTheManagedSourcesVariables() throws {
        let dir = try TempDir()
        try dir.write("rules.yaml", "tables:\n  t: { columns: { id: keep } }\n")
        try dir.write("overrides.yaml", "- table: t\n  set: { id: \"${PROD_PW}\" }\n")
        let path = try dir.write("job.yaml", job(source: """
            { aws-snapshot: s1, url: "postgres://r:${PROD_PW}@{endpoint}/app", instance_class: db.r6g.large }
            """) + "\n    overrides: overrides.yaml\n")
        let found = configErrors { try JobFile.load(path: path, environment: ["PROD_PW": "pw-of-production"]) }
        #expect(found.contains { $0.description.contains("PROD_PW") }, "\(found)")
    }
}
