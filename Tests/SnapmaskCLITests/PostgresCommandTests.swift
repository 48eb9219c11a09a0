import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// restore, preview, check and overrides apply as a DBA runs them against PostgreSQL, with the
/// documented exit codes.
@Suite struct PostgresCommandTests {
    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text, password_hash text);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', 'Name ' || g, 'secret-hash-' || g
          FROM generate_series(1, 200) g;
        """

    static let rules = """
        tables:
          users:
            columns:
              id: keep
              email: { transform: email, unique: true }
              name: full_name
              password_hash: { transform: constant, value: masked }
        """

    static let overrides = """
        - name: reset passwords
          table: users
          set: { password_hash: "staging-hash" }
        """

    static func job(_ scratch: PostgresScratch) throws -> TestJob {
        try scratch.job(rules: rules, overrides: overrides)
    }

    @Test func restoreReportsAndExitsZero() throws {
        let scratch = try PostgresScratch("clirestore")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        let reportPath = job.directory.appendingPathComponent("report.json").path

        let dryRun = try CommandRunner.run(["restore", "--config", job.path, "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("public.users: ~") && dryRun.stdout.contains("masks email (email)"))
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"], "a dry run writes nothing")

        let result = try CommandRunner.run(["restore", "--config", job.path, "--database", "app", "--report", reportPath])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("app (postgres): swapped"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        #expect(report?["outcome"] as? String == "swapped")
        #expect(report?["rowCountsVerified"] as? Bool == true)
        #expect(try scratch.rows("stage", "SELECT DISTINCT password_hash FROM users") == [["staging-hash"]])
        #expect(!result.stderr.contains(TestJob.maskingKey), "the masking key never reaches the log")
    }

    @Test func failedCheckExitsOneAndListsTheProblem() throws {
        let scratch = try PostgresScratch("clicheck")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL + "ALTER TABLE users ADD COLUMN phone text;")
        let job = try Self.job(scratch)
        defer { job.remove() }
        let check = try CommandRunner.run(["check", "--config", job.path])
        #expect(check.status == 1)
        #expect(check.stdout.contains("public.users.phone: column has no rule"))
        let restore = try CommandRunner.run(["restore", "--config", job.path])
        #expect(restore.status == 1)
        #expect(restore.stderr.contains("public.users.phone"))
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])
    }

    @Test func previewShowsBeforeAndAfterAndWritesNothing() throws {
        let scratch = try PostgresScratch("clipreview")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        let preview = try CommandRunner.run(["preview", "--config", job.path, "--table", "users", "--rows", "2"])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("user1@corp.example.org  →  ") && preview.stdout.contains("@example.com  (email)"))
        #expect(preview.stdout.contains("row 2") && !preview.stdout.contains("row 3"))
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])
        let missing = try CommandRunner.run(["preview", "--config", job.path, "--table", "nope"])
        #expect(missing.status == 2 && missing.stderr.contains("has no table 'nope'"))
    }

    @Test func overridesApplyReappliesOnCurrentStaging() throws {
        let scratch = try PostgresScratch("clioverrides")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: "CREATE TABLE users (id int, email text, name text, password_hash text);"
                                + "INSERT INTO users VALUES (1, 'a@example.com', 'A', 'changed-by-a-tester');")
        let job = try Self.job(scratch)
        defer { job.remove() }
        let result = try CommandRunner.run(["overrides", "apply", "--config", job.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("reset passwords: 1 rows"))
        #expect(try scratch.rows("stage", "SELECT password_hash FROM users") == [["staging-hash"]])
        #expect(try scratch.rows("src", "SELECT count(*) FROM users WHERE password_hash = 'staging-hash'") == [["0"]])
    }

    @Test func unreachableTargetExitsOneWithoutSecrets() throws {
        let scratch = try PostgresScratch("cliunreach")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try TestJob(databases: """
            app:
              engine: postgres
              source: \(try scratch.url("src").raw)
              target: postgres://writer:St4geSecret@127.0.0.1:1/stage
              rules: rules.yaml
            """, files: ["rules.yaml": Self.rules])
        defer { job.remove() }
        let result = try CommandRunner.run(["restore", "--config", job.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("connecting to the target") && result.stderr.contains("127.0.0.1"))
        #expect(!result.stderr.contains("St4geSecret") && !result.stdout.contains("St4geSecret"))
    }

    /// A password with '@', '/' and '%' not percent-encoded: libpq would cut the URL there and
    /// quote the pieces as a host or database name. The driver gets it encoded (the restore works),
    /// and neither the log, the JSON log nor the report shows any piece of it.
    @Test func anUnencodedPasswordNeverAppearsInMessagesOrTheReport() throws {
        let scratch = try PostgresScratch("clipieces")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let server = try TestServers.postgres()
        let job = try TestJob(databases: """
            app:
              engine: postgres
              source: \(try scratch.url("src").raw)
              target: "postgres://postgres:Zq8uT@kX2p/Lm9wV%Yb7@\(server.hosts)/\(scratch.prefix)_missing"
              rules: rules.yaml
            """, files: ["rules.yaml": Self.rules])
        defer { job.remove() }
        let report = job.directory.appendingPathComponent("report.json")
        let result = try CommandRunner.run(["restore", "--config", job.path, "--report", report.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.rows("missing", "SELECT count(*) FROM users") == [["200"]])
        let written = try String(contentsOf: report, encoding: .utf8)
        for piece in ["Zq8uT", "kX2p", "Lm9wV"] {
            #expect(!result.stderr.contains(piece) && !result.stdout.contains(piece) && !written.contains(piece),
                    "\(piece): \(result.stderr)")
        }
    }
}
