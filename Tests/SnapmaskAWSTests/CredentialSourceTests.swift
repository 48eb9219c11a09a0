import Foundation
import Snapmask
import SnapmaskStore
import SnapmaskTestSupport
import Testing
@testable import SnapmaskAWS

/// The network sources of the chain against real endpoints: web identity against moto's STS
/// (scripts/services; a missing SNAPMASK_TEST_S3_ENDPOINT fails these tests), Pod Identity and
/// IMDSv2 against stand-ins started here on loopback.
@Suite struct CredentialSourceTests {
    static let roleARN = "arn:aws:iam::123456789012:role/snapmask-restorer"
    /// Shaped like a projected ServiceAccount token; moto does not check it.
    static let webIdentityToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNuYXBtYXNrIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cXVpa2FwcC1zdGFnaW5nOnNuYXBtYXNrLXJlc3RvcmVyIn0.c2lnbmF0dXJlLXRlc3Q"

    static func webIdentityEnvironment(tokenFile: String, sts: String) -> [String: String] {
        ["AWS_ROLE_ARN": roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_SESSION_NAME": "snapmask-test",
         "AWS_ENDPOINT_URL_STS": sts, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"]
    }

    // MARK: Web identity (IRSA) against moto's STS

    @Test func webIdentityAssumesTheRoleAtSTSAndTheCredentialsSign() throws {
        let server = try TestServers.s3()
        let folder = try CredentialChainTests.folder(["token": Self.webIdentityToken + "\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let provider = try AWSCredentialChain.resolve(AWSEnvironment(
            Self.webIdentityEnvironment(tokenFile: folder.appendingPathComponent("token").path, sts: server.endpoint)))
        #expect(provider.source.contains("web identity (role \(Self.roleARN)"))
        let credentials = try provider.credentials()
        #expect(credentials.accessKeyID.hasPrefix("ASIA"))
        #expect(!(credentials.sessionToken ?? "").isEmpty)
        let expiration = try #require(credentials.expiration)
        #expect(expiration > Date().addingTimeInterval(50 * 60) && expiration < Date().addingTimeInterval(61 * 60))
        // Kept until it needs renewing: one AssumeRoleWithWebIdentity, however many requests.
        #expect(try provider.credentials() == credentials)
        #expect((provider as? RefreshingCredentialsProvider)?.fetchCount == 1)
        // The credentials sign a request STS accepts, as the role's session.
        let identity = try STSClient(endpoint: server.endpoint, region: "us-east-1").callerIdentity(provider)
        #expect(identity.arn.hasSuffix("assumed-role/snapmask-restorer/snapmask-test"), "\(identity)")
        #expect(identity.account == "123456789012")
    }

    @Test func theS3StoreUsesTheChain() throws {
        let server = try TestServers.s3()
        let folder = try CredentialChainTests.folder(["token": Self.webIdentityToken])
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = Self.webIdentityEnvironment(tokenFile: folder.appendingPathComponent("token").path, sts: server.endpoint)
        environment["SNAPMASK_S3_ENDPOINT"] = server.endpoint
        let store = try S3Store.fromEnvironment(url: "s3://\(server.bucket)/tests/\(TestServers.uniqueName("irsa"))",
                                                environment: environment)
        #expect(store.credentialsProvider.source.contains("web identity"))
        try store.put("a/b.txt", data: Data("irsa".utf8))
        #expect(try store.get("a/b.txt") == Data("irsa".utf8))
        try store.delete(["a/b.txt"])
    }

    @Test func stsRefusalsExplainTheTrustPolicyWithoutTheToken() throws {
        let stub = try StubHTTPServer(routes: [
            .init("POST", "/", status: 403, body: """
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                <Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>r</RequestId></ErrorResponse>
                """, headers: ["Content-Type": "text/xml"]),
        ])
        defer { stub.stop() }
        let folder = try CredentialChainTests.folder(["token": Self.webIdentityToken])
        defer { try? FileManager.default.removeItem(at: folder) }
        let provider = try AWSCredentialChain.resolve(AWSEnvironment(
            Self.webIdentityEnvironment(tokenFile: folder.appendingPathComponent("token").path, sts: stub.url)))
        do {
            _ = try provider.credentials()
            Issue.record("a refused AssumeRoleWithWebIdentity gave credentials")
        } catch {
            let message = "\(error)"
            #expect(message.contains("assuming role \(Self.roleARN) failed"), "\(message)")
            #expect(message.contains("STS AssumeRoleWithWebIdentity at 127.0.0.1:\(stub.port) failed: HTTP 403 AccessDenied"), "\(message)")
            #expect(message.contains("trust policy") && message.contains("system:serviceaccount:NAMESPACE:NAME"), "\(message)")
            #expect(!message.contains(Self.webIdentityToken))
        }
        // Not retried: a refusal does not change.
        #expect(stub.requests.count == 1)
    }

    @Test func aMissingTokenFileIsNamed() throws {
        let provider = try AWSCredentialChain.resolve(AWSEnvironment(
            Self.webIdentityEnvironment(tokenFile: "/nonexistent/eks.amazonaws.com/serviceaccount/token", sts: "http://127.0.0.1:9")))
        #expect { try provider.credentials() } throws: { error in
            "\(error)".contains("the token file /nonexistent/eks.amazonaws.com/serviceaccount/token (AWS_WEB_IDENTITY_TOKEN_FILE)")
                && "\(error)".contains("does not exist")
        }
    }

    // MARK: EKS Pod Identity

    @Test func podIdentityAgentGivesCredentialsForTheTokenOfTheFile() throws {
        let podToken = "eks-pod-identity-token-0123456789abcdef"
        let expiration = ISO8601DateFormatter().string(from: Date().addingTimeInterval(6 * 3600))
        let stub = try StubHTTPServer(routes: [
            .init("GET", "/v1/credentials", body: """
                {"AccessKeyId":"ASIAPODIDENTITY0001","SecretAccessKey":"pod-identity-secret-0123456789",\
                "Token":"pod-identity-session-0123456789","AccountId":"123456789012","Expiration":"\(expiration)"}
                """, headers: ["Content-Type": "application/json"], requireHeaders: ["Authorization": podToken]),
        ])
        defer { stub.stop() }
        let folder = try CredentialChainTests.folder(["eks-pod-identity-token": podToken + "\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": stub.url + "/v1/credentials",
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": folder.appendingPathComponent("eks-pod-identity-token").path,
                           "AWS_EC2_METADATA_DISABLED": "true"]
        let provider = try AWSCredentialChain.resolve(AWSEnvironment(environment))
        #expect(provider.source.contains("container credentials (\(stub.url)/v1/credentials"))
        let credentials = try provider.credentials()
        #expect(credentials.accessKeyID == "ASIAPODIDENTITY0001")
        #expect(credentials.sessionToken == "pod-identity-session-0123456789")
        #expect(abs((credentials.expiration ?? .distantPast).timeIntervalSinceNow - 6 * 3600) < 60)
        #expect(stub.requests.map(\.headers["authorization"]) == [podToken])

        // A token the agent refuses: the status and what to check, never the token.
        try Data("another-token-0123456789".utf8).write(to: folder.appendingPathComponent("eks-pod-identity-token"))
        let refused = try AWSCredentialChain.resolve(AWSEnvironment(environment))
        do {
            _ = try refused.credentials()
            Issue.record("a refused token gave credentials")
        } catch {
            #expect("\(error)".contains("answered HTTP 401"), "\(error)")
            #expect("\(error)".contains("pod identity association"), "\(error)")
            #expect(!"\(error)".contains("another-token-0123456789"), "\(error)")
        }
    }

    // MARK: IMDSv2

    @Test func instanceMetadataV2TokenThenRoleThenCredentials() throws {
        let expiration = ISO8601DateFormatter().string(from: Date().addingTimeInterval(6 * 3600))
        let session = ["X-aws-ec2-metadata-token": "imds-session-token-0123456789"]
        let stub = try StubHTTPServer(routes: [
            .init("PUT", "/latest/api/token", body: "imds-session-token-0123456789",
                  requireHeaders: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"]),
            .init("GET", "/latest/meta-data/iam/security-credentials/", body: "snapmask-node-role\n", requireHeaders: session),
            .init("GET", "/latest/meta-data/iam/security-credentials/snapmask-node-role", body: """
                {"Code":"Success","LastUpdated":"2026-12-05T10:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS00000001",\
                "SecretAccessKey":"imds-secret-0123456789","Token":"imds-role-session-0123456789","Expiration":"\(expiration)"}
                """, requireHeaders: session),
        ])
        defer { stub.stop() }
        let provider = try AWSCredentialChain.resolve(AWSEnvironment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url + "/",
                                                                      "HOME": "/nonexistent-home"]))
        #expect(provider.source == "EC2 instance metadata (IMDSv2 at \(stub.url))")
        let credentials = try provider.credentials()
        #expect(credentials.accessKeyID == "ASIAIMDS00000001")
        #expect(credentials.sessionToken == "imds-role-session-0123456789")
        #expect(stub.requests.map { "\($0.method) \($0.path)" } == [
            "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
            "GET /latest/meta-data/iam/security-credentials/snapmask-node-role",
        ])
    }

    @Test func instanceMetadataWithoutV2IsRefusedSayingWhatWasTried() throws {
        // An IMDSv1-only service (or a hop limit of 1): no session token.
        let stub = try StubHTTPServer(routes: [.init("PUT", "/latest/api/token", status: 403, body: "Forbidden")])
        defer { stub.stop() }
        let provider = try AWSCredentialChain.resolve(AWSEnvironment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.url,
                                                                      "HOME": "/nonexistent-home"]))
        do {
            _ = try provider.credentials()
            Issue.record("credentials without an IMDSv2 token")
        } catch {
            let message = "\(error)"
            #expect(message.contains("refused an IMDSv2 session token (HTTP 403)"), "\(message)")
            #expect(message.contains("does not fall back to IMDSv1"), "\(message)")
            #expect(message.contains("hop limit"), "\(message)")
            #expect(message.contains("web identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are not set)"), "\(message)")
        }
        #expect(stub.requests.map(\.method) == ["PUT"], "never a tokenless GET")
    }

    // MARK: Renewal during a long upload

    /// A multipart upload to moto whose credentials expire between parts: the provider is asked
    /// before every request, renews (a second AssumeRoleWithWebIdentity) and the upload goes on
    /// with the new set. The clock is the provider's: after CreateMultipartUpload and UploadPart 1
    /// it jumps 57 minutes, inside the 5-minute margin of the first set's artificial one-hour life.
    @Test func credentialsExpiringBetweenPartsAreRenewedAndTheUploadSucceeds() throws {
        let server = try TestServers.s3()
        let folder = try CredentialChainTests.folder(["token": Self.webIdentityToken])
        defer { try? FileManager.default.removeItem(at: folder) }
        let fetch = WebIdentityCredentials.fetcher(roleARN: Self.roleARN, tokenFile: folder.appendingPathComponent("token").path,
                                                   sessionName: "snapmask-refresh",
                                                   sts: try STSClient(endpoint: server.endpoint, region: "us-east-1"))
        let clock = TestClock(Date())
        let asked = Counter()
        let provider = RefreshingCredentialsProvider(source: "web identity (test)", now: {
            if asked.next() == 3 { clock.advance(57 * 60) }
            return clock.now
        }) {
            var credentials = try fetch()
            credentials.expiration = clock.now.addingTimeInterval(3600)
            return credentials
        }
        let signing = SigningLog(provider)
        let store = try S3Store(bucket: server.bucket, prefix: "tests/\(TestServers.uniqueName("refresh"))",
                                endpoint: server.endpoint, credentialsProvider: signing, timeout: 30)
            .withMultipart(threshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024)
        defer { if let keys = try? store.list(prefix: "").map(\.key) { try? store.delete(keys) } }

        var data = Data(count: 12 * 1024 * 1024 + 3)
        for i in stride(from: 0, to: data.count, by: 4096) { data[i] = UInt8(truncatingIfNeeded: i / 4096) }
        try store.put("big/part.zst", data: data)

        #expect(provider.fetchCount == 2, "expected one renewal between the parts")
        let keys = signing.keys
        // CreateMultipartUpload, UploadPart 1 | UploadPart 2, UploadPart 3, CompleteMultipartUpload
        #expect(keys.count == 5, "\(keys)")
        #expect(Set(keys.prefix(2)).count == 1 && Set(keys.dropFirst(2)).count == 1 && keys[1] != keys[2], "\(keys)")
        #expect(try store.get("big/part.zst") == data)
    }
}

/// Records the access key id each signed request used.
final class SigningLog: AWSCredentialsProvider, @unchecked Sendable {
    let inner: any AWSCredentialsProvider
    private let lock = NSLock()
    private var used: [String] = []

    init(_ inner: any AWSCredentialsProvider) { self.inner = inner }

    var source: String { inner.source }
    var keys: [String] { lock.withLock { used } }

    func credentials() throws -> AWSCredentials {
        let credentials = try inner.credentials()
        lock.withLock { used.append(credentials.accessKeyID) }
        return credentials
    }
}
