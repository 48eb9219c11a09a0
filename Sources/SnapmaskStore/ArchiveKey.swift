import _CryptoExtras
import Crypto
import Foundation
import Snapmask

/// The key of a store's snapshots (`SNAPMASK_ARCHIVE_KEY` or `archive_key:`). Best: 32 random
/// bytes in base64 or hex (`openssl rand -base64 32`), used as they are. Any other text of at
/// least 16 characters is a passphrase, stretched with PBKDF2-HMAC-SHA256 (600,000 iterations)
/// under a random salt each snapshot records, so a stolen bucket cannot be tried against a
/// dictionary cheaply. Shorter text is refused. Never printed.
///
/// From this one secret, HKDF-SHA256 derives separate keys per snapshot and purpose (distinct
/// info labels, the snapshot id as salt): parts and metadata are sealed with one, the manifest
/// is authenticated with another, the leak-check digests use a third. Knowing one of them tells
/// nothing about the others.
public struct ArchiveKey: Sendable, CustomStringConvertible {
    enum Material: Sendable {
        /// 32 random bytes.
        case raw([UInt8])
        /// A passphrase, as UTF-8.
        case passphrase([UInt8])
    }

    let material: Material
    private let cache = DerivationCache()

    public static let minimumPassphraseLength = 16
    /// OWASP's figure for PBKDF2-HMAC-SHA256 (2023).
    public static let passphraseIterations = 600_000
    /// What a manifest may ask for: at least the figure above (a forged manifest cannot make the
    /// key cheaper to guess), at most ten times it (nor make reading a store take hours).
    static let acceptedIterations = 600_000...6_000_000

    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: trimmed), data.count == 32 {
            material = .raw(Array(data))
        } else if trimmed.count == 64, let bytes = Self.hex(trimmed) {
            material = .raw(bytes)
        } else if trimmed.count >= Self.minimumPassphraseLength {
            material = .passphrase(Array(trimmed.utf8))
        } else {
            throw ConfigError("the archive key is too weak (\(trimmed.count) characters): use 32 random bytes in base64, made "
                                + "with `openssl rand -base64 32`, or a passphrase of at least \(Self.minimumPassphraseLength) "
                                + "characters (stretched with PBKDF2); set it as SNAPMASK_ARCHIVE_KEY in both the snapshot "
                                + "and the restore environment")
        }
    }

    public var description: String { "ArchiveKey(redacted)" }

    public var isPassphrase: Bool {
        if case .passphrase = material { return true }
        return false
    }

    /// How a new snapshot's keys are derived from this one: a fresh salt for a passphrase.
    func newDerivation() -> KeyDerivation {
        switch material {
        case .raw: return KeyDerivation(function: KeyDerivation.rawFunction, iterations: nil, salt: nil)
        case .passphrase:
            var salt = [UInt8](repeating: 0, count: 16)
            var generator = SystemRandomNumberGenerator()
            for index in salt.indices { salt[index] = UInt8.random(in: 0...255, using: &generator) }
            return KeyDerivation(function: KeyDerivation.pbkdf2Function, iterations: Self.passphraseIterations,
                                 salt: Data(salt).base64EncodedString())
        }
    }

    /// The snapshot's keys, by the derivation its manifest names. Fails (naming the snapshot)
    /// when the manifest asks for something this key cannot be, or parameters outside the bounds.
    func keys(for derivation: KeyDerivation, snapshotID: String, snapshot: String) throws -> SnapshotKeys {
        let master: SymmetricKey
        switch (material, derivation.function) {
        case let (.raw(bytes), KeyDerivation.rawFunction):
            master = SymmetricKey(data: bytes)
        case let (.passphrase(passphrase), KeyDerivation.pbkdf2Function):
            guard let iterations = derivation.iterations, Self.acceptedIterations.contains(iterations) else {
                throw SnapshotError("the manifest of snapshot \(snapshot) asks for \(derivation.iterations.map(String.init) ?? "no") "
                                        + "PBKDF2 iterations; snapmask accepts \(Self.acceptedIterations.lowerBound) to "
                                        + "\(Self.acceptedIterations.upperBound): the manifest was changed; the snapshot cannot be trusted")
            }
            guard let saltText = derivation.salt, let salt = Data(base64Encoded: saltText), (16...64).contains(salt.count) else {
                throw SnapshotError("the manifest of snapshot \(snapshot) has no usable salt for its passphrase: it was changed; "
                                        + "the snapshot cannot be trusted")
            }
            master = try cache.key(passphrase: passphrase, salt: Array(salt), iterations: iterations)
        case (.raw, KeyDerivation.pbkdf2Function):
            throw SnapshotError("snapshot \(snapshot) was made with a passphrase as archive key, but the archive key set here is "
                                    + "32 random bytes: it is not the key the snapshot was made with")
        case (.passphrase, KeyDerivation.rawFunction):
            throw SnapshotError("snapshot \(snapshot) was made with 32 random bytes as archive key, but the archive key set "
                                    + "here is a passphrase: it is not the key the snapshot was made with")
        default:
            throw SnapshotError("snapshot \(snapshot) names an unknown key derivation '\(derivation.function)': it was made by a "
                                    + "newer snapmask, or its manifest was changed")
        }
        return SnapshotKeys(master: master, snapshotID: snapshotID)
    }

    private static func hex(_ text: String) -> [UInt8]? {
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

/// How a snapshot's keys come from the archive key; recorded (and authenticated) in its manifest.
public struct KeyDerivation: Codable, Sendable, Equatable {
    static let rawFunction = "raw", pbkdf2Function = "pbkdf2-hmac-sha256"

    /// `raw` (the archive key is 32 random bytes) or `pbkdf2-hmac-sha256`.
    public var function: String
    public var iterations: Int?
    /// Base64.
    public var salt: String?
}

/// A key's bytes: swift-crypto's `SymmetricKey` is not `Sendable`, and keys cross threads here
/// (copy threads seal parts), so they travel as bytes and become a `SymmetricKey` where used.
struct KeyBytes: Sendable {
    private let bytes: [UInt8]

    init(_ key: SymmetricKey) {
        bytes = key.withUnsafeBytes { Array($0) }
    }

    var key: SymmetricKey { SymmetricKey(data: bytes) }
}

/// One snapshot's keys, each derived from the master with HKDF-SHA256 under its own label.
struct SnapshotKeys: Sendable {
    let sealing: KeyBytes
    let manifestMAC: KeyBytes
    let leakDigest: KeyBytes

    init(master: SymmetricKey, snapshotID: String) {
        func derive(_ label: String) -> KeyBytes {
            KeyBytes(HKDF<SHA256>.deriveKey(inputKeyMaterial: master, salt: Array("snapmask snapshot \(snapshotID)".utf8),
                                            info: Array("snapmask/v2/\(label)".utf8), outputByteCount: 32))
        }
        sealing = derive("part-sealing")
        manifestMAC = derive("manifest-mac")
        leakDigest = derive("leak-digest")
    }
}

/// PBKDF2 costs a noticeable fraction of a second: a listing of many snapshots made with the
/// same passphrase and salt derives once.
private final class DerivationCache: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [String: SymmetricKey] = [:]

    func key(passphrase: [UInt8], salt: [UInt8], iterations: Int) throws -> SymmetricKey {
        let index = Data(salt).base64EncodedString() + "/\(iterations)"
        if let known = lock.withLock({ keys[index] }) { return known }
        let derived = try KDF.Insecure.PBKDF2.deriveKey(from: passphrase, salt: salt, using: .sha256, outputByteCount: 32,
                                                        rounds: iterations)
        lock.withLock { keys[index] = derived }
        return derived
    }
}
