import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// `auth=iam` through the command line: the program makes real RDS tokens from the AWS
/// credential chain of its environment. The test server trusts loopback logins, so it lets the
/// tokens in unchecked; what is tested is the wiring (tokens made, TLS, pg_dump) and the errors.
@Suite struct IAMCommandTests {
    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org' FROM generate_series(1, 20) g;
        """
    static let rules = "tables:\n  users:\n    columns: { id: keep, email: { transform: email, unique: true } }\n"
    static let secret = "cli-iam-test-secret-key-0123456789abcdef"

    static func job(_ scratch: PostgresScratch) throws -> TestJob {
        try TestJob(engine: .postgres, source: try scratch.url("src").raw + "?auth=iam",
                    target: try scratch.url("stage").raw + "?auth=iam", rules: rules)
    }

    @Test func restoreLogsInWithTokensOnBothSides() throws {
        let scratch = try PostgresScratch("cliiam")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        let result = try CommandRunner.run(["restore", "--config", job.path], environment: [
            "AWS_ACCESS_KEY_ID": "AKIASNAPMASKCLITEST1", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": nil,
            "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("app (postgres): swapped"), "\(result.stdout)")
        #expect(try scratch.rows("stage", "SELECT count(*) FROM users") == [["20"]])
        #expect(!(result.stdout + result.stderr).contains(Self.secret))
        #expect(!(result.stdout + result.stderr).contains("X-Amz-Signature="))
    }

    @Test func noCredentialsIsAConfigurationErrorNamingWhatWasTried() throws {
        let scratch = try PostgresScratch("cliiamnone")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        var environment: [String: String?] = ["AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                                              "HOME": "/nonexistent-home"]
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_PROFILE",
                     "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"] {
            environment[name] = .some(nil)
        }
        let result = try CommandRunner.run(["check", "--config", job.path], environment: environment)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("IAM authentication to postgres://"), "\(result.stderr)")
        #expect(result.stderr.contains("no AWS credentials"), "\(result.stderr)")
        #expect(result.stderr.contains("eks.amazonaws.com/role-arn"), "\(result.stderr)")
    }
}
