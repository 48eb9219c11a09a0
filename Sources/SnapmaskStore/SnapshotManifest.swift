import Crypto
import Foundation
import Snapmask

/// `manifest.json`: the plaintext face of a snapshot, written last (a folder without one is an
/// incomplete snapshot, never restorable). It holds only what `snapshot list` and `show` need
/// without the archive key: names, times, sizes, counts, the rules digest. Everything else (the
/// schema and its definition, table and column names, the part list, the leak samples) is in
/// the sealed metadata, whose digest this manifest records.
///
/// With an archive key the manifest carries an HMAC-SHA256 over all of it (`mac`), so nothing in
/// it (not the time `latest` goes by, not `encryption`) can be changed by whoever can write to
/// the store. An unencrypted snapshot has no MAC: nothing proves who wrote it.
public struct SnapshotManifest: Codable, Sendable {
    /// An object of the snapshot as written: where, how big, its SHA-256.
    public struct Object: Codable, Sendable {
        public var key: String
        public var sha256: String
        /// Bytes as stored.
        public var size: Int
        /// Bytes once decompressed.
        public var bytes: Int
    }

    public var formatVersion: Int
    /// Random, fresh for each snapshot: parts and keys are bound to it, so nothing can be moved
    /// from one snapshot to another, even to a later one of the same name.
    public var snapshotID: String
    public var name: String
    public var database: String
    public var engine: String
    public var startedAt: Date
    public var finishedAt: Date
    public var snapmaskVersion: String
    /// SHA-256 of the rule file and the override file the snapshot was made under.
    public var rulesDigest: String
    public var compression: String
    /// `aes-256-gcm`, or `none` for a snapshot made with `--unencrypted`.
    public var encryption: String
    /// How the keys come from the archive key (nil when unencrypted).
    public var keyDerivation: KeyDerivation?
    public var tables: Int
    public var rows: Int
    /// Bytes stored: every part and the metadata.
    public var size: Int
    /// The sealed metadata.
    public var metadata: Object
    /// Lowercase hex HMAC-SHA256 of the manifest without this field (see `canonicalBytes`).
    public var mac: String?

    public var encrypted: Bool { encryption != Self.noEncryption }

    static let fileName = "manifest.json"
    static let sealedWith = "aes-256-gcm", noEncryption = "none"

    /// The file as written: readable JSON, MAC included.
    func encoded() throws -> Data {
        try Self.encoder(pretty: true).encode(self)
    }

    /// The bytes the MAC covers: the manifest as a JSON object without `mac`, keys sorted, no
    /// whitespace. Whatever a reader decodes comes from these very bytes (see `decode`), so a
    /// field added, doubled or reordered by hand changes what the MAC is checked against.
    static func canonicalBytes(_ object: [String: Any]) throws -> Data {
        var object = object
        object.removeValue(forKey: "mac")
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    func signed(with keys: SnapshotKeys) throws -> SnapshotManifest {
        var unsigned = self
        unsigned.mac = nil
        guard let object = try JSONSerialization.jsonObject(with: try Self.encoder(pretty: false).encode(unsigned)) as? [String: Any] else {
            throw SnapshotError("the manifest of \(name) cannot be encoded")
        }
        var signed = unsigned
        signed.mac = Self.hex(HMAC<SHA256>.authenticationCode(for: try Self.canonicalBytes(object), using: keys.manifestMAC.key))
        return signed
    }

    /// What a stored manifest says, before any key is used: its fields (decoded from the
    /// canonical bytes), the bytes the MAC covers and the MAC it carries. Refuses what this
    /// snapmask cannot read, naming the snapshot.
    struct Unverified {
        var manifest: SnapshotManifest
        var canonical: Data
        var mac: String?

        /// Nil: the MAC verifies. Else why the manifest is not to be trusted.
        func failure(_ keys: SnapshotKeys) -> String? {
            guard let mac, let code = SnapshotManifest.bytes(hex: mac) else {
                return "its manifest has no MAC although it is encrypted: it was changed"
            }
            guard HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: canonical, using: keys.manifestMAC.key) else {
                return "its manifest does not verify with this archive key (MAC mismatch): it was changed after it was made, "
                    + "or it was made with another archive key"
            }
            return nil
        }
    }

    static func decode(_ data: Data, name: String) throws -> Unverified {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw SnapshotError("not a JSON object")
            }
            object = parsed
        } catch {
            throw SnapshotError("the manifest of snapshot \(name) is not JSON: it is damaged")
        }
        let version = (object["formatVersion"] as? NSNumber)?.intValue
        guard version == SnapshotFormat.version else {
            let told = version.map { "format version \($0)" } ?? "no format version"
            let advice = (version ?? 0) > SnapshotFormat.version
                ? "it was made by a newer snapmask: restore it with that release"
                : "it was made by an older snapmask without an authenticated manifest and cannot be trusted: make a new snapshot"
            throw SnapshotError("snapshot \(name) has \(told); snapmask \(SnapmaskVersion.current) reads format "
                                    + "\(SnapshotFormat.version) only: \(advice)")
        }
        let canonical = try canonicalBytes(object)
        do {
            var manifest = try decoder.decode(SnapshotManifest.self, from: canonical)
            manifest.mac = object["mac"] as? String
            return Unverified(manifest: manifest, canonical: canonical, mac: manifest.mac)
        } catch {
            throw SnapshotError("the manifest of snapshot \(name) cannot be read (\(Self.field(of: error))): it is damaged")
        }
    }

    /// The field a decoding error is about, without the value (which could be anything).
    private static func field(of error: Error) -> String {
        guard let error = error as? DecodingError else { return "not a manifest" }
        switch error {
        case let .keyNotFound(key, _): return "\(key.stringValue) is missing"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")) is not what it should be"
        @unknown default: return "not a manifest"
        }
    }

    static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    static func bytes(hex text: String) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}

/// The sealed part of a snapshot: what a restore needs and nobody without the archive key may
/// read. The schema definition (pg_dump text with comments, defaults and view bodies; MySQL's
/// CREATE statements; DocumentDB options), the sampled schema shape (column names, field and
/// JSON paths), the source's address, the part list and the leak samples.
public struct SnapshotMetadata: Codable, Sendable {
    public struct Part: Codable, Sendable {
        public var key: String
        public var sha256: String
        /// Bytes as stored (compressed, sealed).
        public var size: Int
        public var rows: Int
        /// Bytes of rows before compression.
        public var bytes: Int
    }

    public struct Table: Codable, Sendable {
        public var name: String
        public var rows: Int
        public var dataSkipped: Bool
        public var maskedColumns: [String]
        public var parts: [Part]
    }

    public var formatVersion: Int
    /// The manifest's: the metadata of one snapshot cannot stand in for another's.
    public var snapshotID: String
    /// The source, without credentials.
    public var source: String
    public var schema: SchemaShape
    public var definition: SchemaDefinition
    public var tables: [Table]
    /// The leak check made while masking: sampled originals never met in the masked output.
    public var leakChecks: [LeakCheckResult]
    /// What a restore compares its copy with (truncated keyed digests; empty when unencrypted).
    public var leakSamples: [LeakSampleSet]
    /// What the run that made it did to each column (sealed with the rest of the metadata).
    public var coverage: CoverageReport?

    public var rows: Int { tables.reduce(0) { $0 + $1.rows } }
}

/// A snapshot read back and trusted as far as it can be: its manifest and its metadata.
public struct Snapshot: Sendable {
    public let manifest: SnapshotManifest
    public let metadata: SnapshotMetadata

    public var name: String { manifest.name }
    public var rows: Int { manifest.rows }
    public var size: Int { manifest.size }
    public var encrypted: Bool { manifest.encrypted }
    public var tables: [SnapshotMetadata.Table] { metadata.tables }
    public var leakChecks: [LeakCheckResult] { metadata.leakChecks }
}

