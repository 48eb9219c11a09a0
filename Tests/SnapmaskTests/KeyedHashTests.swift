import Crypto
import Foundation
import SnapmaskKeyedHash
import Testing
@testable import Snapmask

/// The pseudo-random function behind every transformer. Any change to its output would change
/// every fake, so it is checked against two independent HMAC implementations.
@Suite struct KeyedHashTests {
    /// KeyedHash is HMAC-SHA256(key, "snapmask/v1/<domain>\0" + message); expected digests from
    /// Python: hmac.new(key, prefix + message, hashlib.sha256).
    @Test func keyedHashMatchesPythonHMAC() throws {
        let key = Array("0123456789abcdef-test-masking-key".utf8)
        let cases: [(domain: String, message: String, digest: String)] = [
            ("email", "jane.doe@example.com", "dbbfb134d57cce3f8d05a272f5816ab079fd1634356fdbaf057e41e30ad1ba14"),
            ("hash", "Zoë 山田 🙂", "358360df870ad453aef37de5afa23d70b3670c9073a2490c66f07adfcf212a1e"),
        ]
        for (domain, message, hex) in cases {
            let digest = KeyedHash(key: key, domain: domain).digest(message)
            // The words are the digest read as big-endian 64-bit integers, so hex output is the
            // digest's own hex.
            let raw = (0..<4).flatMap { index in (0..<8).map { UInt8(truncatingIfNeeded: digest.word(index) >> UInt64(56 - $0 * 8)) } }
            #expect(digest.bytes == raw)
            #expect(raw.map { String(format: "%02x", $0) }.joined() == hex, "\(domain)")
            let bytesDigest = KeyedHash(key: key, domain: domain).digest(Array(message.utf8))
            #expect((0..<4).allSatisfy { bytesDigest.word($0) == digest.word($0) })
        }
        let maskingKey = try MaskingKey("0123456789abcdef-test-masking-key")
        #expect(maskingKey.hasher("email").digest("jane.doe@example.com").word(0) == 0xdbbf_b134_d57c_ce3f)
    }

    /// Against swift-crypto's HMAC for keys shorter than, equal to and longer than a block (a
    /// long key is hashed first), and messages whose prefixed length crosses one and two blocks.
    @Test func keyedHashMatchesSwiftCryptoHMAC() {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [16, 32, 63, 64, 65, 100, 200] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for domain in ["email", "hash", ""] {
                let hash = KeyedHash(key: key, domain: domain)
                for messageLength in [0, 1, 31, 32, 33, 40, 41, 42, 55, 56, 63, 64, 65, 119, 120, 128, 300] {
                    let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let expected = HMAC<SHA256>.authenticationCode(
                        for: Array("snapmask/v1/\(domain)\u{0}".utf8) + message, using: SymmetricKey(data: key))
                    #expect(hash.digest(message).bytes == Array(expected), "key \(keyLength) B, message \(messageLength) B")
                }
            }
        }
    }

    /// Shared by every masking thread: concurrent use must give the same digests as serial use.
    @Test func keyedHashIsSafeToShareAcrossThreads() async {
        let hash = KeyedHash(key: Array("0123456789abcdef-test-masking-key".utf8), domain: "email")
        let inputs = (0..<2_000).map { "user\($0)@example.com" }
        let serial = inputs.map { hash.digest($0).bytes }
        let concurrent = await withTaskGroup(of: (Int, [[UInt8]]).self) { group in
            for part in 0..<4 {
                group.addTask {
                    (part, stride(from: part, to: inputs.count, by: 4).map { hash.digest(inputs[$0]).bytes })
                }
            }
            var results = [[UInt8]](repeating: [], count: inputs.count)
            for await (part, digests) in group {
                for (offset, digest) in digests.enumerated() { results[part + offset * 4] = digest }
            }
            return results
        }
        #expect(concurrent == serial)
    }
}
