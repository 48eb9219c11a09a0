import Foundation
import SnapmaskStore

/// A store that stops before writing a manifest until released, and can lose objects right
/// after they are written: to race prune against create, and to lose a part behind its back.
final class GatedStore: ObjectStore, @unchecked Sendable {
    let inner: any ObjectStore
    let reachedManifest = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    let gateManifest: Bool
    /// Objects whose key matches are deleted right after being written.
    let lose: (@Sendable (String) -> Bool)?

    init(_ inner: any ObjectStore, gateManifest: Bool = true, lose: (@Sendable (String) -> Bool)? = nil) {
        self.inner = inner
        self.gateManifest = gateManifest
        self.lose = lose
    }

    var location: String { inner.location }

    func put(_ key: String, data: Data) throws {
        if gateManifest && key.hasSuffix("/manifest.json") {
            reachedManifest.signal()
            release.wait()
        }
        try inner.put(key, data: data)
        if lose?(key) == true { try inner.delete([key]) }
    }

    func get(_ key: String) throws -> Data { try inner.get(key) }
    func get(_ key: String, maxBytes: Int) throws -> Data { try inner.get(key, maxBytes: maxBytes) }
    func list(prefix: String) throws -> [StoredObject] { try inner.list(prefix: prefix) }
    func delete(_ keys: [String]) throws { try inner.delete(keys) }
}
