import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// `snapmask snapshot ...` and restores from snapshots as the two sides run them: the snapshot
/// side with the masking key and the archive key, the staging side with the archive key only.
@Suite struct SnapshotCommandTests {
    static let archiveKey = "Y29tbWFuZC10ZXN0cy0zMi1ieXRlcy1vZi1rZXktLS0="
    static let maskingKey = "command-test-masking-key-0123456789"

    struct Setup {
        let scratch: PostgresScratch
        let job: TestJob
        let store: URL
    }

    /// A job file that, like the shipped one, takes both keys from the environment.
    static func setup(_ label: String) throws -> Setup {
        let scratch = try PostgresScratch(label)
        _ = try scratch.url("src", create: true, sql: PostgresCommandTests.sourceSQL)
        let job = try PostgresCommandTests.job(scratch)
        let store = FileManager.default.temporaryDirectory.appendingPathComponent(TestServers.uniqueName("clistore"))
        let text = try String(contentsOfFile: job.path, encoding: .utf8)
        try job.write("snapmask.yaml", "store: file://\(store.path)\n" + text.replacingOccurrences(
            of: "masking_key: \(TestJob.maskingKey)", with: "masking_key: ${SNAPMASK_MASKING_KEY}"))
        return Setup(scratch: scratch, job: job, store: store)
    }

    static func cleanup(_ setup: Setup) {
        setup.scratch.drop()
        setup.job.remove()
        try? FileManager.default.removeItem(at: setup.store)
    }

    /// The production side: both keys.
    static let snapshotSide: [String: String?] = ["SNAPMASK_MASKING_KEY": maskingKey, "SNAPMASK_ARCHIVE_KEY": archiveKey]
    /// The staging side: the archive key only.
    static let stagingSide: [String: String?] = ["SNAPMASK_MASKING_KEY": nil, "SNAPMASK_ARCHIVE_KEY": archiveKey]

    @Test func theStagingSideRestoresWithoutTheMaskingKey() throws {
        let setup = try Self.setup("clisnap")
        defer { Self.cleanup(setup) }

        let created = try CommandRunner.run(["snapshot", "create", "--config", setup.job.path, "--name", "app-1"],
                                            environment: Self.snapshotSide)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("snapshot app-1") && created.stdout.contains("encrypted and signed"))

        // Without the masking key a snapshot cannot be made, and the message says where it is needed.
        let noMasking = try CommandRunner.run(["snapshot", "create", "--config", setup.job.path, "--name", "app-x"],
                                              environment: Self.stagingSide)
        #expect(noMasking.status == 2)
        #expect(noMasking.stderr.contains("SNAPMASK_MASKING_KEY") && noMasking.stderr.contains("does not"), "\(noMasking.stderr)")

        let restored = try CommandRunner.run(["restore", "--config", setup.job.path, "--snapshot", "latest"],
                                             environment: Self.stagingSide)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("app (postgres): swapped"))
        #expect(try setup.scratch.rows("stage", "SELECT password_hash FROM users WHERE id = 1") == [["staging-hash"]])
        #expect(try setup.scratch.rows("stage", "SELECT count(*) FROM users WHERE email LIKE '%corp.example.org'") == [["0"]])

        let run = try CommandRunner.run(["run", "--config", setup.job.path, "--from-snapshot", "latest"],
                                        environment: Self.stagingSide)
        #expect(run.status == 0, "\(run.stderr)")

        // A restore from the source masks, so it needs the key.
        let fromSource = try CommandRunner.run(["restore", "--config", setup.job.path], environment: Self.stagingSide)
        #expect(fromSource.status == 2 && fromSource.stderr.contains("SNAPMASK_MASKING_KEY"))
        for result in [created, noMasking, restored, run, fromSource] {
            #expect(!(result.stdout + result.stderr).contains(Self.archiveKey) && !(result.stdout + result.stderr).contains(Self.maskingKey))
        }
    }

    @Test func listShowAndUntrustedSnapshots() throws {
        let setup = try Self.setup("clilist")
        defer { Self.cleanup(setup) }
        #expect(try CommandRunner.run(["snapshot", "create", "--config", setup.job.path, "--name", "app-1"],
                                      environment: Self.snapshotSide).status == 0)
        // A copy whose manifest was edited: its MAC fails.
        let folder = setup.store.appendingPathComponent("app-2")
        try FileManager.default.copyItem(at: setup.store.appendingPathComponent("app-1"), to: folder)
        let manifest = folder.appendingPathComponent("manifest.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        try text.replacingOccurrences(of: "\"name\" : \"app-1\"", with: "\"name\" : \"app-2\"")
            .write(to: manifest, atomically: true, encoding: .utf8)

        let list = try CommandRunner.run(["snapshot", "list", "--config", setup.job.path], environment: Self.stagingSide)
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("TRUST") == true)
        #expect(lines.contains { $0.hasPrefix("app-1 ") && $0.contains("verified") })
        #expect(lines.contains { $0.hasPrefix("app-2 ") && $0.contains("UNTRUSTED") && !$0.contains("postgres") })
        #expect(list.stderr.contains("warning: snapshot app-2 is skipped") && list.stderr.contains("MAC mismatch"))

        // Without the archive key: what the plaintext manifest says, nothing of the schema.
        let shown = try CommandRunner.run(["snapshot", "show", "--config", setup.job.path, "app-1"],
                                          environment: ["SNAPMASK_ARCHIVE_KEY": nil])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("NOT verified") && shown.stdout.contains("sealed") && !shown.stdout.contains("users"))
        let withKey = try CommandRunner.run(["snapshot", "show", "--config", setup.job.path, "app-1"], environment: Self.stagingSide)
        #expect(withKey.status == 0 && withKey.stdout.contains("public.users") && withKey.stdout.contains("manifest verified"))
        let untrusted = try CommandRunner.run(["snapshot", "show", "--config", setup.job.path, "app-2"], environment: Self.stagingSide)
        #expect(untrusted.status == 1 && untrusted.stderr.contains("snapshot app-2") && untrusted.stderr.contains("cannot be trusted"))
        let restore = try CommandRunner.run(["restore", "--config", setup.job.path, "--snapshot", "app-2"],
                                            environment: Self.stagingSide)
        #expect(restore.status == 1 && restore.stderr.contains("cannot be trusted"))

        // prune leaves the untrusted one alone, says so, and keeps what is within the grace period.
        let prune = try CommandRunner.run(["snapshot", "prune", "--config", setup.job.path, "--keep-last", "0", "--older-than", "0s",
                                           "--dry-run"], environment: Self.stagingSide)
        #expect(prune.status == 0 && prune.stdout.contains("0 snapshots would be deleted"), "\(prune.stdout)")
        #expect(prune.stderr.contains("app-2 is left alone") && prune.stderr.contains("app-1 is left alone")
                    && prune.stderr.contains("grace"), "\(prune.stderr)")
        let pruneNow = try CommandRunner.run(["snapshot", "prune", "--config", setup.job.path, "--keep-last", "0", "--older-than",
                                              "0s", "--grace", "0s", "--dry-run"], environment: Self.stagingSide)
        #expect(pruneNow.stdout.contains("would delete app-1") && !pruneNow.stdout.contains("would delete app-2"))

        let badName = try CommandRunner.run(["snapshot", "delete", "--config", setup.job.path, "../app-1"],
                                            environment: Self.stagingSide)
        #expect(badName.status == 2 && badName.stderr.contains("cannot name a snapshot"))
    }

    @Test func plaintextSnapshotsAreExplicitOnBothSides() throws {
        let setup = try Self.setup("cliplain")
        defer { Self.cleanup(setup) }
        let noKey: [String: String?] = ["SNAPMASK_MASKING_KEY": Self.maskingKey, "SNAPMASK_ARCHIVE_KEY": nil]
        let refused = try CommandRunner.run(["snapshot", "create", "--config", setup.job.path, "--name", "plain"], environment: noKey)
        #expect(refused.status == 2 && refused.stderr.contains("no archive key") && refused.stderr.contains("--unencrypted"))
        let created = try CommandRunner.run(["snapshot", "create", "--config", setup.job.path, "--name", "plain", "--unencrypted"],
                                            environment: noKey)
        #expect(created.status == 0 && created.stdout.contains("NOT encrypted"), "\(created.stderr)")
        let list = try CommandRunner.run(["snapshot", "list", "--config", setup.job.path], environment: noKey)
        #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix("plain ") && $0.contains("unsigned") })

        let restore = try CommandRunner.run(["restore", "--config", setup.job.path, "--snapshot", "plain"],
                                            environment: Self.stagingSide)
        #expect(restore.status == 1 && restore.stderr.contains("--allow-unencrypted"))
        let allowed = try CommandRunner.run(["restore", "--config", setup.job.path, "--snapshot", "plain", "--allow-unencrypted"],
                                            environment: Self.stagingSide)
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }
}
