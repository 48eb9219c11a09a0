import Foundation
import Snapmask

/// `manifest.json`: what a snapshot holds and how to check it. Written last: a snapshot folder
/// without one is incomplete and never restorable.
public struct SnapshotManifest: Codable, Sendable {
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

    public var formatVersion = 1
    public var name: String
    public var database: String
    public var engine: String
    /// The source, without credentials.
    public var source: String
    public var startedAt: Date
    public var finishedAt: Date
    public var snapmaskVersion: String
    /// SHA-256 of the rule file and the override file the snapshot was made under.
    public var rulesDigest: String
    public var compression = "zstd"
    public var encrypted: Bool
    public var schema: SchemaShape
    public var definition: SchemaDefinition
    public var tables: [Table]
    /// The leak check made while masking: sampled originals never met in the masked output.
    public var leakChecks: [LeakCheckResult]

    public var rows: Int { tables.reduce(0) { $0 + $1.rows } }
    public var size: Int { tables.reduce(0) { $0 + $1.parts.reduce(0) { $0 + $1.size } } }

    static let fileName = "manifest.json"

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    static func decode(_ data: Data, name: String) throws -> SnapshotManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(SnapshotManifest.self, from: data)
        } catch {
            throw SnapshotError("the manifest of snapshot \(name) cannot be read: \(error)")
        }
    }
}

/// The digest that tells whether a snapshot was made under the rules in use now.
public enum RulesDigest {
    public static func of(rulesFile: String, overridesFile: String?) throws -> String {
        var material = Data()
        for path in [rulesFile, overridesFile].compactMap({ $0 }) {
            material.append(Data(path.split(separator: "/").last.map(String.init)?.utf8 ?? "".utf8))
            material.append(0)
            material.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            material.append(0)
        }
        return SHA256Hex.of(material)
    }
}
