import CLibCrypto

/// HMAC-SHA256 (RFC 2104) of `"snapmask/v1/<domain>\0" + value`, the one pseudo-random function
/// of masking.
///
/// The inner and outer SHA-256 states after their padded-key blocks (and the inner one after the
/// domain prefix) are prepared once. A value then costs two copies of a plain C struct and two
/// single-block hashes, with no allocation: masking calls this once per masked value, and with
/// heap-held digest contexts the bookkeeping cost three times the hashing itself.
public struct KeyedHash: @unchecked Sendable {
    // Immutable after init and copied before every use, so sharing across threads is safe.
    private let inner: SHA256_CTX
    private let outer: SHA256_CTX

    public init(key: [UInt8], domain: String) {
        var block = key
        if block.count > 64 {
            block = [UInt8](repeating: 0, count: 32)
            key.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &block) }
        }
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256_CTX()
        SHA256_Init(&inner)
        SHA256_Update(&inner, block.map { $0 ^ 0x36 }, 64)
        let prefix = Array("snapmask/v1/\(domain)\u{0}".utf8)
        SHA256_Update(&inner, prefix, prefix.count)
        var outer = SHA256_CTX()
        SHA256_Init(&outer)
        SHA256_Update(&outer, block.map { $0 ^ 0x5c }, 64)
        self.inner = inner
        self.outer = outer
    }

    public func digest(_ input: String) -> HashBytes {
        var input = input
        return input.withUTF8 { digest(UnsafeRawBufferPointer($0)) }
    }

    public func digest(_ input: some Collection<UInt8>) -> HashBytes {
        Array(input).withUnsafeBytes { digest($0) }
    }

    public func digest(_ input: UnsafeRawBufferPointer) -> HashBytes {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { mac in
            let out = mac.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var state = inner
            SHA256_Update(&state, input.baseAddress, input.count)
            SHA256_Final(out, &state)
            var outerState = outer
            SHA256_Update(&outerState, out, 32)
            SHA256_Final(out, &outerState)
        }
        return HashBytes(words: (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1),
                                 UInt64(bigEndian: words.2), UInt64(bigEndian: words.3)))
    }
}

/// The 256 bits of one HMAC, read as four big-endian 64-bit words (so the words in order are the
/// digest's bytes in order).
@frozen
public struct HashBytes: Sendable {
    public let words: (UInt64, UInt64, UInt64, UInt64)

    @inlinable
    public init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    @inlinable
    public func word(_ index: Int) -> UInt64 {
        switch index & 3 {
        case 0: return words.0
        case 1: return words.1
        case 2: return words.2
        default: return words.3
        }
    }

    /// The 32 bytes in digest order (for UUIDs).
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(32)
        for index in 0..<4 {
            let value = word(index)
            for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return result
    }
}
