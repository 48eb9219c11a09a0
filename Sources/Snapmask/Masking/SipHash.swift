/// SipHash-2-4, the keyed PRF used inside the format-preserving permutations: dozens of rounds
/// per value would cost microseconds with HMAC-SHA256, a few nanoseconds with SipHash. Its key is
/// itself derived from the masking key with HMAC-SHA256 (`MaskingKey.sipKey`).
enum SipHash {
    struct Key: Sendable, Hashable {
        var k0: UInt64
        var k1: UInt64
    }

    @inline(__always)
    fileprivate static func round(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
        v0 &+= v1; v1 = v1.rotated(13); v1 ^= v0; v0 = v0.rotated(32)
        v2 &+= v3; v3 = v3.rotated(16); v3 ^= v2
        v0 &+= v3; v3 = v3.rotated(21); v3 ^= v0
        v2 &+= v1; v1 = v1.rotated(17); v1 ^= v2; v2 = v2.rotated(32)
    }

    /// SipHash-2-4 of a message of two 64-bit little-endian words.
    static func hash(key: Key, _ a: UInt64, _ b: UInt64) -> UInt64 {
        var state = State(key)
        state.absorb(a)
        state.absorb(b)
        return state.finish(byteCount: 16)
    }

    /// SipHash-2-4 of a message of four 64-bit little-endian words.
    static func hash(key: Key, _ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> UInt64 {
        var state = State(key)
        state.absorb(a)
        state.absorb(b)
        state.absorb(c)
        state.absorb(d)
        return state.finish(byteCount: 32)
    }

    private struct State {
        var v0, v1, v2, v3: UInt64

        init(_ key: Key) {
            v0 = 0x736f_6d65_7073_6575 ^ key.k0
            v1 = 0x646f_7261_6e64_6f6d ^ key.k1
            v2 = 0x6c79_6765_6e65_7261 ^ key.k0
            v3 = 0x7465_6462_7974_6573 ^ key.k1
        }

        @inline(__always)
        mutating func absorb(_ word: UInt64) {
            v3 ^= word
            SipHash.round(&v0, &v1, &v2, &v3)
            SipHash.round(&v0, &v1, &v2, &v3)
            v0 ^= word
        }

        @inline(__always)
        mutating func finish(byteCount: Int) -> UInt64 {
            absorb(UInt64(truncatingIfNeeded: byteCount) << 56)
            v2 ^= 0xff
            for _ in 0..<4 { SipHash.round(&v0, &v1, &v2, &v3) }
            return v0 ^ v1 ^ v2 ^ v3
        }
    }
}

extension UInt64 {
    @inline(__always)
    func rotated(_ count: UInt64) -> UInt64 { (self << count) | (self >> (64 - count)) }
}
