import Crypto
import Foundation
import Snapmask
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

    let signer: SigV4Signer
    let transport: S3Transport
    private let scheme: String
    private let host: String
    private let basePath: String
    private let pathStyle: Bool

    public static let minimumPartSize = 5 * 1024 * 1024
    public static let maximumParts = 10_000

    /// - Parameters:
    ///   - prefix: the folder in the bucket, with or without slashes around it ("" for the root).
    ///   - endpoint: `http(s)://host[:port]` of an S3-compatible server; nil for AWS.
    ///   - timeout: seconds to wait for a connection or for data on it.
    public init(bucket: String, prefix: String = "", endpoint: String? = nil, region: String = "us-east-1",
                credentials: S3Credentials, timeout: TimeInterval = 60) throws {
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
        signer = SigV4Signer(credentials: credentials, region: trimmedRegion)
        transport = S3Transport(timeout: timeout)

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

    /// The store of an `s3://bucket/prefix` URL, configured from the environment:
    /// - endpoint: `SNAPMASK_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`,
    ///   else AWS (`https://s3.<region>.amazonaws.com`);
    /// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else us-east-1;
    /// - credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`.
    public static func fromEnvironment(url: String, environment: [String: String]) throws -> S3Store {
        guard url.hasPrefix("s3://") else {
            throw ConfigError("an S3 store is s3://bucket/prefix")
        }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count))
        if bucket.contains("@") || bucket.contains(":") {
            throw ConfigError("an S3 store URL carries no credentials or port: write s3://bucket/prefix and set "
                                + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and SNAPMASK_S3_ENDPOINT for a non-AWS server)")
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
        let credentials = try S3Credentials.fromEnvironment(environment, for: location)
        return try S3Store(bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, credentials: credentials)
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
            let response: S3Response
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
    private func translatingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as S3Failure {
            throw error.storeError
        }
    }

    private func listObjects(_ listPrefix: String) throws -> [StoredObject] {
        let full = prefix + listPrefix
        var objects: [StoredObject] = []
        var token: String?
        let dates = S3Dates()
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("encoding-type", "url"),
                                                          ("max-keys", String(listPageSize))]
            if !full.isEmpty { query.append(("prefix", full)) }
            if let token { query.append(("continuation-token", token)) }
            let response = try send(Call(operation: "ListObjectsV2", method: "GET", key: nil, query: query,
                                         idempotent: true, describedKey: full))
            guard let root = S3XMLElement.parse(response.body), root.name == "ListBucketResult" else {
                throw StoreError(.failed, "S3 ListObjectsV2 of \(objectName(full)) failed: the answer is not a ListBucketResult")
            }
            let urlEncoded = root.value("EncodingType") == "url"
            for content in root.all("Contents") {
                guard let raw = content.value("Key"), let key = urlEncoded ? S3XMLText.decodeURLEncoded(raw) : raw else {
                    throw StoreError(.failed, "S3 ListObjectsV2 of \(objectName(full)) failed: an entry has no readable Key")
                }
                guard key.hasPrefix(prefix) else { continue }
                objects.append(StoredObject(key: String(key.dropFirst(prefix.count)),
                                            size: Int(content.value("Size") ?? "") ?? 0,
                                            modified: content.value("LastModified").flatMap(dates.parse)))
            }
            if root.value("IsTruncated") == "true" {
                guard let next = root.value("NextContinuationToken"), !next.isEmpty, next != token else {
                    throw StoreError(.failed, "S3 ListObjectsV2 of \(objectName(full)) failed: a truncated page without a continuation token")
                }
                token = next
            } else {
                token = nil
            }
        } while token != nil
        return objects.sorted { $0.key < $1.key }
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
            if let root = S3XMLElement.parse(response.body), root.name == "DeleteResult" {
                let failures = root.all("Error").filter { $0.value("Code") != "NoSuchKey" }
                if !failures.isEmpty {
                    let shown = failures.prefix(5).map { failure in
                        "\(failure.value("Key") ?? "?"): \(failure.value("Code") ?? "?") \(failure.value("Message") ?? "")"
                    }
                    throw StoreError(.failed, "S3 DeleteObjects in \(location) failed for \(failures.count) of \(batch.count) keys: "
                                        + shown.joined(separator: "; ") + (failures.count > 5 ? "; ..." : ""))
                }
            } else if let error = S3XMLElement.parse(response.body).flatMap(S3ErrorBody.init) {
                throw StoreError(.failed, "S3 DeleteObjects in \(location) failed: \(error.code): \(error.message)")
            }
        }
    }

    // MARK: - Multipart upload

    private func multipartUpload(_ key: String, data: Data) throws {
        // At most 10,000 parts: larger parts for (very) large objects.
        var size = max(1, partSize)
        if (data.count + size - 1) / size > Self.maximumParts {
            size = (data.count + Self.maximumParts - 1) / Self.maximumParts
        }
        let created = try send(Call(operation: "CreateMultipartUpload", method: "POST", key: key, query: [("uploads", "")],
                                    contentType: "application/octet-stream", idempotent: false))
        guard let root = S3XMLElement.parse(created.body), let uploadID = root.value("UploadId"), !uploadID.isEmpty else {
            throw StoreError(.failed, "S3 CreateMultipartUpload of \(objectName(key)) failed: the answer has no UploadId")
        }
        do {
            var etags: [String] = []
            var offset = data.startIndex
            var number = 1
            while offset < data.endIndex {
                let end = min(offset + size, data.endIndex)
                let part = data.subdata(in: offset..<end)
                let response = try send(Call(operation: "UploadPart \(number)", method: "PUT", key: key,
                                             query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                             body: part, contentType: "application/octet-stream", contentMD5: true,
                                             idempotent: true))
                guard let etag = response.header("etag"), !etag.isEmpty else {
                    throw StoreError(.failed, "S3 UploadPart \(number) of \(objectName(key)) failed: the answer has no ETag")
                }
                etags.append(etag)
                offset = end
                number += 1
            }
            var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for (index, etag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XMLText.escape(etag) ?? etag)</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            // Completing twice is harmless (S3 answers the same), so it is retried like the rest.
            let completed = try send(Call(operation: "CompleteMultipartUpload", method: "POST", key: key,
                                          query: [("uploadId", uploadID)], body: Data(xml.utf8),
                                          contentType: "application/xml", idempotent: true))
            // S3 can answer 200 and report the failure in the body.
            if let result = S3XMLElement.parse(completed.body), result.name == "Error", let error = S3ErrorBody(result) {
                throw S3Failure(operation: "CompleteMultipartUpload", object: objectName(key), status: completed.status,
                                code: error.code, message: error.message)
            }
        } catch {
            abortMultipartUpload(key, uploadID: uploadID)
            throw error
        }
    }

    /// Best effort: a failure here leaves an incomplete upload for the bucket's lifecycle rules.
    private func abortMultipartUpload(_ key: String, uploadID: String) {
        _ = try? send(Call(operation: "AbortMultipartUpload", method: "DELETE", key: key, query: [("uploadId", uploadID)],
                           idempotent: true, accept: [200, 204, 404]))
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

    /// Multipart uploads begun and neither completed nor aborted under the store's prefix
    /// (ListMultipartUploads, first page).
    func incompleteUploads() throws -> [(key: String, uploadID: String)] {
        try translatingErrors { try listIncompleteUploads() }
    }

    private func listIncompleteUploads() throws -> [(key: String, uploadID: String)] {
        var query: [(name: String, value: String)] = [("uploads", "")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        let response = try send(Call(operation: "ListMultipartUploads", method: "GET", key: nil, query: query,
                                     idempotent: true, describedKey: prefix))
        guard let root = S3XMLElement.parse(response.body), root.name == "ListMultipartUploadsResult" else {
            throw StoreError(.failed, "S3 ListMultipartUploads in \(location) failed: the answer is not a ListMultipartUploadsResult")
        }
        return root.all("Upload").map { (key: $0.value("Key") ?? "", uploadID: $0.value("UploadId") ?? "") }
    }

    // MARK: - Requests

    private func fullKey(_ key: String) throws -> String {
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

    fileprivate func objectName(_ key: String?) -> String {
        guard let key, !key.isEmpty else { return "s3://\(bucket)" }
        return "s3://\(bucket)/\(key)"
    }

    struct Call {
        var operation: String
        var method: String
        /// The full key (with the prefix), or nil for a request on the bucket.
        var key: String?
        var query: [(name: String, value: String)] = []
        var body = Data()
        var contentType: String?
        var contentMD5 = false
        /// An HTTP Range (`bytes=0-N`), for reads of bounded size.
        var range: String? = nil
        var idempotent: Bool
        /// Statuses that are answers rather than failures.
        var accept: Set<Int> = [200, 204, 206]
        /// What the error names for a bucket-level request (a prefix, some keys).
        var describedKey: String?
        /// The whole name of what the request is about, when it is not one object or prefix.
        var subject: String?

        func subject(in store: S3Store) -> String {
            subject ?? store.objectName(key ?? describedKey)
        }
    }

    /// Sends a call, retrying what can be retried, and returns an accepted answer; throws
    /// `S3Failure` for an S3 error answer and `StoreError` when no answer came.
    private func send(_ call: Call, checkLength: Bool = false) throws -> S3Response {
        let what = "S3 \(call.operation) of \(call.subject(in: self))"
        var attempt = 0
        var delay = 0.2
        while true {
            attempt += 1
            let request = try makeRequest(call)
            let outcome: Result<S3Response, Error>
            do {
                outcome = .success(try transport.send(request))
            } catch {
                outcome = .failure(error)
            }
            var failure: Error
            var retryable: Bool
            switch outcome {
            case .success(let response) where call.accept.contains(response.status):
                if checkLength, response.header("content-encoding") == nil,
                   let expected = response.header("content-length").flatMap({ Int($0) }), expected != response.body.count {
                    failure = StoreError(.failed, "\(what) failed: got \(response.body.count) of \(expected) bytes")
                    retryable = call.idempotent
                } else {
                    return response
                }
            case .success(let response):
                let error = S3ErrorBody(response.body)
                failure = S3Failure(operation: call.operation, object: call.subject(in: self),
                                    status: response.status, code: error?.code, message: error.map { redact($0.message) })
                retryable = response.status == 503
                    || (call.idempotent && ([500, 502, 504].contains(response.status) || error?.code == "RequestTimeout"))
            case .failure(let error as S3TransportError):
                failure = StoreError(.failed, "\(what) failed: \(error.description) (\(scheme)://\(host))")
                retryable = call.idempotent && error.retryable
            case .failure(let error):
                failure = StoreError(.failed, "\(what) failed: \(error)")
                retryable = false
            }
            guard retryable, attempt < maxAttempts else {
                if attempt > 1, let store = failure as? StoreError {
                    throw StoreError(store.kind, store.message + " after \(attempt) attempts")
                }
                if attempt > 1, var s3 = failure as? S3Failure {
                    s3.attempts = attempt
                    throw s3
                }
                throw failure
            }
            Thread.sleep(forTimeInterval: delay * Double.random(in: 0.75...1.25))
            delay = min(delay * 2, 5)
        }
    }

    /// The encoded path and the whole URL of a request on an object (with the prefix) or the bucket.
    func address(key: String?, query: [(name: String, value: String)] = []) -> (path: String, url: String) {
        var path = basePath
        if pathStyle { path += "/" + SigV4.encodePath(bucket) }
        path += "/"
        if let key { path += SigV4.encodePath(key) }
        let queryString = SigV4.canonicalQuery(query)
        return (path, "\(scheme)://\(host)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
    }

    private func makeRequest(_ call: Call) throws -> URLRequest {
        let (path, target) = address(key: call.key, query: call.query)
        guard let url = URL(string: target) else {
            throw StoreError(.failed, "S3 \(call.operation) of \(objectName(call.key)) failed: cannot make a URL for it")
        }
        var headers: [String: String] = [:]
        if let contentType = call.contentType { headers["content-type"] = contentType }
        if call.contentMD5 { headers["content-md5"] = Data(Insecure.MD5.hash(data: call.body)).base64EncodedString() }
        if let range = call.range { headers["range"] = range }
        var signable = SigV4Signer.Request(method: call.method, host: host, path: path, query: call.query, headers: headers,
                                           payloadHash: SigV4.sha256Hex(call.body))
        signer.sign(&signable, date: Date())

        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: transport.timeout)
        request.httpMethod = call.method
        for (name, value) in signable.headers { request.setValue(value, forHTTPHeaderField: name) }
        if call.method == "PUT" || call.method == "POST" {
            request.httpBody = call.body
        }
        return request
    }

    /// Removes the secrets from text an S3 server wrote (in case it echoed them).
    private func redact(_ text: String) -> String {
        var text = text
        for secret in [signer.credentials.secretAccessKey, signer.credentials.sessionToken ?? ""] where secret.count >= 4 {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }

    static func redactedEndpoint(_ endpoint: String) -> String {
        guard let at = endpoint.firstIndex(of: "@"), let schemeEnd = endpoint.range(of: "://") else { return endpoint }
        return String(endpoint[..<schemeEnd.upperBound]) + "***" + String(endpoint[at...])
    }
}

/// An S3 error answer: what was done to which object, the HTTP status, S3's Code and Message.
struct S3Failure: Error, CustomStringConvertible {
    var operation: String
    var object: String
    var status: Int
    var code: String?
    var message: String?
    var attempts = 1

    var description: String {
        var text = "S3 \(operation) of \(object) failed: HTTP \(status)"
        if let code { text += " \(code)" }
        if let message, !message.isEmpty { text += ": \(message)" }
        if let hint { text += " (\(hint))" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

    private var hint: String? {
        switch code {
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired":
            return "check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
        case "AccessDenied":
            return "the credentials may not read or write this bucket"
        case "NoSuchBucket":
            return "the bucket does not exist"
        case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
            return "the bucket may be in another region: set AWS_REGION"
        default:
            return nil
        }
    }
}

extension S3Failure {
    var storeError: StoreError { StoreError(.failed, description) }
}

/// LastModified values: `2026-11-27T02:00:00.000Z`, with or without the fraction.
private final class S3Dates {
    private let fractional: ISO8601DateFormatter
    private let plain: ISO8601DateFormatter

    init() {
        fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
    }

    func parse(_ text: String) -> Date? { fractional.date(from: text) ?? plain.date(from: text) }
}
