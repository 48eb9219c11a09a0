import Crypto
import CZstd
import Foundation
import Snapmask

/// The key that seals snapshot parts (AES-256-GCM). Written as 32 random bytes in base64 or hex
/// (`openssl rand -base64 32`); any other text is a passphrase stretched with HKDF-SHA256.
public struct ArchiveKey: Sendable, CustomStringConvertible {
    let bytes: [UInt8]

    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let data = Data(base64Encoded: trimmed), data.count == 32 {
            bytes = Array(data)
        } else if trimmed.count == 64, let data = Self.hex(trimmed) {
            bytes = data
        } else if trimmed.utf8.count >= 16 {
            let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Array(trimmed.utf8)),
                                                 salt: Array("snapmask archive key".utf8), info: [], outputByteCount: 32)
            bytes = derived.withUnsafeBytes { Array($0) }
        } else {
            throw ConfigError("the archive key is too short: use 32 random bytes in base64 (openssl rand -base64 32)")
        }
    }

    public var description: String { "ArchiveKey(redacted)" }

    var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }

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

/// A part as stored: zstd-compressed, then (with an archive key) sealed with AES-256-GCM under a
/// fresh random nonce. GCM's tag makes a wrong key or a changed byte fail loudly; the SHA-256 in
/// the manifest is checked before anything else, so damage is named even without a key.
enum PartCodec {
    static let compressionLevel: Int32 = 3

    static func encode(_ data: [UInt8], key: ArchiveKey?) throws -> Data {
        let capacity = ZSTD_compressBound(data.count)
        var compressed = [UInt8](repeating: 0, count: capacity)
        let size = data.withUnsafeBytes { source in
            compressed.withUnsafeMutableBytes { destination in
                ZSTD_compress(destination.baseAddress, capacity, source.baseAddress, data.count, compressionLevel)
            }
        }
        guard ZSTD_isError(size) == 0 else {
            throw SnapshotError("compressing a part failed: \(String(cString: ZSTD_getErrorName(size)))")
        }
        compressed.removeSubrange(size...)
        guard let key else { return Data(compressed) }
        let sealed = try AES.GCM.seal(compressed, using: key.symmetricKey, nonce: AES.GCM.Nonce())
        return sealed.combined!
    }

    static func decode(_ stored: Data, key: ArchiveKey?, encrypted: Bool, part: String) throws -> [UInt8] {
        var compressed = stored
        if encrypted {
            guard let key else {
                throw SnapshotError("the snapshot is encrypted: set SNAPMASK_ARCHIVE_KEY (or archive_key in the job file) to the key it was made with")
            }
            do {
                compressed = try AES.GCM.open(try AES.GCM.SealedBox(combined: stored), using: key.symmetricKey)
            } catch {
                throw SnapshotError("part \(part) cannot be opened with this archive key: the key is not the one the snapshot was made with")
            }
        }
        return try compressed.withUnsafeBytes { source -> [UInt8] in
            let size = ZSTD_getFrameContentSize(source.baseAddress, source.count)
            // ZSTD_CONTENTSIZE_ERROR and _UNKNOWN are the two largest values.
            guard size < 1 << 34 else {
                throw SnapshotError("part \(part) is not a zstd frame: it is damaged")
            }
            var output = [UInt8](repeating: 0, count: Int(size))
            let written = output.withUnsafeMutableBytes { destination in
                ZSTD_decompress(destination.baseAddress, destination.count, source.baseAddress, source.count)
            }
            guard ZSTD_isError(written) == 0, written == Int(size) else {
                throw SnapshotError("part \(part) does not decompress: it is damaged")
            }
            return output
        }
    }
}

/// A snapshot that cannot be made, read or trusted; the message names the snapshot or part.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
