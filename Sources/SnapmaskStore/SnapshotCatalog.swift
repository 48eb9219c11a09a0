import Foundation
import Snapmask

/// The snapshots of a store and how far each can be trusted. The store is not trusted: whoever
/// can write to it can add folders, edit manifests and swap parts. A snapshot is used only when
/// its manifest verifies under the archive key (or, being unencrypted, when the operator says
/// so), and one bad manifest never stops the others from being listed, pruned or restored.
public struct SnapshotCatalog: Sendable {
    /// How far a snapshot's manifest can be believed.
    public enum Trust: Sendable, Equatable {
        /// Its MAC verifies under the archive key.
        case verified
        /// Made with `--unencrypted`: no MAC, so nothing proves who wrote it.
        case unencrypted
        /// Encrypted, but no archive key is set here to check it.
        case unverified
        /// Unreadable, of another format, or its MAC does not verify: never used.
        case untrusted(String)
        /// No manifest (being written, or an interrupted create): never restorable.
        case incomplete

        public var label: String {
            switch self {
            case .verified: return "verified"
            case .unencrypted: return "unsigned"
            case .unverified: return "not checked (no key)"
            case .untrusted: return "UNTRUSTED"
            case .incomplete: return "-"
            }
        }
    }

    public struct Entry: Sendable {
        public var name: String
        /// The manifest as stored, whatever its trust (nil: none, or unreadable). Believe its
        /// fields only when `trust` is `.verified` (or `.unencrypted` and you trust the writers).
        public var manifest: SnapshotManifest?
        public var trust: Trust
        public var storedBytes: Int
        /// The newest object's time, by the store's clock.
        public var modified: Date?
        /// When the writer's lease was last renewed (the store's clock), if there is one.
        public var leaseRenewed: Date?

        public var isComplete: Bool { trust != .incomplete }
        /// The creation time to sort by: the manifest's when it can be believed, else the store's.
        public var created: Date? {
            switch trust {
            case .verified, .unencrypted, .unverified: return manifest?.finishedAt ?? modified
            default: return modified
            }
        }

        /// Why this snapshot is not used, for a warning; nil when it can be.
        public var problem: String? {
            switch trust {
            case let .untrusted(reason): return "snapshot \(name) is skipped: \(reason)"
            case .unverified:
                return "snapshot \(name) is encrypted and no archive key is set here: it cannot be verified or restored "
                    + "(set SNAPMASK_ARCHIVE_KEY)"
            default: return nil
            }
        }
    }

    public let store: any ObjectStore
    public let archiveKey: ArchiveKey?

    public init(store: any ObjectStore, archiveKey: ArchiveKey? = nil) {
        self.store = store
        self.archiveKey = archiveKey
    }

    /// Opens the store a job file names: `file:///path`, `/path` or `s3://bucket/prefix`.
    public static func store(for location: String, environment: [String: String]) throws -> any ObjectStore {
        if location.hasPrefix("s3://") { return try S3Store.fromEnvironment(url: location, environment: environment) }
        if location.hasPrefix("file://") { return LocalStore(path: String(location.dropFirst("file://".count))) }
        if location.hasPrefix("/") { return LocalStore(path: location) }
        throw ConfigError("store must be file:///path, /path or s3://bucket/prefix")
    }

    /// Every snapshot, newest first, each with its trust. Fails only when the store cannot be
    /// listed; a folder whose name is not a snapshot name is left out.
    public func entries() throws -> [Entry] {
        var byName: [String: [StoredObject]] = [:]
        for object in try store.list(prefix: "") {
            guard let slash = object.key.firstIndex(of: "/") else { continue }
            byName[String(object.key[..<slash]), default: []].append(object)
        }
        var entries: [Entry] = []
        for (name, objects) in byName where SnapshotName.isValid(name) {
            let manifestObject = objects.first { $0.key == "\(name)/\(SnapshotManifest.fileName)" }
            let lease = objects.first { $0.key == SnapshotLease.key(name) }
            var entry = Entry(name: name, manifest: nil, trust: .incomplete, storedBytes: objects.reduce(0) { $0 + $1.size },
                              modified: objects.compactMap(\.modified).max(), leaseRenewed: lease?.modified)
            if let manifestObject {
                do {
                    let (manifest, trust) = try read(name, size: manifestObject.size)
                    entry.manifest = manifest
                    entry.trust = trust
                } catch {
                    entry.trust = .untrusted("\(error)")
                }
            }
            entries.append(entry)
        }
        return entries.sorted { ($0.created ?? .distantPast, $0.name) > ($1.created ?? .distantPast, $1.name) }
    }

    /// Reads and checks one manifest: how far it can be trusted. Throws when it cannot be read.
    private func read(_ name: String, size: Int?) throws -> (SnapshotManifest, Trust) {
        if let size, size > SnapshotFormat.manifestLimit {
            throw SnapshotError("its manifest is \(size) bytes, more than the \(SnapshotFormat.manifestLimit) a manifest may be: "
                                    + "it was not written by snapmask")
        }
        let data = try store.get("\(name)/\(SnapshotManifest.fileName)", maxBytes: SnapshotFormat.manifestLimit)
        let unverified = try SnapshotManifest.decode(data, name: name)
        let manifest = unverified.manifest
        guard manifest.name == name else {
            throw SnapshotError("its manifest names snapshot \(SnapshotName.printable(manifest.name)), not \(name): it was copied "
                                    + "from another folder")
        }
        guard manifest.encrypted else {
            guard manifest.encryption == SnapshotManifest.noEncryption else {
                throw SnapshotError("its manifest names an unknown encryption '\(manifest.encryption)'")
            }
            return (manifest, .unencrypted)
        }
        guard manifest.encryption == SnapshotManifest.sealedWith, let derivation = manifest.keyDerivation else {
            throw SnapshotError("its manifest names an unknown encryption '\(manifest.encryption)' or no key derivation")
        }
        guard let archiveKey else { return (manifest, .unverified) }
        let keys = try archiveKey.keys(for: derivation, snapshotID: manifest.snapshotID, snapshot: name)
        if let failure = unverified.failure(keys) { return (manifest, .untrusted(failure)) }
        return (manifest, .verified)
    }

    /// One snapshot's manifest and trust, for `show`: by name, or `latest` (the newest verified
    /// one; without any, the newest that is not untrusted). Throws when it does not exist or cannot
    /// be read at all.
    public func inspect(named name: String) throws -> (manifest: SnapshotManifest, trust: Trust) {
        if name == "latest" {
            let entries = try entries().filter { $0.isComplete && $0.manifest != nil }
            guard let entry = entries.first(where: { $0.trust == .verified }) ?? entries.first(where: {
                if case .untrusted = $0.trust { return false }
                return true
            }), let manifest = entry.manifest else {
                throw SnapshotError("no complete snapshot that can be trusted in \(store.location)")
            }
            return (manifest, entry.trust)
        }
        try SnapshotName.validate(name)
        do {
            return try read(name, size: nil)
        } catch let error as StoreError where error.kind == .notFound {
            throw SnapshotError("there is no complete snapshot \(name) in \(store.location); `snapmask snapshot list --all` shows them")
        } catch let error as SnapshotError {
            throw SnapshotError("snapshot \(name) in \(store.location) cannot be trusted: \(error.message)")
        } catch let error as StoreError {
            throw SnapshotError("snapshot \(name) in \(store.location) cannot be trusted: \(error.message)")
        }
    }

    /// The sealed metadata of a manifest `inspect` returned as verified (or unencrypted).
    public func metadata(of manifest: SnapshotManifest) throws -> Snapshot {
        try open(manifest)
    }

    /// The snapshot a restore may use, by name or `latest` (the newest of `database` whose
    /// manifest verifies; unencrypted ones count only with `allowUnencrypted`). Snapshots
    /// skipped on the way are passed to `warn`. Its metadata is read and checked too.
    public func open(named name: String, database: String?, allowUnencrypted: Bool = false,
                     warn: (String) -> Void = { _ in }) throws -> Snapshot {
        let manifest = try restorableManifest(named: name, database: database, allowUnencrypted: allowUnencrypted, warn: warn)
        return try open(manifest)
    }

    func restorableManifest(named name: String, database: String?, allowUnencrypted: Bool,
                            warn: (String) -> Void) throws -> SnapshotManifest {
        if name == "latest" {
            var skipped = 0
            var newest: SnapshotManifest?
            for entry in try entries() where entry.isComplete {
                // A manifest that cannot be believed could claim any database: warn about them all.
                let claimed = entry.manifest?.database
                switch entry.trust {
                case .verified where database == nil || claimed == database:
                    if newest == nil { newest = entry.manifest }
                case .unencrypted where database == nil || claimed == database:
                    if allowUnencrypted {
                        if newest == nil { newest = entry.manifest }
                    } else {
                        skipped += 1
                        warn("snapshot \(entry.name) is skipped: it is not encrypted, so nothing proves snapmask wrote it; "
                                 + "restore unencrypted snapshots only with --allow-unencrypted")
                    }
                case .untrusted, .unverified:
                    skipped += 1
                    warn(entry.problem ?? "snapshot \(entry.name) is skipped")
                default: continue
                }
            }
            guard let newest else {
                throw SnapshotError("no complete snapshot\(database.map { " of \($0)" } ?? "") that can be trusted in "
                                        + "\(store.location)\(skipped > 0 ? " (\(skipped) skipped, see the warnings)" : ""); "
                                        + "make one with `snapmask snapshot create`")
            }
            return newest
        }
        try SnapshotName.validate(name)
        let manifest: SnapshotManifest, trust: Trust
        do {
            (manifest, trust) = try read(name, size: nil)
        } catch let error as StoreError where error.kind == .notFound {
            let exists = try !store.list(prefix: "\(name)/").isEmpty
            throw SnapshotError(exists
                ? "snapshot \(name) in \(store.location) is incomplete (it has no manifest: its creation did not finish or is "
                    + "still going on); it cannot be restored"
                : "there is no snapshot \(name) in \(store.location); `snapmask snapshot list` shows them")
        } catch let error as StoreError where error.kind == .tooLarge {
            throw SnapshotError("snapshot \(name) in \(store.location) cannot be trusted: \(error)")
        } catch let error as SnapshotError {
            throw SnapshotError("snapshot \(name) in \(store.location) cannot be trusted: \(error.message)")
        }
        switch trust {
        case .verified: return manifest
        case .unencrypted where allowUnencrypted: return manifest
        case .unencrypted:
            throw SnapshotError("snapshot \(name) in \(store.location) is not encrypted, so nothing proves snapmask wrote it: "
                                    + "anyone who can write to the store could have. Restore it only if you trust every "
                                    + "writer of the store, with --allow-unencrypted; better, make an encrypted one")
        case .unverified:
            throw SnapshotError("snapshot \(name) is encrypted: set SNAPMASK_ARCHIVE_KEY (or archive_key: in the job file) to "
                                    + "the key it was made with")
        case let .untrusted(reason):
            throw SnapshotError("snapshot \(name) in \(store.location) cannot be trusted: \(reason); it is not restored. "
                                    + "Restore another one (`snapmask snapshot list`), or make a new one")
        case .incomplete:
            throw SnapshotError("snapshot \(name) in \(store.location) is incomplete; it cannot be restored")
        }
    }

    /// Reads the sealed metadata of a trusted (or explicitly allowed) manifest and checks it
    /// belongs to it.
    func open(_ manifest: SnapshotManifest) throws -> Snapshot {
        let keys = try self.keys(of: manifest)
        let object = manifest.metadata
        guard object.key == "\(manifest.name)/\(SnapshotMetadataFile.name(encrypted: manifest.encrypted))" else {
            throw SnapshotError("snapshot \(manifest.name) names its metadata \(object.key), which is not where snapmask writes it")
        }
        let bytes = try SnapshotObjects.read(object.key, size: object.size, sha256: object.sha256, bytes: object.bytes,
                                             limit: SnapshotFormat.metadataLimit, store: store, key: keys?.sealing,
                                             context: SnapshotFormat.metadataContext(snapshotID: manifest.snapshotID),
                                             what: "the metadata of snapshot \(manifest.name)")
        let metadata: SnapshotMetadata
        do {
            metadata = try SnapshotManifest.decoder.decode(SnapshotMetadata.self, from: Data(bytes))
        } catch {
            throw SnapshotError("the metadata of snapshot \(manifest.name) cannot be read: it is damaged")
        }
        guard metadata.formatVersion == SnapshotFormat.version, metadata.snapshotID == manifest.snapshotID,
              metadata.tables.count == manifest.tables, metadata.rows == manifest.rows else {
            throw SnapshotError("the metadata of snapshot \(manifest.name) does not belong to its manifest (another snapshot's, "
                                    + "or changed); it cannot be restored")
        }
        let prefix = "\(manifest.name)/parts/"
        for table in metadata.tables {
            for part in table.parts where !part.key.hasPrefix(prefix) || part.key.contains("/../") {
                throw SnapshotError("the metadata of snapshot \(manifest.name) points outside it (\(part.key)); it cannot be restored")
            }
        }
        return Snapshot(manifest: manifest, metadata: metadata)
    }

    func keys(of manifest: SnapshotManifest) throws -> SnapshotKeys? {
        guard manifest.encrypted, let derivation = manifest.keyDerivation else { return nil }
        guard let archiveKey else {
            throw SnapshotError("snapshot \(manifest.name) is encrypted: set SNAPMASK_ARCHIVE_KEY (or archive_key: in the job file)")
        }
        return try archiveKey.keys(for: derivation, snapshotID: manifest.snapshotID, snapshot: manifest.name)
    }

    public func delete(_ name: String) throws {
        try SnapshotName.validate(name)
        let objects = try store.list(prefix: "\(name)/")
        guard !objects.isEmpty else { throw SnapshotError("there is no snapshot \(name) in \(store.location)") }
        // The manifest goes first, so a half-deleted snapshot is never taken for a complete one.
        let manifest = "\(name)/\(SnapshotManifest.fileName)"
        try store.delete(objects.map(\.key).filter { $0 == manifest })
        try store.delete(objects.map(\.key).filter { $0 != manifest })
    }

    /// What `prune` deletes, and what it leaves alone and why.
    public struct PrunePlan: Sendable {
        public var candidates: [Entry] = []
        public var skipped: [(name: String, reason: String)] = []
    }

    public static let defaultGrace: TimeInterval = 6 * 3600

    /// Beyond the `keepLast` newest trusted snapshots of each database, those older than
    /// `olderThan`; incomplete leftovers older than `olderThan` too. Never a snapshot whose
    /// objects are younger than `grace` (by the store's clock), nor one whose writer's lease is
    /// live: a create in progress is not an abandoned one. Snapshots that cannot be trusted are
    /// neither counted nor deleted: a forged manifest must not push real snapshots out.
    /// Unencrypted snapshots count only in a store used without an archive key.
    public func prunePlan(keepLast: Int, olderThan: TimeInterval, grace: TimeInterval = SnapshotCatalog.defaultGrace,
                          now: Date = Date()) throws -> PrunePlan {
        let cutoff = now.addingTimeInterval(-olderThan)
        let settled = now.addingTimeInterval(-grace)
        var plan = PrunePlan()
        var kept: [String: Int] = [:]
        let entries = try entries().sorted { ($0.manifest?.finishedAt ?? $0.modified ?? .distantPast) > ($1.manifest?.finishedAt ?? $1.modified ?? .distantPast) }
        for entry in entries {
            let candidate: Bool
            switch entry.trust {
            case .incomplete:
                candidate = (entry.modified ?? .distantPast) < cutoff
            case .verified, .unencrypted:
                if case .unencrypted = entry.trust, archiveKey != nil {
                    plan.skipped.append((entry.name, "it is not encrypted while this store's snapshots are: it is neither "
                                            + "counted nor deleted; delete it by hand if it is yours"))
                    continue
                }
                guard let manifest = entry.manifest else { continue }
                let rank = kept[manifest.database, default: 0]
                kept[manifest.database] = rank + 1
                candidate = rank >= keepLast && manifest.finishedAt < cutoff
            case .unverified:
                plan.skipped.append((entry.name, "it is encrypted and no archive key is set here, so it cannot be verified"))
                continue
            case let .untrusted(reason):
                plan.skipped.append((entry.name, reason))
                continue
            }
            guard candidate else { continue }
            if SnapshotLease.isLive(written: entry.leaseRenewed, now: now) {
                plan.skipped.append((entry.name, "it is being written (its writer renewed its lease at "
                                        + "\(ISO8601DateFormatter().string(from: entry.leaseRenewed!)))"))
            } else if (entry.modified ?? .distantPast) > settled {
                plan.skipped.append((entry.name, "it was written less than \(Int(grace / 60)) minutes ago (grace period)"))
            } else {
                plan.candidates.append(entry)
            }
        }
        return plan
    }
}

/// Where a snapshot's sealed metadata is.
enum SnapshotMetadataFile {
    static func name(encrypted: Bool) -> String { encrypted ? "metadata.zst.aes" : "metadata.zst" }
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
