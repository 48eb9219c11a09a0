import Crypto
import CZstd
import Foundation
import Snapmask

/// The format of snapshots this snapmask writes and reads, and the bounds it holds anything read
/// from a store to: the store is not trusted, so no number in it decides how much is allocated.
public enum SnapshotFormat {
    /// 2: authenticated manifest, sealed metadata, parts bound to their place.
    public static let version = 2

    /// `manifest.json` holds names, times and counts only.
    public static let manifestLimit = 1 << 20
    /// The sealed metadata: schema, definition, part list, leak samples.
    public static let metadataLimit = 64 << 20
    /// One part, stored or decompressed (the writer aims at 16 MiB).
    public static let partLimit = 64 << 20

    /// Associated data of a part's seal: it opens only as this part of this table of this snapshot.
    static func partContext(snapshotID: String, table: String, index: Int) -> [UInt8] {
        context(["snapmask-part", String(version), snapshotID, table, String(index)])
    }

    static func metadataContext(snapshotID: String) -> [UInt8] {
        context(["snapmask-metadata", String(version), snapshotID])
    }

    /// Length-prefixed fields, so no two different lists give the same bytes.
    private static func context(_ fields: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for field in fields {
            let utf8 = Array(field.utf8)
            let count = UInt32(utf8.count)
            bytes += [UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            bytes += utf8
        }
        return bytes
    }
}

/// A part as stored: zstd-compressed, then (with an archive key) sealed with AES-256-GCM under a
/// fresh random nonce and the part's place as associated data. GCM's tag makes a wrong key, a
/// changed byte or a part moved from elsewhere fail loudly; the SHA-256 the metadata records is
/// checked before anything else, so damage is named even in an unencrypted snapshot.
enum PartCodec {
    static let compressionLevel: Int32 = 3

    static func encode(_ data: [UInt8], key: SymmetricKey?, context: [UInt8]) throws -> Data {
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
        let sealed = try AES.GCM.seal(compressed, using: key, nonce: AES.GCM.Nonce(), authenticating: context)
        return sealed.combined!
    }

    /// Opens and decompresses one part. `expectedBytes`: its size before compression, as the
    /// metadata records it; the zstd header must declare exactly that, and neither may exceed
    /// `limit`, so a forged header cannot make the restore allocate more.
    static func decode(_ stored: Data, key: SymmetricKey?, context: [UInt8], expectedBytes: Int, limit: Int,
                       what: String) throws -> [UInt8] {
        var compressed = stored
        if let key {
            do {
                compressed = try AES.GCM.open(try AES.GCM.SealedBox(combined: stored), using: key, authenticating: context)
            } catch {
                throw SnapshotError("\(what) cannot be opened: it was sealed for another place (moved from another table "
                                        + "or snapshot) or changed; the snapshot cannot be restored")
            }
        }
        return try compressed.withUnsafeBytes { source -> [UInt8] in
            let declared = ZSTD_getFrameContentSize(source.baseAddress, source.count)
            // ZSTD_CONTENTSIZE_ERROR and _UNKNOWN are the two largest values: neither is a size we wrote.
            guard declared < UInt64.max - 1 else {
                throw SnapshotError("\(what) is not a zstd frame with its size: it is damaged")
            }
            guard declared <= UInt64(limit) else {
                throw SnapshotError("\(what) declares \(declared) bytes once decompressed, more than the \(limit) bytes "
                                        + "snapmask reads of one part: it was forged or damaged; nothing was allocated for it")
            }
            guard declared == UInt64(expectedBytes) else {
                throw SnapshotError("\(what) declares \(declared) bytes once decompressed, but the snapshot records "
                                        + "\(expectedBytes): it was changed or damaged")
            }
            var output = [UInt8](repeating: 0, count: Int(declared))
            let written = output.withUnsafeMutableBytes { destination in
                ZSTD_decompress(destination.baseAddress, destination.count, source.baseAddress, source.count)
            }
            guard ZSTD_isError(written) == 0, written == Int(declared) else {
                throw SnapshotError("\(what) does not decompress: it is damaged")
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
