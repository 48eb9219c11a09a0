import Foundation
import Snapmask
import SnapmaskAWS

/// A snapshot store in an S3-compatible bucket (`s3://bucket/prefix`): AWS S3, or MinIO,
/// Ceph, moto... at a configured endpoint. Requests are signed with Signature Version 4.
///
/// Keys are stored under the prefix (`prefix/app-20261127T020000Z/manifest.json`). An object
/// is written by one PutObject, or above `multipartThreshold` by a multipart upload that
/// becomes visible only when completed (and is aborted when any step fails), so a reader
/// never sees half an object.
///
/// With an endpoint the bucket is addressed path-style (`http://host:9000/bucket/key`, as
/// MinIO and moto want); on AWS virtual-hosted style (`https://bucket.s3.region.amazonaws.com/key`),
/// path-style for bucket names with dots, which TLS certificates do not cover.
public struct S3Store: ObjectStore {
    public let bucket: String
    /// "" or a prefix ending with `/`.
    public let prefix: String
    /// The configured endpoint; nil for AWS (`https://s3.<region>.amazonaws.com`).
    public let endpoint: URL?
    public let region: String

    /// Objects larger than this are written with a multipart upload.
    public var multipartThreshold: Int = 8 * 1024 * 1024
    /// The size of each part but the last. Stored as set (tests use parts S3 refuses, to see
    /// an upload fail and be aborted); `withMultipart` keeps it at 5 MiB or more.
    var partSize: Int = 8 * 1024 * 1024
    /// How many keys one ListObjectsV2 request asks for (S3 gives at most 1000).
    var listPageSize: Int = 1000
    /// Tries per request: retried with backoff on 5xx answers and lost connections when the
    /// request is idempotent (503 Slow Down always, since S3 did not process the request).
    public var maxAttempts: Int = 4

    /// Where each request's credentials come from (the default chain, or fixed keys).
    public let credentialsProvider: any AWSCredentialsProvider
    let transport: AWSHTTPTransport
    let scheme: String
    let host: String
    let basePath: String
    let pathStyle: Bool

    public static let minimumPartSize = 5 * 1024 * 1024
    public static let maximumParts = 10_000

    /// - Parameters:
    ///   - prefix: the folder in the bucket, with or without slashes around it ("" for the root).
    ///   - endpoint: `http(s)://host[:port]` of an S3-compatible server; nil for AWS.
    ///   - timeout: seconds to wait for a connection or for data on it.
    ///   - credentialsProvider: asked before every request, so temporary credentials are renewed
    ///     during a long upload.
    public init(bucket: String, prefix: String = "", endpoint: String? = nil, region: String = "us-east-1",
                credentialsProvider: any AWSCredentialsProvider, timeout: TimeInterval = 60) throws {
        guard !bucket.isEmpty, bucket.count <= 255,
              bucket.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) })
        else {
            throw ConfigError("'\(bucket)' is not an S3 bucket name (letters, digits, '-', '.' and '_' only)")
        }
        let trimmedRegion = region.trimmingCharacters(in: .whitespaces)
        guard !trimmedRegion.isEmpty, trimmedRegion.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }) else {
            throw ConfigError("'\(region)' is not an AWS region (such as us-east-1)")
        }
        self.bucket = bucket
        self.region = trimmedRegion
        let trimmedPrefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.prefix = trimmedPrefix.isEmpty ? "" : trimmedPrefix + "/"
        self.credentialsProvider = credentialsProvider
        transport = AWSHTTPTransport(timeout: timeout)

        if let endpoint {
            guard let url = URL(string: endpoint.trimmingCharacters(in: .whitespaces)),
                  let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = url.host, !host.isEmpty, url.user == nil, url.password == nil,
                  url.query == nil
            else {
                throw ConfigError("S3 endpoint must be http://host[:port] or https://host[:port]; got '\(Self.redactedEndpoint(endpoint))'")
            }
            self.endpoint = url
            self.scheme = scheme
            let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            if let port = url.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
                self.host = "\(bracketed):\(port)"
            } else {
                self.host = bracketed
            }
            var path = url.path
            while path.hasSuffix("/") { path.removeLast() }
            basePath = path
            pathStyle = true
        } else {
            self.endpoint = nil
            scheme = "https"
            basePath = ""
            if bucket.contains(".") {
                host = "s3.\(trimmedRegion).amazonaws.com"
                pathStyle = true
            } else {
                host = "\(bucket).s3.\(trimmedRegion).amazonaws.com"
                pathStyle = false
            }
        }
    }

    /// A store signing with fixed keys.
    public init(bucket: String, prefix: String = "", endpoint: String? = nil, region: String = "us-east-1",
                credentials: AWSCredentials, timeout: TimeInterval = 60) throws {
        try self.init(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region,
                      credentialsProvider: StaticCredentialsProvider(credentials), timeout: timeout)
    }

    /// The store of an `s3://bucket/prefix` URL, configured from the environment:
    /// - endpoint: `SNAPMASK_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`,
    ///   else AWS (`https://s3.<region>.amazonaws.com`);
    /// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1;
    /// - credentials: the default chain (`AWSCredentialChain`): environment keys, web identity
    ///   (IRSA), EKS Pod Identity, the shared files, IMDSv2.
    public static func fromEnvironment(url: String, environment: [String: String]) throws -> S3Store {
        guard url.hasPrefix("s3://") else {
            throw ConfigError("an S3 store is s3://bucket/prefix")
        }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count))
        if bucket.contains("@") || bucket.contains(":") {
            throw ConfigError("an S3 store URL carries no credentials or port: write s3://bucket/prefix; credentials come "
                                + "from the pod's IAM role or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                                + "SNAPMASK_S3_ENDPOINT names a non-AWS server)")
        }
        guard !bucket.isEmpty else {
            throw ConfigError("the S3 store URL '\(url)' names no bucket; write s3://bucket/prefix")
        }
        if prefix.contains("?") || prefix.contains("#") {
            throw ConfigError("the S3 store URL '\(url)' has a query or fragment; write s3://bucket/prefix")
        }
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            return raw
        }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        let endpoint = value("SNAPMASK_S3_ENDPOINT") ?? value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL")
        let location = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/")).isEmpty
            ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/")))"
        let credentials: any AWSCredentialsProvider
        do {
            credentials = try AWSCredentialChain.shared(AWSEnvironment(environment))
        } catch let error as ConfigError {
            throw ConfigError("the S3 store \(location) cannot be used: \(error.message)")
        }
        return try S3Store(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, credentialsProvider: credentials)
    }

    /// A copy that writes objects above `threshold` bytes in parts of `partSize` bytes
    /// (at least 5 MiB, S3's minimum for every part but the last).
    public func withMultipart(threshold: Int, partSize: Int) -> S3Store {
        var copy = self
        copy.multipartThreshold = max(0, threshold)
        copy.partSize = max(Self.minimumPartSize, partSize)
        return copy
    }

    public var location: String {
        prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix.dropLast())"
    }

    // MARK: - ObjectStore

    public func put(_ key: String, data: Data) throws {
        try translatingErrors {
            let full = try fullKey(key)
            if data.count > multipartThreshold {
                try multipartUpload(full, data: data)
            } else {
                _ = try send(Call(operation: "PutObject", method: "PUT", key: full, body: data,
                                  contentType: "application/octet-stream", contentMD5: true, idempotent: true))
            }
        }
    }

    public func get(_ key: String) throws -> Data {
        try translatingErrors {
            let full = try fullKey(key)
            let call = Call(operation: "GetObject", method: "GET", key: full, idempotent: true)
            do {
                return try send(call, checkLength: true).body
            } catch let error as S3Failure where error.status == 404 && error.code != "NoSuchBucket" {
                throw StoreError.notFound(key, in: location)
            }
        }
    }

    /// A ranged GET of at most `maxBytes + 1` bytes: a larger object is refused after reading
    /// one byte more than the limit, never whole.
    public func get(_ key: String, maxBytes: Int) throws -> Data {
        try translatingErrors {
            let full = try fullKey(key)
            var call = Call(operation: "GetObject", method: "GET", key: full, idempotent: true, accept: [200, 206, 416])
            call.range = "bytes=0-\(maxBytes)"
            let response: AWSHTTPResponse
            do {
                response = try send(call, checkLength: true)
            } catch let error as S3Failure where error.status == 404 && error.code != "NoSuchBucket" {
                throw StoreError.notFound(key, in: location)
            }
            // 416: the range starts beyond the end, which only an empty object does.
            if response.status == 416 { return Data() }
            if response.body.count > maxBytes { throw StoreError.tooLarge(key, in: location, limit: maxBytes) }
            return response.body
        }
    }

    public func list(prefix listPrefix: String) throws -> [StoredObject] {
        try translatingErrors { try listObjects(listPrefix) }
    }

    public func delete(_ keys: [String]) throws {
        try translatingErrors { try deleteObjects(keys) }
    }

    /// The errors of this store are `StoreError`s, whatever failed.
    func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as S3Failure {
            throw error.storeError
        }
    }

    private func deleteObjects(_ keys: [String]) throws {
        let fullKeys = try keys.map(fullKey)
        var batchable: [(key: String, escaped: String)] = []
        for key in fullKeys {
            if let escaped = S3XMLText.escape(key) {
                batchable.append((key, escaped))
            } else {
                // A key XML cannot carry (a control character): one DeleteObject.
                _ = try send(Call(operation: "DeleteObject", method: "DELETE", key: key, idempotent: true,
                                  accept: [200, 204, 404]))
            }
        }
        var start = 0
        while start < batchable.count {
            let batch = batchable[start..<min(start + 1000, batchable.count)]
            start += batch.count
            var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            for entry in batch { xml += "<Object><Key>\(entry.escaped)</Key></Object>" }
            xml += "</Delete>"
            let subject = batch.count == 1 ? objectName(batch.first!.key) : "\(batch.count) keys in \(location)"
            let response = try send(Call(operation: "DeleteObjects", method: "POST", key: nil, query: [("delete", "")],
                                         body: Data(xml.utf8), contentType: "application/xml", contentMD5: true,
                                         idempotent: true, subject: subject))
            if let root = AWSXMLElement.parse(response.body), root.name == "DeleteResult" {
                let failures = root.all("Error").filter { $0.value("Code") != "NoSuchKey" }
                if !failures.isEmpty {
                    let shown = failures.prefix(5).map { failure in
                        "\(failure.value("Key") ?? "?"): \(failure.value("Code") ?? "?") \(failure.value("Message") ?? "")"
                    }
                    throw StoreError(.failed, "S3 DeleteObjects in \(location) failed for \(failures.count) of \(batch.count) keys: "
                                        + shown.joined(separator: "; ") + (failures.count > 5 ? "; ..." : ""))
                }
            } else if let error = AWSXMLElement.parse(response.body).flatMap(S3ErrorBody.init) {
                throw StoreError(.failed, "S3 DeleteObjects in \(location) failed: \(error.code): \(error.message)")
            }
        }
    }

    // MARK: - Helpers for tests and tools

    /// The size and ETag of an object, or nil when it does not exist (HeadObject).
    func head(_ key: String) throws -> (size: Int, etag: String)? {
        try translatingErrors {
            let full = try fullKey(key)
            let response = try send(Call(operation: "HeadObject", method: "HEAD", key: full, idempotent: true, accept: [200, 404]))
            guard response.status == 200 else { return nil }
            return (Int(response.header("content-length") ?? "") ?? 0, response.header("etag") ?? "")
        }
    }

    // MARK: - Keys

    func fullKey(_ key: String) throws -> String {
        guard !key.isEmpty else { throw StoreError(.failed, "an empty object key in \(location)") }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        if segments.contains(where: { $0 == "." || $0 == ".." }) {
            throw StoreError(.failed, "the object key '\(key)' has a '.' or '..' segment, which HTTP clients rewrite; not stored in \(location)")
        }
        let full = prefix + key
        guard full.utf8.count <= 1024 else {
            throw StoreError(.failed, "the object key '\(key)' is longer than S3's 1024 bytes with the prefix of \(location)")
        }
        return full
    }

    func objectName(_ key: String?) -> String {
        guard let key, !key.isEmpty else { return "s3://\(bucket)" }
        return "s3://\(bucket)/\(key)"
    }

    static func redactedEndpoint(_ endpoint: String) -> String {
        guard let at = endpoint.firstIndex(of: "@"), let schemeEnd = endpoint.range(of: "://") else { return endpoint }
        return String(endpoint[..<schemeEnd.upperBound]) + "***" + String(endpoint[at...])
    }
}
