import Crypto
import Foundation
import Snapmask
import SnapmaskAWS
import SnapmaskTestSupport
import Testing
@testable import SnapmaskStore

/// S3Store against the S3-compatible server that scripts/services starts (moto). A missing
/// SNAPMASK_TEST_S3_ENDPOINT fails these tests; it never skips them.
@Suite struct S3StoreTests {
    /// moto accepts any credentials; these are recognizable so a test can look for leaks.
    static let credentials = AWSCredentials(accessKeyID: "AKIASNAPMASKTEST0001",
                                           secretAccessKey: "s3cr3t/SNAPMASK+test/never-print-me")

    /// A store under a prefix no other test uses.
    static func store(_ label: String) throws -> S3Store {
        let server = try TestServers.s3()
        return try S3Store(bucket: server.bucket, prefix: "tests/\(TestServers.uniqueName(label))",
                           endpoint: server.endpoint, region: "us-east-1", credentials: credentials, timeout: 30)
    }

    static func removeAll(_ store: S3Store) {
        if let keys = try? store.list(prefix: "").map(\.key) { try? store.delete(keys) }
    }

    /// Deterministic bytes that differ at every offset of a part.
    static func pseudoRandom(count: Int, seed: UInt64) -> Data {
        var state = seed
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in words.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                words[i] = state ^ (state >> 29)
            }
            for i in (words.count * 8)..<count { raw[i] = UInt8(truncatingIfNeeded: i) }
        }
        return data
    }

    @Test func contract() throws {
        var store = try Self.store("contract")
        store.listPageSize = 7 // pagination with continuation tokens
        defer { Self.removeAll(store) }
        try ObjectStoreContract.check(store)
    }

    @Test func locationAndKeysAreUnderThePrefix() throws {
        let server = try TestServers.s3()
        let prefix = "tests/\(TestServers.uniqueName("prefix"))"
        let store = try S3Store(bucket: server.bucket, prefix: "/\(prefix)/", endpoint: server.endpoint,
                                credentials: Self.credentials)
        defer { Self.removeAll(store) }
        #expect(store.location == "s3://\(server.bucket)/\(prefix)")
        try store.put("x/y.txt", data: Data("y".utf8))
        // The same bucket seen from its root: the object is at prefix/x/y.txt.
        let root = try S3Store(bucket: server.bucket, endpoint: server.endpoint, credentials: Self.credentials)
        #expect(root.location == "s3://\(server.bucket)")
        #expect(try root.list(prefix: prefix + "/").map(\.key) == ["\(prefix)/x/y.txt"])
        #expect(try root.get("\(prefix)/x/y.txt") == Data("y".utf8))
        // A sibling prefix that starts with the same letters is not part of the store.
        let sibling = try S3Store(bucket: server.bucket, prefix: prefix + "-sibling", endpoint: server.endpoint,
                                  credentials: Self.credentials)
        defer { Self.removeAll(sibling) }
        try sibling.put("x/y.txt", data: Data("other".utf8))
        #expect(try store.list(prefix: "").map(\.key) == ["x/y.txt"])
        #expect(try store.get("x/y.txt") == Data("y".utf8))
    }

    @Test func moreThanAThousandObjectsListAndDeleteInSeveralRequests() throws {
        let store = try Self.store("thousand")
        defer { Self.removeAll(store) }
        let keys = (0..<1_005).map { String(format: "snap/part-%06d", $0) }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for index in stride(from: worker, to: keys.count, by: 8) {
                do { try store.put(keys[index], data: Data([UInt8(index & 0xFF)])) } catch { failures.add("\(error)") }
            }
        }
        #expect(failures.all.isEmpty)
        // Two ListObjectsV2 pages of at most 1000 keys, two DeleteObjects of at most 1000 keys.
        #expect(try store.list(prefix: "snap/").map(\.key) == keys)
        try store.delete(keys)
        #expect(try store.list(prefix: "").isEmpty)
    }

    @Test func largeObjectIsOneMultipartObjectAndRoundTripsByteExact() throws {
        let store = try Self.store("multipart").withMultipart(threshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024)
        defer { Self.removeAll(store) }
        let data = Self.pseudoRandom(count: 20 * 1024 * 1024, seed: 42)
        try store.put("big/part-00001.zst", data: data)
        let back = try store.get("big/part-00001.zst")
        #expect(back.count == data.count)
        #expect(back == data)
        // One object, made of four parts (a multipart ETag ends with -<parts>), nothing left open.
        #expect(try store.list(prefix: "").map(\.key) == ["big/part-00001.zst"])
        #expect(try store.list(prefix: "").first?.size == data.count)
        let head = try #require(try store.head("big/part-00001.zst"))
        #expect(head.size == data.count)
        #expect(head.etag.hasSuffix("-4\""), "ETag \(head.etag)")
        #expect(try store.incompleteUploads().isEmpty)

        // A last part smaller than the others; and an object at the threshold is one PutObject.
        let uneven = Self.pseudoRandom(count: 12 * 1024 * 1024 + 3, seed: 7)
        try store.put("big/uneven", data: uneven)
        #expect(try store.get("big/uneven") == uneven)
        #expect(try store.head("big/uneven")?.etag.hasSuffix("-3\"") == true)
        let single = Self.pseudoRandom(count: 5 * 1024 * 1024, seed: 9)
        try store.put("big/single", data: single)
        #expect(try store.get("big/single") == single)
        let singleETag = try #require(try store.head("big/single")?.etag)
        #expect(singleETag == "\"\(SigV4.hex(Insecure.MD5.hash(data: single)))\"")
    }

    @Test func failedMultipartUploadIsAbortedAndLeavesNoObject() throws {
        var store = try Self.store("abort")
        defer { Self.removeAll(store) }
        // Parts of 1 MiB: S3 (and moto) refuse to complete an upload whose parts but the last
        // are under 5 MiB, so the upload fails at CompleteMultipartUpload and must be aborted.
        store.multipartThreshold = 1024 * 1024
        store.partSize = 1024 * 1024
        let data = Self.pseudoRandom(count: 3 * 1024 * 1024, seed: 3)
        do {
            try store.put("half/made.zst", data: data)
            Issue.record("an upload with 1 MiB parts was accepted")
        } catch let error as StoreError {
            #expect(error.kind == .failed)
            #expect(error.message.contains("CompleteMultipartUpload"), "\(error)")
            #expect(error.message.contains("EntityTooSmall"), "\(error)")
            #expect(error.message.contains("s3://\(store.bucket)/\(store.prefix)half/made.zst"), "\(error)")
            #expect(error.message.contains("HTTP 400"), "\(error)")
        }
        #expect(try store.incompleteUploads().isEmpty)
        #expect(try store.list(prefix: "").isEmpty)
        #expect(throws: StoreError.self) { try store.get("half/made.zst") }
    }

    @Test func missingBucketIsAClearFailureNotAMissingObject() throws {
        let server = try TestServers.s3()
        let store = try S3Store(bucket: "snapmask-no-such-bucket-\(UInt32.random(in: 0...UInt32.max))", prefix: "p",
                                endpoint: server.endpoint, credentials: Self.credentials)
        let operations: [() throws -> Void] = [
            { _ = try store.get("k") }, { try store.put("k", data: Data("x".utf8)) }, { _ = try store.list(prefix: "") },
        ]
        for operation in operations {
            do {
                try operation()
                Issue.record("an operation on a missing bucket succeeded")
            } catch let error as StoreError {
                #expect(error.kind == .failed)
                #expect(error.message.contains("HTTP 404 NoSuchBucket"), "\(error)")
                #expect(error.message.contains(store.bucket), "\(error)")
                #expect(!error.message.contains(Self.credentials.secretAccessKey))
                #expect(!error.message.contains("Signature="))
            }
        }
    }

    @Test func unreachableServerFailsAfterRetriesWithoutSecrets() throws {
        // Nothing listens on port 9 (discard) of the loopback interface here.
        var store = try S3Store(bucket: "snapmask-test", prefix: "p", endpoint: "http://127.0.0.1:9",
                                credentials: Self.credentials, timeout: 5)
        store.maxAttempts = 2
        do {
            _ = try store.get("a/key")
            Issue.record("a request to a closed port succeeded")
        } catch let error as StoreError {
            #expect(error.kind == .failed)
            #expect(error.message.contains("GetObject of s3://snapmask-test/p/a/key"), "\(error)")
            #expect(error.message.contains("after 2 attempts"), "\(error)")
            #expect(error.message.contains("http://127.0.0.1:9"), "\(error)")
            #expect(!error.message.contains(Self.credentials.secretAccessKey))
        }
    }

    @Test func invalidKeysAreRefused() throws {
        let store = try Self.store("keys")
        for key in ["", "a/../b", "./a", "a/.", String(repeating: "k", count: 1100)] {
            #expect(throws: StoreError.self, "key \(key)") { try store.put(key, data: Data()) }
        }
    }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

/// Configuration from the environment, addressing, credentials: no server needed.
@Suite struct S3StoreConfigurationTests {
    static let keys = ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "very/secret+key"]

    @Test func fromEnvironmentReadsTheStandardVariables() throws {
        let aws = try S3Store.fromEnvironment(url: "s3://my-bucket/prod/sanitized/", environment: Self.keys)
        #expect(aws.bucket == "my-bucket")
        #expect(aws.prefix == "prod/sanitized/")
        #expect(aws.location == "s3://my-bucket/prod/sanitized")
        #expect(aws.region == "us-east-1")
        #expect(aws.endpoint == nil)
        #expect(try aws.credentialsProvider.credentials() == AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "very/secret+key"))
        // Virtual-hosted style on AWS, in the region's endpoint.
        #expect(aws.address(key: "prod/sanitized/a b.json").url
                    == "https://my-bucket.s3.us-east-1.amazonaws.com/prod/sanitized/a%20b.json")

        var environment = Self.keys
        environment["AWS_DEFAULT_REGION"] = "eu-west-1"
        environment["AWS_SESSION_TOKEN"] = "token/value"
        let regional = try S3Store.fromEnvironment(url: "s3://my-bucket", environment: environment)
        #expect(regional.region == "eu-west-1")
        #expect(regional.prefix == "")
        #expect(regional.location == "s3://my-bucket")
        #expect(try regional.credentialsProvider.credentials().sessionToken == "token/value")
        #expect(regional.address(key: "k", query: [("list-type", "2")]).url == "https://my-bucket.s3.eu-west-1.amazonaws.com/k?list-type=2")
        environment["AWS_REGION"] = "ap-south-2"
        #expect(try S3Store.fromEnvironment(url: "s3://my-bucket", environment: environment).region == "ap-south-2")

        // Bucket names with dots: path-style, since the TLS certificate covers one label only.
        let dotted = try S3Store.fromEnvironment(url: "s3://my.dotted.bucket/p", environment: Self.keys)
        #expect(dotted.address(key: "p/k").url == "https://s3.us-east-1.amazonaws.com/my.dotted.bucket/p/k")
    }

    @Test func endpointPrecedenceAndPathStyle() throws {
        var environment = Self.keys
        environment["AWS_ENDPOINT_URL"] = "http://generic:1"
        #expect(try S3Store.fromEnvironment(url: "s3://b/p", environment: environment).endpoint?.absoluteString == "http://generic:1")
        environment["AWS_ENDPOINT_URL_S3"] = "http://s3-specific:2"
        #expect(try S3Store.fromEnvironment(url: "s3://b/p", environment: environment).endpoint?.absoluteString == "http://s3-specific:2")
        environment["SNAPMASK_S3_ENDPOINT"] = "http://127.0.0.1:59000"
        let store = try S3Store.fromEnvironment(url: "s3://b/p", environment: environment)
        #expect(store.endpoint?.absoluteString == "http://127.0.0.1:59000")
        #expect(store.address(key: "p/naïve/k+1").url == "http://127.0.0.1:59000/b/p/na%C3%AFve/k%2B1")
        #expect(store.address(key: nil, query: [("prefix", "p/"), ("list-type", "2")]).url
                    == "http://127.0.0.1:59000/b/?list-type=2&prefix=p%2F")
        // Default ports are left out of the Host; an endpoint with a path keeps it.
        let https = try S3Store(bucket: "b", endpoint: "https://minio.internal:443/s3/", credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "s"))
        #expect(https.address(key: "k").url == "https://minio.internal/s3/b/k")
    }

    @Test func missingCredentialsNameEverySourceTried() throws {
        do {
            _ = try S3Store.fromEnvironment(url: "s3://bucket/prefix", environment: ["SNAPMASK_S3_ENDPOINT": "http://127.0.0.1:59000",
                                                                                     "AWS_EC2_METADATA_DISABLED": "true"])
            Issue.record("a store without credentials was made")
        } catch let error as ConfigError {
            #expect(error.message.contains("s3://bucket/prefix"), "\(error)")
            for tried in ["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "shared files", "disabled by AWS_EC2_METADATA_DISABLED"] {
                #expect(error.message.contains(tried), "\(error)")
            }
        }
        do {
            _ = try S3Store.fromEnvironment(url: "s3://bucket/prefix", environment: ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": " "])
            Issue.record("a store without a secret key was made")
        } catch let error as ConfigError {
            #expect(error.message.contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"), "\(error)")
            #expect(!error.message.contains("AKIAEXAMPLE"))
        }
    }

    @Test func badURLsAndEndpointsAreConfigurationErrors() throws {
        for url in ["s3://", "s3:///prefix", "s3://AKIA:secret@bucket/p", "s3://bucket/p?x=1", "file:///tmp"] {
            do {
                _ = try S3Store.fromEnvironment(url: url, environment: Self.keys)
                Issue.record("\(url) was accepted")
            } catch let error as ConfigError {
                #expect(!error.message.contains("secret"), "\(error)")
            }
        }
        for endpoint in ["ftp://host", "127.0.0.1:59000", "http://user:pw@host:1"] {
            var environment = Self.keys
            environment["SNAPMASK_S3_ENDPOINT"] = endpoint
            do {
                _ = try S3Store.fromEnvironment(url: "s3://b/p", environment: environment)
                Issue.record("endpoint \(endpoint) was accepted")
            } catch let error as ConfigError {
                #expect(error.message.contains("S3 endpoint"), "\(error)")
                #expect(!error.message.contains("pw"), "\(error)")
            }
        }
    }
}
