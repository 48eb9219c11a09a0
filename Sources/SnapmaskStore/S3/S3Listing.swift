import Foundation
import Snapmask
import SnapmaskAWS

/// Listing a prefix: ListObjectsV2, page after page (`listPageSize` keys each) until the last.
extension S3Store {
    func listObjects(_ listPrefix: String) throws -> [StoredObject] {
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
            guard let root = AWSXMLElement.parse(response.body), root.name == "ListBucketResult" else {
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
