import Foundation

/// Where snapshots live: a local folder or an S3-compatible bucket. Keys are relative paths
/// such as `app-20261127T020000Z/manifest.json`. An object becomes visible whole or not at all.
public protocol ObjectStore: Sendable {
    /// The store's location for messages (never with credentials).
    var location: String { get }
    func put(_ key: String, data: Data) throws
    /// Throws `StoreError.notFound` when there is no such object.
    func get(_ key: String) throws -> Data
    /// The object if it holds at most `maxBytes`; a larger one is refused (`StoreError.tooLarge`)
    /// without being read whole. Whatever is read from an untrusted store goes through this.
    func get(_ key: String, maxBytes: Int) throws -> Data
    /// Every object whose key starts with `prefix`, in key order.
    func list(prefix: String) throws -> [StoredObject]
    /// Removes the objects; keys that do not exist are ignored.
    func delete(_ keys: [String]) throws
}

public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var size: Int
    public var modified: Date?

    public init(key: String, size: Int, modified: Date?) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case notFound
        case failed
        /// Larger than the reader accepts.
        case tooLarge
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func notFound(_ key: String, in store: String) -> StoreError {
        StoreError(.notFound, "\(key) does not exist in \(store)")
    }

    public static func tooLarge(_ key: String, in store: String, limit: Int) -> StoreError {
        StoreError(.tooLarge, "\(key) in \(store) is larger than the \(limit) bytes snapmask reads of it: it was not written "
                       + "by snapmask, or it was changed; it was not read")
    }

    public var description: String { message }
}
