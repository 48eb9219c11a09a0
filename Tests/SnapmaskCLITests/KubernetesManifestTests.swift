import Foundation
import SnapmaskTestSupport
import Testing
import Yams

/// The Kubernetes manifests in k8s/: valid for the API server (scripts/validate-manifests), and
/// saying what the staging page and the runbook promise: the Sunday 02:00 restore of the latest
/// sanitized snapshot, no overlapping or blindly retried runs, bounded resources, secrets only
/// through secretKeyRef, staging endpoints from the staging page's ConfigMap staging-config.
/// A missing tool (python, the tools venv, the script) fails these tests; they never skip.
@Suite struct KubernetesManifestTests {
    static let namespace = "quikapp-staging"
    static let stagingHosts = ["POSTGRES_HOST", "POSTGRES_READ_HOST", "MYSQL_HOST", "MONGODB_HOST"]
    static let restoreSecrets = ["SNAPMASK_ARCHIVE_KEY", "STAGING_PG_PASSWORD",
                                 "STAGING_MYSQL_PASSWORD", "STAGING_DOCDB_PASSWORD"]
    static let snapshotSecrets = ["SNAPMASK_MASKING_KEY", "SNAPMASK_ARCHIVE_KEY", "PROD_PG_PASSWORD",
                                  "PROD_MYSQL_PASSWORD", "PROD_DOCDB_PASSWORD"]

    // MARK: The validator

    @Test func everyManifestValidatesStrictlyAgainstTheKubernetesSchemas() throws {
        let script = Repository.root.appendingPathComponent("scripts/validate-manifests").path
        #expect(FileManager.default.fileExists(atPath: script), "missing \(script)")
        let result = try Self.run("/bin/bash", [script])
        #expect(result.status == 0, "scripts/validate-manifests exited \(result.status):\n\(result.output)")
    }

    // MARK: The weekly restore

    @Test func weeklyCronJobRunsSundayAt2WithoutOverlapOrBlindRetry() throws {
        let cronJob = try Self.weeklyCronJob()
        let spec = try Self.map(cronJob["spec"], "CronJob spec")
        #expect(spec["schedule"] as? String == "0 2 * * 0")
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        let startingDeadline = try #require(spec["startingDeadlineSeconds"] as? Int, "startingDeadlineSeconds is not set")
        #expect(startingDeadline > 0)
        #expect(spec["successfulJobsHistoryLimit"] is Int)
        #expect(spec["failedJobsHistoryLimit"] is Int)

        let jobSpec = try Self.map(try Self.map(spec["jobTemplate"], "jobTemplate")["spec"], "jobTemplate.spec")
        let backoffLimit = try #require(jobSpec["backoffLimit"] as? Int, "backoffLimit is not set")
        #expect((0...1).contains(backoffLimit), "a restore must not be retried blindly; backoffLimit is \(backoffLimit)")
        let deadline = try #require(jobSpec["activeDeadlineSeconds"] as? Int, "activeDeadlineSeconds is not set")
        #expect(deadline > 0)
        let podSpec = try Self.map(try Self.map(jobSpec["template"], "template")["spec"], "template.spec")
        #expect(podSpec["restartPolicy"] as? String == "Never")
    }

    @Test func weeklyRunRestoresTheLatestSnapshotOfEveryDatabase() throws {
        let container = try #require(try Self.containers(of: try Self.weeklyCronJob()).first)
        let command = Self.commandLine(of: container)
        #expect(command.contains("snapmask run "), "the container does not run `snapmask run`: \(command)")
        for part in ["--config /etc/snapmask/snapmask.yaml", "--from-snapshot latest", "--continue-on-error",
                     "--report /tmp/report.json", "--pushgateway http://prometheus-pushgateway.monitoring:9091"] {
            #expect(command.contains(part), "the weekly run lacks \(part): \(command)")
        }
        #expect(!command.contains("--from-source"), "the weekly restore must not read production")
        #expect(!command.contains("--database"), "the weekly restore covers every database of the job file")
    }

    @Test func everyContainerHasResourceRequestsAndLimits() throws {
        var count = 0
        for (file, object) in try Self.allObjects() {
            for container in try Self.containers(of: object) {
                count += 1
                let name = "\(file): container \(container["name"] as? String ?? "?")"
                let resources = try Self.map(container["resources"], "\(name): resources")
                for kind in ["requests", "limits"] {
                    let values = try Self.map(resources[kind], "\(name): resources.\(kind)")
                    for resource in ["cpu", "memory"] {
                        let value = values[resource].map { "\($0)" } ?? ""
                        #expect(!value.isEmpty, "\(name): resources.\(kind).\(resource) is not set")
                    }
                }
            }
        }
        #expect(count >= 2, "expected the containers of the weekly restore and of the snapshot job")

        let weekly = try #require(try Self.containers(of: try Self.weeklyCronJob()).first)
        let resources = try Self.map(weekly["resources"], "resources")
        let requests = try Self.map(resources["requests"], "requests"), limits = try Self.map(resources["limits"], "limits")
        #expect(requests["memory"] as? String == "256Mi")
        #expect(limits["memory"] as? String == "512Mi")
        #expect("\(requests["cpu"] ?? "")" == "1")
        #expect("\(limits["cpu"] ?? "")" == "2")
    }

    @Test func podsRunAsNonRootOnAReadOnlyRootFilesystem() throws {
        for (file, object) in try Self.allObjects() {
            for (podSpec, _) in try Self.podSpecs(of: object) {
                let podSecurity = try Self.map(podSpec["securityContext"], "\(file): pod securityContext")
                #expect(podSecurity["runAsNonRoot"] as? Bool == true, "\(file): runAsNonRoot")
                let tmp = (podSpec["volumes"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
                    .first { $0["name"] as? String == "tmp" }
                #expect(tmp?["emptyDir"] != nil, "\(file): /tmp is not an emptyDir")
                for container in (podSpec["containers"] as? [Any] ?? []).compactMap({ $0 as? [String: Any] }) {
                    let security = try Self.map(container["securityContext"], "\(file): container securityContext")
                    #expect(security["readOnlyRootFilesystem"] as? Bool == true, "\(file): readOnlyRootFilesystem")
                    #expect(security["allowPrivilegeEscalation"] as? Bool == false, "\(file): allowPrivilegeEscalation")
                    let mounts = (container["volumeMounts"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
                    #expect(mounts.contains { $0["mountPath"] as? String == "/tmp" && $0["name"] as? String == "tmp" },
                            "\(file): /tmp is not mounted")
                    #expect(mounts.contains { $0["mountPath"] as? String == "/etc/snapmask" },
                            "\(file): the job file is not mounted at /etc/snapmask")
                }
            }
        }
    }

    // MARK: Secrets

    @Test func everySecretComesFromASecretKeyRef() throws {
        let weekly = try #require(try Self.containers(of: try Self.weeklyCronJob()).first)
        for name in Self.restoreSecrets {
            #expect(try Self.secretRef(name, in: weekly)?.secret == "snapmask-secrets",
                    "weekly restore: \(name) is not taken from Secret snapmask-secrets by secretKeyRef")
        }
        let snapshot = try #require(try Self.containers(of: try Self.snapshotCronJob()).first)
        for name in Self.snapshotSecrets {
            #expect(try Self.secretRef(name, in: snapshot)?.secret == "snapmask-snapshot-secrets",
                    "snapshot job: \(name) is not taken from Secret snapmask-snapshot-secrets by secretKeyRef")
        }
        // The restore never holds production credentials.
        for name in ["PROD_PG_PASSWORD", "PROD_MYSQL_PASSWORD", "PROD_DOCDB_PASSWORD"] {
            #expect(try Self.env(name, in: weekly) == nil, "the weekly restore must not get \(name)")
        }

        // Anywhere: a variable named like a secret has no literal value.
        for (file, object) in try Self.allObjects() {
            for container in try Self.containers(of: object) {
                for entry in (container["env"] as? [Any] ?? []).compactMap({ $0 as? [String: Any] }) {
                    let name = entry["name"] as? String ?? ""
                    guard Self.looksSecret(name) else { continue }
                    #expect(entry["value"] == nil, "\(file): \(name) has a literal value")
                    #expect(try Self.secretRef(name, in: container) != nil, "\(file): \(name) is not a secretKeyRef")
                }
            }
        }
    }

    /// The masking key stays on the production side: only the snapshot job gets it. The weekly
    /// restore, the manual restore Job and the toolbox restore from snapshots with the archive key
    /// alone, from their own Secret, which holds no masking key at all.
    @Test func theMaskingKeyIsOnlyWhereSnapshotsAreMade() throws {
        let snapshot = try #require(try Self.containers(of: try Self.snapshotCronJob()).first)
        #expect(try Self.secretRef("SNAPMASK_MASKING_KEY", in: snapshot)?.secret == "snapmask-snapshot-secrets")
        let staging: [(String, [String: Any])] = [
            ("weekly restore", try Self.weeklyCronJob()),
            ("manual restore", try Self.object(kind: "Job", name: "snapmask-restore-__DATABASE__-__RUN__",
                                               in: "k8s/manual/restore-snapshot.yaml")),
            ("toolbox", try Self.object(kind: "Pod", name: "snapmask-toolbox", in: "k8s/manual/toolbox.yaml")),
        ]
        for (what, object) in staging {
            for container in try Self.containers(of: object) {
                #expect(try Self.env("SNAPMASK_MASKING_KEY", in: container) == nil, "\(what) must not get the masking key")
                #expect(try Self.secretRef("SNAPMASK_ARCHIVE_KEY", in: container)?.secret == "snapmask-secrets",
                        "\(what) gets the archive key from snapmask-secrets")
                for entry in (container["env"] as? [Any] ?? []).compactMap({ $0 as? [String: Any] }) {
                    let ref = (entry["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any]
                    #expect(ref?["key"] as? String != "masking-key", "\(what): \(entry["name"] ?? "?") reads masking-key")
                    #expect(ref == nil || ref?["name"] as? String == "snapmask-secrets", "\(what) reads another Secret")
                }
            }
        }
        let secret = try Self.object(kind: "Secret", name: "snapmask-secrets", in: "k8s/secret.example.yaml")
        let keys = try Self.map(secret["stringData"], "stringData").keys
        #expect(!keys.contains("masking-key") && keys.contains("archive-key"), "\(keys.sorted())")
        let snapshotSecret = try Self.object(kind: "Secret", name: "snapmask-snapshot-secrets", in: "k8s/secret.example.yaml")
        #expect(try Self.map(snapshotSecret["stringData"], "stringData").keys.contains("masking-key"))
    }

    // MARK: AWS access

    /// The store is reached with IAM roles (IRSA), one per side: the snapshot job writes with
    /// snapmask-snapshot-writer, every staging pod reads with snapmask-restorer. No AWS key is in
    /// any Secret or container.
    @Test func podsReachTheStoreWithTheirServiceAccountsRole() throws {
        let accounts = try Self.objects(in: "k8s/serviceaccount.yaml").filter { $0["kind"] as? String == "ServiceAccount" }
        var roles: [String: String] = [:]
        let roleARN = try Regex(#"^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"#)
        for account in accounts {
            let metadata = try Self.map(account["metadata"], "ServiceAccount metadata")
            let name = metadata["name"] as? String ?? "?"
            let role = (metadata["annotations"] as? [String: Any])?["eks.amazonaws.com/role-arn"] as? String ?? ""
            #expect(role.wholeMatch(of: roleARN) != nil, "\(name): eks.amazonaws.com/role-arn \(role)")
            #expect(account["automountServiceAccountToken"] as? Bool == false, "\(name) mounts an API token")
            roles[name] = role
        }
        #expect(Set(roles.keys) == ["snapmask-snapshot-writer", "snapmask-restorer"])
        #expect(roles["snapmask-snapshot-writer"] != roles["snapmask-restorer"], "the two sides need two roles")

        let pods: [(String, [String: Any], String)] = [
            ("snapshot job", try Self.snapshotCronJob(), "snapmask-snapshot-writer"),
            ("weekly restore", try Self.weeklyCronJob(), "snapmask-restorer"),
            ("manual restore", try Self.object(kind: "Job", name: "snapmask-restore-__DATABASE__-__RUN__",
                                               in: "k8s/manual/restore-snapshot.yaml"), "snapmask-restorer"),
            ("toolbox", try Self.object(kind: "Pod", name: "snapmask-toolbox", in: "k8s/manual/toolbox.yaml"), "snapmask-restorer"),
        ]
        for (what, object, account) in pods {
            for (spec, _) in try Self.podSpecs(of: object) {
                #expect(spec["serviceAccountName"] as? String == account, "\(what) runs as \(spec["serviceAccountName"] ?? "?")")
                // The projected IRSA token is readable by the pod's group: snapmask runs as uid 10001.
                #expect((spec["securityContext"] as? [String: Any])?["fsGroup"] as? Int == 10001, "\(what): fsGroup")
            }
        }
        for (file, object) in try Self.allObjects() {
            for container in try Self.containers(of: object) {
                for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
                    #expect(try Self.env(name, in: container) == nil, "\(file): a container is given \(name)")
                }
            }
            if object["kind"] as? String == "Secret" {
                let keys = try Self.map(object["stringData"], "\(file): stringData").keys
                #expect(!keys.contains { $0.hasPrefix("aws-") }, "\(file): a Secret holds AWS keys: \(keys.sorted())")
            }
        }
    }

    @Test func noSecretValueAppearsInAnyManifest() throws {
        for (file, object) in try Self.allObjects() where object["kind"] as? String == "Secret" {
            #expect(object["data"] == nil, "\(file): a Secret with data: holds values")
            let values = try Self.map(object["stringData"], "\(file): stringData")
            for (key, value) in values {
                let text = value as? String ?? ""
                #expect(text.hasPrefix("<") && text.hasSuffix(">") && text.utf8.count < 16,
                        "\(file): \(key) is not a placeholder such as \"<unset>\"")
            }
        }

        // The job file: the masking key and every password in a URL are ${VAR} references.
        let jobFile = try Self.jobFileText()
        let reference = try Regex(#"^\$\{[A-Z0-9_]+(:-)?\}$"#)
        let maskingKey = try #require(try Self.map(try Yams.load(yaml: jobFile), "job file")["masking_key"] as? String)
        #expect(maskingKey.wholeMatch(of: reference) != nil, "masking_key is not a ${VAR} reference")
        let userInfo = try Regex(#"://([A-Za-z0-9_.%-]+):([^@\s]*)@"#)
        var passwords = 0
        for match in jobFile.matches(of: userInfo) {
            passwords += 1
            let password = String(match.output[2].substring ?? "")
            #expect(password.wholeMatch(of: reference) != nil, "a URL in the job file has a literal password")
        }
        #expect(passwords == 6, "expected a ${VAR} password in each of the 6 URLs, found \(passwords)")

        // Nothing that looks like a credential in any file of k8s/ (AWS access key ids, private keys).
        let credential = try Regex(#"AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----"#)
        for file in try Self.filesUnderK8s() {
            let text = try String(contentsOf: Repository.root.appendingPathComponent(file), encoding: .utf8)
            #expect(text.firstMatch(of: credential) == nil, "\(file) holds what looks like a credential")
        }
    }

    @Test func everyVariableOfTheJobFileIsProvided() throws {
        let jobFile = try Self.jobFileText()
        let weekly = try #require(try Self.containers(of: try Self.weeklyCronJob()).first)
        let snapshot = try #require(try Self.containers(of: try Self.snapshotCronJob()).first)
        let variable = try Regex(#"\$\{([A-Za-z0-9_]+)(:-[^}]*)?\}"#)
        var names: [String: Bool] = [:]  // name -> has a default
        for match in jobFile.matches(of: variable) {
            let name = String(match.output[1].substring ?? "")
            names[name, default: false] = names[name, default: false] || match.output[2].substring != nil
        }
        #expect(!names.isEmpty)
        for (name, hasDefault) in names {
            let inWeekly = try Self.env(name, in: weekly) != nil, inSnapshot = try Self.env(name, in: snapshot) != nil
            if name == "SNAPMASK_MASKING_KEY" {
                // Needed only by commands that mask: the snapshot job, never the restore.
                #expect(inSnapshot && !inWeekly, "${\(name)}: only the snapshot job sets it")
            } else if hasDefault {
                // A default hides a misspelt variable: each one must reach at least one of the jobs.
                #expect(inWeekly || inSnapshot, "${\(name)} of the job file is set by neither CronJob")
            } else {
                #expect(inWeekly && inSnapshot, "${\(name)} of the job file (no default) is missing from a CronJob")
            }
        }
        for name in Self.restoreSecrets where name.hasPrefix("STAGING_") {
            #expect(names[name] != nil, "the weekly restore sets \(name) but the job file does not use it")
        }
    }

    // MARK: Staging endpoints

    @Test func stagingHostsComeFromTheStagingPagesConfigMap() throws {
        let weekly = try #require(try Self.containers(of: try Self.weeklyCronJob()).first)
        for name in Self.stagingHosts {
            let entry = try #require(try Self.env(name, in: weekly), "the weekly restore does not set \(name)")
            let ref = (entry["valueFrom"] as? [String: Any])?["configMapKeyRef"] as? [String: Any]
            #expect(ref?["name"] as? String == "staging-config", "\(name) is not from ConfigMap staging-config")
            #expect(ref?["key"] as? String == name, "\(name) is not the key \(name) of staging-config")
            #expect(entry["value"] == nil)
        }
        // Wherever else they appear, they come from the same place.
        for (file, object) in try Self.allObjects() {
            for container in try Self.containers(of: object) {
                for name in Self.stagingHosts {
                    guard let entry = try Self.env(name, in: container) else { continue }
                    let ref = (entry["valueFrom"] as? [String: Any])?["configMapKeyRef"] as? [String: Any]
                    #expect(ref?["name"] as? String == "staging-config", "\(file): \(name)")
                }
            }
        }
    }

    @Test func everyObjectIsInTheLowercaseStagingNamespace() throws {
        let objects = try Self.allObjects()
        #expect(objects.count >= 5)
        for (file, object) in objects {
            let metadata = try Self.map(object["metadata"], "\(file): metadata")
            #expect(metadata["namespace"] as? String == Self.namespace, "\(file): \(metadata["name"] ?? "?")")
        }
    }

    // MARK: The snapshot job and the job file

    @Test func snapshotJobRunsBeforeTheRestoreForEveryDatabase() throws {
        let cronJob = try Self.snapshotCronJob()
        let spec = try Self.map(cronJob["spec"], "CronJob spec")
        #expect(spec["schedule"] as? String == "0 2 * * 6", "the snapshot is made on Saturday, a day before the restore")
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        let container = try #require(try Self.containers(of: cronJob).first)
        #expect(Self.commandLine(of: container).contains("snapmask snapshot create --config /etc/snapmask/snapmask.yaml"))

        let databases = try Self.map(try Self.map(try Yams.load(yaml: try Self.jobFileText()), "job file")["databases"],
                                     "databases")
        #expect(Set(databases.keys) == ["app", "legacy", "messages"])
        let listed = try #require(try Self.env("SNAPSHOT_DATABASES", in: container)?["value"] as? String)
        #expect(Set(listed.split(separator: " ").map(String.init)) == Set(databases.keys),
                "SNAPSHOT_DATABASES must name every database of the job file")
        let engines = databases.mapValues { ($0 as? [String: Any])?["engine"] as? String ?? "" }
        #expect(engines == ["app": "postgres", "legacy": "mysql", "messages": "documentdb"])
        let store = try Self.map(try Yams.load(yaml: try Self.jobFileText()), "job file")["store"] as? String
        #expect(store == "s3://quikapp-staging-snapshots/prod-sanitized")
    }

    @Test func driftIsCheckedDailyOnTheProductionSideWithoutTheArchiveKey() throws {
        let cronJob = try Self.object(kind: "CronJob", name: "snapmask-check-daily", in: "k8s/check-daily.yaml")
        let spec = try Self.map(cronJob["spec"], "CronJob spec")
        #expect(spec["schedule"] as? String == "0 6 * * *", "drift is known the morning after it happens")
        #expect(spec["concurrencyPolicy"] as? String == "Forbid")
        let container = try #require(try Self.containers(of: cronJob).first)
        let command = Self.commandLine(of: container)
        for part in ["snapmask check --config /etc/snapmask/snapmask.yaml", "--format json",
                     "--pushgateway http://prometheus-pushgateway.monitoring:9091"] {
            #expect(command.contains(part), "the daily check lacks \(part): \(command)")
        }
        #expect(!command.contains("--database"), "every database of the job file is checked")
        #expect(try Self.secretRef("SNAPMASK_MASKING_KEY", in: container)?.secret == "snapmask-snapshot-secrets")
        #expect(try Self.env("SNAPMASK_ARCHIVE_KEY", in: container) == nil, "check reads and writes no snapshot")
        for name in ["STAGING_PG_PASSWORD", "STAGING_MYSQL_PASSWORD", "STAGING_DOCDB_PASSWORD"] {
            #expect(try Self.env(name, in: container) == nil, "the production side holds no staging password: \(name)")
        }
        for name in ["PROD_PG_PASSWORD", "PROD_MYSQL_PASSWORD", "PROD_DOCDB_PASSWORD"] {
            #expect(try Self.secretRef(name, in: container)?.secret == "snapmask-snapshot-secrets", "\(name)")
        }
        let kustomization = try String(contentsOf: Repository.root.appendingPathComponent("k8s/kustomization.yaml"),
                                       encoding: .utf8)
        #expect(kustomization.contains("  - check-daily.yaml"))
    }

    // MARK: Helpers

    struct ManifestError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a program in the repository and returns its exit status and output (standard output,
    /// then standard error).
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try CommandRunner.run(program: URL(fileURLWithPath: executable), arguments, directory: Repository.root)
        return (result.status, result.stdout + result.stderr)
    }

    static func map(_ value: Any?, _ what: String) throws -> [String: Any] {
        guard let map = value as? [String: Any] else { throw ManifestError(description: "\(what) is not a mapping") }
        return map
    }

    /// Every Kubernetes manifest under k8s/ (not kustomization.yaml, not the job file in k8s/config/).
    static func filesUnderK8s() throws -> [String] {
        let k8s = Repository.root.appendingPathComponent("k8s")
        guard let enumerator = FileManager.default.enumerator(atPath: k8s.path) else {
            throw ManifestError(description: "no k8s/ folder in \(Repository.root.path)")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: k8s.appendingPathComponent(relative).path, isDirectory: &isDirectory)
            if !isDirectory.boolValue { files.append("k8s/" + relative) }
        }
        return files.sorted()
    }

    static func allObjects() throws -> [(file: String, object: [String: Any])] {
        var result: [(file: String, object: [String: Any])] = []
        for file in try filesUnderK8s()
        where (file.hasSuffix(".yaml") || file.hasSuffix(".yml")) && !file.hasSuffix("/kustomization.yaml")
            && !file.hasPrefix("k8s/config/") {
            for object in try objects(in: file) { result.append((file, object)) }
        }
        if result.isEmpty { throw ManifestError(description: "no manifests under k8s/") }
        return result
    }

    static func objects(in file: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: Repository.root.appendingPathComponent(file), encoding: .utf8)
        var documents = try Yams.load_all(yaml: text)
        var objects: [[String: Any]] = []
        while let document = documents.next() {
            guard let object = document as? [String: Any] else {
                throw ManifestError(description: "\(file): a document is not a mapping")
            }
            objects.append(object)
        }
        if let error = documents.error { throw error }
        return objects
    }

    static func object(kind: String, name: String, in file: String) throws -> [String: Any] {
        for object in try objects(in: file) where object["kind"] as? String == kind {
            if (object["metadata"] as? [String: Any])?["name"] as? String == name { return object }
        }
        throw ManifestError(description: "\(file) has no \(kind) \(name)")
    }

    static func weeklyCronJob() throws -> [String: Any] {
        try object(kind: "CronJob", name: "snapmask-weekly", in: "k8s/cronjob.yaml")
    }

    static func snapshotCronJob() throws -> [String: Any] {
        try object(kind: "CronJob", name: "snapmask-snapshot-create", in: "k8s/snapshot-create.yaml")
    }

    /// The job file as the pods see it (the key snapmask.yaml of the ConfigMap snapmask-config),
    /// without its comment lines.
    static func jobFileText() throws -> String {
        let configMap = try object(kind: "ConfigMap", name: "snapmask-config", in: "k8s/configmap.yaml")
        guard let text = try map(configMap["data"], "ConfigMap data")["snapmask.yaml"] as? String else {
            throw ManifestError(description: "the ConfigMap snapmask-config has no key snapmask.yaml")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.drop(while: { $0 == " " }).hasPrefix("#") }
            .joined(separator: "\n")
    }

    /// The pod specs of a CronJob, Job or Pod, with their metadata.
    static func podSpecs(of object: [String: Any]) throws -> [(spec: [String: Any], metadata: [String: Any])] {
        let template: [String: Any]
        switch object["kind"] as? String {
        case "CronJob":
            let jobTemplate = try map(try map(object["spec"], "spec")["jobTemplate"], "jobTemplate")
            template = try map(try map(jobTemplate["spec"], "jobTemplate.spec")["template"], "template")
        case "Job":
            template = try map(try map(object["spec"], "spec")["template"], "template")
        case "Pod":
            template = object
        default:
            return []
        }
        return [(try map(template["spec"], "pod spec"), template["metadata"] as? [String: Any] ?? [:])]
    }

    static func containers(of object: [String: Any]) throws -> [[String: Any]] {
        try podSpecs(of: object).flatMap { pod in
            ((pod.spec["containers"] as? [Any]) ?? []) + ((pod.spec["initContainers"] as? [Any]) ?? [])
        }.map { try map($0, "container") }
    }

    /// command + args as one line, shell line continuations and runs of blanks folded.
    static func commandLine(of container: [String: Any]) -> String {
        let words = ((container["command"] as? [Any]) ?? []) + ((container["args"] as? [Any]) ?? [])
        let text = words.map { "\($0)" }.joined(separator: " ").replacingOccurrences(of: "\\\n", with: " ")
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }

    static func env(_ name: String, in container: [String: Any]) throws -> [String: Any]? {
        let entries = try ((container["env"] as? [Any]) ?? []).map { try map($0, "env entry") }
        return entries.first { $0["name"] as? String == name }
    }

    static func secretRef(_ name: String, in container: [String: Any]) throws -> (secret: String, key: String)? {
        guard let entry = try env(name, in: container), entry["value"] == nil,
              let ref = (entry["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any],
              let secret = ref["name"] as? String, let key = ref["key"] as? String, !key.isEmpty
        else { return nil }
        return (secret, key)
    }

    static func looksSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["PASSWORD", "SECRET", "TOKEN", "PASSPHRASE"].contains { upper.contains($0) }
            || upper.hasSuffix("_KEY") || upper.hasSuffix("_KEY_ID")
    }
}
