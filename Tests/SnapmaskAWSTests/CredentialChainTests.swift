import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskAWS

/// The order of the chain and its errors, without a network (IMDS is disabled or unreachable
/// sources are never asked).
@Suite struct CredentialChainTests {
    static let noIMDS = ["AWS_EC2_METADATA_DISABLED": "true"]

    /// A scratch folder holding the given files, removed by the caller.
    static func folder(_ files: [String: String]) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapmask-aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return directory
    }

    static func resolve(_ environment: [String: String]) throws -> any AWSCredentialsProvider {
        try AWSCredentialChain.resolve(AWSEnvironment(environment))
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "very/secret+key", sessionToken: "session-token-value")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(reflecting: credentials), dumped] {
            #expect(text.contains("AKIAEXAMPLE"))
            #expect(!text.contains("very/secret+key"), "\(text)")
            #expect(!text.contains("session-token-value"), "\(text)")
        }
    }

    @Test func environmentKeysComeFirst() throws {
        let provider = try Self.resolve(["AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE", "AWS_SECRET_ACCESS_KEY": "env-secret-key-0123456789",
                                         "AWS_SESSION_TOKEN": "env-session-token-0123456789",
                                         // Web identity is configured too, but the keys win, as in the SDKs.
                                         "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent"])
        #expect(provider.source.contains("environment variables"))
        let credentials = try provider.credentials()
        #expect(credentials.accessKeyID == "AKIAENVEXAMPLE")
        #expect(credentials.sessionToken == "env-session-token-0123456789")
        #expect(credentials.expiration == nil)
    }

    @Test func halfConfiguredSourcesAreErrorsNotFallThroughs() {
        let cases: [([String: String], String)] = [
            (["AWS_SECRET_ACCESS_KEY": "x"], "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
            (["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x"], "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"),
            (["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"], "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not"),
            (["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.1.2.3/creds"], "only the EKS Pod Identity agent"),
            (["AWS_PROFILE": "nowhere", "HOME": "/nonexistent"], "names the profile nowhere, which has no keys"),
        ]
        for (environment, expected) in cases {
            #expect(throws: ConfigError.self, "\(environment)") { try Self.resolve(environment.merging(Self.noIMDS) { a, _ in a }) }
            do {
                _ = try Self.resolve(environment.merging(Self.noIMDS) { a, _ in a })
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    @Test func nothingConfiguredNamesEverySourceTried() {
        do {
            _ = try Self.resolve(Self.noIMDS.merging(["HOME": "/nonexistent-home"]) { a, _ in a })
            Issue.record("credentials were found in an empty environment")
        } catch {
            let message = "\(error)"
            for part in ["environment variables (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set)",
                         "web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are not set)",
                         "EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI is not set)",
                         "/nonexistent-home/.aws/credentials (not found)",
                         "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)",
                         "eks.amazonaws.com/role-arn"] {
                #expect(message.contains(part), "\(message)")
            }
        }
    }

    @Test func sharedFilesGiveStaticKeysPerProfile() throws {
        let home = try Self.folder([
            ".aws/credentials": """
                # comment
                [default]
                aws_access_key_id = AKIADEFAULTEXAMPLE
                aws_secret_access_key = default-secret-0123456789#kept
                [staging]
                aws_access_key_id=AKIASTAGINGEXAMPLE
                aws_secret_access_key=staging-secret-0123456789 ; comment
                aws_session_token = staging-token-0123456789
                """,
            ".aws/config": """
                [default]
                region = us-east-1
                [profile tools]
                region = eu-west-1
                aws_access_key_id = AKIATOOLSEXAMPLE
                aws_secret_access_key = tools-secret-0123456789
                s3 =
                  max_concurrent_requests = 4
                [profile assumed]
                role_arn = arn:aws:iam::123456789012:role/admin
                source_profile = default
                """,
        ])
        defer { try? FileManager.default.removeItem(at: home) }
        let base = Self.noIMDS.merging(["HOME": home.path]) { a, _ in a }

        let byDefault = try Self.resolve(base)
        #expect(try byDefault.credentials().accessKeyID == "AKIADEFAULTEXAMPLE")
        #expect(try byDefault.credentials().secretAccessKey == "default-secret-0123456789#kept")
        #expect(byDefault.source == "profile default in \(home.path)/.aws/credentials")

        let staging = try Self.resolve(base.merging(["AWS_PROFILE": "staging"]) { $1 })
        #expect(try staging.credentials() == AWSCredentials(accessKeyID: "AKIASTAGINGEXAMPLE", secretAccessKey: "staging-secret-0123456789",
                                                            sessionToken: "staging-token-0123456789"))
        // `[profile tools]` of the config file.
        #expect(try Self.resolve(base.merging(["AWS_PROFILE": "tools"]) { $1 }).credentials().accessKeyID == "AKIATOOLSEXAMPLE")
        // A profile that assumes a role is refused by name, never skipped.
        #expect { try Self.resolve(base.merging(["AWS_PROFILE": "assumed"]) { $1 }) } throws: { error in
            "\(error)".contains("profile assumed") && "\(error)".contains("role_arn, source_profile")
                && "\(error)".contains("does not support")
        }
        // Files named by variable instead of HOME.
        let named = try Self.resolve(Self.noIMDS.merging(["AWS_SHARED_CREDENTIALS_FILE": "\(home.path)/.aws/credentials",
                                                         "AWS_CONFIG_FILE": "\(home.path)/.aws/config",
                                                         "AWS_PROFILE": "tools"]) { $1 })
        #expect(try named.credentials().accessKeyID == "AKIATOOLSEXAMPLE")
    }

    @Test func refreshHappensBeforeExpiryAndOnlyOnce() throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let counter = Counter()
        let provider = RefreshingCredentialsProvider(source: "test", now: { clock.now }) {
            let n = counter.next()
            return AWSCredentials(accessKeyID: "ASIA\(n)", secretAccessKey: "s", sessionToken: "t",
                                  expiration: clock.now.addingTimeInterval(3600))
        }
        #expect(try provider.credentials().accessKeyID == "ASIA1")
        clock.advance(3600 - 301) // 5 min 1 s left: still good
        #expect(try provider.credentials().accessKeyID == "ASIA1")
        clock.advance(2) // inside the 5-minute margin: renewed
        #expect(try provider.credentials().accessKeyID == "ASIA2")
        #expect(provider.fetchCount == 2)

        // Many callers at the moment of expiry: one fetch.
        clock.advance(3600)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in _ = try? provider.credentials() }
        #expect(provider.fetchCount == 3)
    }

    @Test func aFailedRefreshKeepsValidCredentialsAndFailsOnceTheyExpire() throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
        let failing = Flag()
        let provider = RefreshingCredentialsProvider(source: "test", now: { clock.now }) {
            if failing.isSet { throw AWSCredentialsError("STS is down") }
            return AWSCredentials(accessKeyID: "ASIA1", secretAccessKey: "s", expiration: clock.now.addingTimeInterval(900))
        }
        _ = try provider.credentials()
        failing.set()
        clock.advance(700) // 200 s left, inside the margin: the refresh fails, the set still works
        #expect(try provider.credentials().accessKeyID == "ASIA1")
        clock.advance(190) // 10 s left: too little to sign with
        #expect(throws: AWSCredentialsError.self) { try provider.credentials() }
    }
}

final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date) { current = start }
    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
    var count: Int { lock.withLock { value } }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
