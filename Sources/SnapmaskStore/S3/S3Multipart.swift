import Foundation
import Snapmask
import SnapmaskAWS

/// Objects above `multipartThreshold`: CreateMultipartUpload, UploadPart after part,
/// CompleteMultipartUpload, and AbortMultipartUpload when any step fails, so a reader never
/// sees half an object.
extension S3Store {
    func multipartUpload(_ key: String, data: Data) throws {
        // At most 10,000 parts: larger parts for (very) large objects.
        var size = max(1, partSize)
        if (data.count + size - 1) / size > Self.maximumParts {
            size = (data.count + Self.maximumParts - 1) / Self.maximumParts
        }
        let created = try send(Call(operation: "CreateMultipartUpload", method: "POST", key: key, query: [("uploads", "")],
                                    contentType: "application/octet-stream", idempotent: false))
        guard let root = AWSXMLElement.parse(created.body), let uploadID = root.value("UploadId"), !uploadID.isEmpty else {
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
            if let result = AWSXMLElement.parse(completed.body), result.name == "Error", let error = S3ErrorBody(result) {
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
        guard let root = AWSXMLElement.parse(response.body), root.name == "ListMultipartUploadsResult" else {
            throw StoreError(.failed, "S3 ListMultipartUploads in \(location) failed: the answer is not a ListMultipartUploadsResult")
        }
        return root.all("Upload").map { (key: $0.value("Key") ?? "", uploadID: $0.value("UploadId") ?? "") }
    }
}
