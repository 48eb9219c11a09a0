import Foundation
import Snapmask

/// The snapshots of a store: complete ones (with a manifest) and incomplete leftovers.
public struct SnapshotCatalog: Sendable {
    public struct Entry: Sendable {
        public var name: String
        /// Nil for an incomplete snapshot (no manifest: interrupted, never restorable).
        public var manifest: SnapshotManifest?
        public var storedBytes: Int
        public var modified: Date?

        public var isComplete: Bool { manifest != nil }
        public var created: Date? { manifest?.finishedAt ?? modified }
    }

    public let store: any ObjectStore

    public init(store: any ObjectStore) {
        self.store = store
    }

    /// Opens the store a job file names: `file:///path`, `/path` or `s3://bucket/prefix`.
    public static func store(for location: String, environment: [String: String]) throws -> any ObjectStore {
        if location.hasPrefix("s3://") { return try S3Store.fromEnvironment(url: location, environment: environment) }
        if location.hasPrefix("file://") { return LocalStore(path: String(location.dropFirst("file://".count))) }
        if location.hasPrefix("/") { return LocalStore(path: location) }
        throw ConfigError("store must be file:///path, /path or s3://bucket/prefix")
    }

    /// Every snapshot, newest first; manifests are read for the complete ones.
    public func entries() throws -> [Entry] {
        var byName: [String: [StoredObject]] = [:]
        for object in try store.list(prefix: "") {
            guard let slash = object.key.firstIndex(of: "/") else { continue }
            byName[String(object.key[..<slash]), default: []].append(object)
        }
        var entries: [Entry] = []
        for (name, objects) in byName {
            let hasManifest = objects.contains { $0.key == "\(name)/\(SnapshotManifest.fileName)" }
            let manifest = hasManifest ? try SnapshotManifest.decode(try store.get("\(name)/\(SnapshotManifest.fileName)"), name: name) : nil
            entries.append(Entry(name: name, manifest: manifest, storedBytes: objects.reduce(0) { $0 + $1.size },
                                 modified: objects.compactMap(\.modified).max()))
        }
        return entries.sorted { ($0.created ?? .distantPast, $0.name) > ($1.created ?? .distantPast, $1.name) }
    }

    /// A complete snapshot by name, or the newest of a database for `latest`.
    public func manifest(named name: String, database: String?) throws -> SnapshotManifest {
        if name == "latest" {
            let complete = try entries().compactMap(\.manifest).filter { database == nil || $0.database == database }
            guard let newest = complete.first else {
                throw SnapshotError("no complete snapshot\(database.map { " of \($0)" } ?? "") in \(store.location); "
                                        + "make one with `snapmask snapshot create`")
            }
            return newest
        }
        do {
            return try SnapshotManifest.decode(try store.get("\(name)/\(SnapshotManifest.fileName)"), name: name)
        } catch let error as StoreError where error.kind == .notFound {
            let exists = try !store.list(prefix: "\(name)/").isEmpty
            throw SnapshotError(exists
                ? "snapshot \(name) in \(store.location) is incomplete (it has no manifest: its creation did not finish); it cannot be restored"
                : "there is no snapshot \(name) in \(store.location); `snapmask snapshot list` shows them")
        }
    }

    public func delete(_ name: String) throws {
        let objects = try store.list(prefix: "\(name)/")
        guard !objects.isEmpty else { throw SnapshotError("there is no snapshot \(name) in \(store.location)") }
        // The manifest goes first, so a half-deleted snapshot is never taken for a complete one.
        let manifest = "\(name)/\(SnapshotManifest.fileName)"
        try store.delete(objects.map(\.key).filter { $0 == manifest })
        try store.delete(objects.map(\.key).filter { $0 != manifest })
    }

    /// What `prune` removes: beyond the `keepLast` newest complete snapshots of each database,
    /// those older than `olderThan`; incomplete snapshots older than `olderThan` too.
    public func pruneCandidates(keepLast: Int, olderThan: TimeInterval, now: Date = Date()) throws -> [Entry] {
        let cutoff = now.addingTimeInterval(-olderThan)
        var kept: [String: Int] = [:]
        var candidates: [Entry] = []
        for entry in try entries() {
            guard let manifest = entry.manifest else {
                if (entry.modified ?? .distantPast) < cutoff { candidates.append(entry) }
                continue
            }
            let rank = kept[manifest.database, default: 0]
            kept[manifest.database] = rank + 1
            if rank >= keepLast && manifest.finishedAt < cutoff { candidates.append(entry) }
        }
        return candidates
    }
}

/// `30d`, `12h`, `90m`, `2w` → seconds.
public enum DurationText {
    public static func seconds(_ text: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last, let multiplier = units[unit], let value = Double(text.dropLast()), value >= 0 else {
            throw ConfigError("'\(text)' is not a duration: write a number and a unit, e.g. 30d, 12h, 90m, 2w")
        }
        return value * multiplier
    }
}
