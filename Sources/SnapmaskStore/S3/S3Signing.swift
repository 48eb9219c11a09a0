import Crypto
import Foundation
import Snapmask
import SnapmaskAWS
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// From a call to a signed URLRequest: the address of the object or bucket (path-style or
/// virtual-hosted), the headers, and the Signature Version 4 of `SigV4Signer`.
extension S3Store {
    /// The encoded path and the whole URL of a request on an object (with the prefix) or the bucket.
    func address(key: String?, query: [(name: String, value: String)] = []) -> (path: String, url: String) {
        var path = basePath
        if pathStyle { path += "/" + SigV4.encodePath(bucket) }
        path += "/"
        if let key { path += SigV4.encodePath(key) }
        let queryString = SigV4.canonicalQuery(query)
        return (path, "\(scheme)://\(host)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
    }

    func makeRequest(_ call: Call) throws -> URLRequest {
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
        // Current credentials for every request: a multipart upload that outlives a set of
        // temporary credentials goes on with the renewed ones.
        let credentials: AWSCredentials
        do {
            credentials = try credentialsProvider.credentials()
        } catch {
            throw StoreError(.failed, "S3 \(call.operation) of \(call.subject(in: self)) failed: no AWS credentials from "
                                 + "\(credentialsProvider.source): \(error)")
        }
        SigV4Signer(credentials: credentials, region: region).sign(&signable, date: Date())

        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: transport.timeout)
        request.httpMethod = call.method
        for (name, value) in signable.headers { request.setValue(value, forHTTPHeaderField: name) }
        if call.method == "PUT" || call.method == "POST" {
            request.httpBody = call.body
        }
        return request
    }

    /// Removes the secrets from text an S3 server wrote (in case it echoed them): credentials
    /// register their secrets with the scrubber when they are made.
    func redact(_ text: String) -> String {
        SecretScrubber.scrub(text)
    }
}
