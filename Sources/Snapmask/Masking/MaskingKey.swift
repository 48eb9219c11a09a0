import Crypto

/// The one secret of masking: every transformer's output is HMAC-SHA256 keyed by it, so the same
/// input gives the same fake in every table, engine and run, and a new key gives a new mapping.
/// Its bytes never appear in a description, log or error.
public struct MaskingKey: Sendable, CustomStringConvertible {
    /// Short keys make the mapping guessable by brute force over common values.
    public static let minimumLength = 16

    let bytes: [UInt8]

    public init(_ secret: String, at location: SourceLocation? = nil) throws {
        guard secret.utf8.count >= Self.minimumLength else {
            throw ConfigError(
                "the masking key is too short (\(secret.utf8.count) bytes); use at least \(Self.minimumLength) "
                    + "random bytes, for example the output of `openssl rand -base64 32`", at: location)
        }
        bytes = Array(secret.utf8)
        SecretScrubber.register(secret)
    }

    public var description: String { "MaskingKey(redacted)" }

    /// A hasher for one mapping; `domain` separates mappings so `email` and `hash` of the same
    /// value are unrelated.
    func hasher(_ domain: String) -> KeyedHash {
        KeyedHash(key: bytes, domain: domain)
    }

    /// A 128-bit key for the fast per-round PRF of the format-preserving permutations, derived
    /// from the masking key with HMAC-SHA256.
    func sipKey(_ domain: String) -> SipHash.Key {
        let digest = hasher("siphash-key").digest(domain)
        return SipHash.Key(k0: digest.word(0), k1: digest.word(1))
    }
}

/// HMAC-SHA256 (RFC 2104) with the key and a domain prefix already absorbed: the inner and
/// outer SHA-256 states after their padded-key blocks are prepared once, so each value costs two
/// state copies and two short hashes, without the generic HMAC wrapper's extra copies.
struct KeyedHash: @unchecked Sendable {
    // SHA256 is a copy-on-write value: sharing the prepared states across tasks and copying them
    // per call is safe even though the type is not declared Sendable.
    private let inner: SHA256
    private let outer: SHA256

    init(key: [UInt8], domain: String) {
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        inner.update(data: Array("snapmask/v1/\(domain)\u{0}".utf8))
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5c })
        self.inner = inner
        self.outer = outer
    }

    func digest(_ input: String) -> HashBytes {
        var state = inner
        var input = input
        input.withUTF8 { state.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return finish(state)
    }

    func digest(_ input: some Collection<UInt8>) -> HashBytes {
        var state = inner
        state.update(data: Array(input))
        return finish(state)
    }

    @inline(__always)
    private func finish(_ innerState: SHA256) -> HashBytes {
        let innerDigest = innerState.finalize()
        var state = outer
        innerDigest.withUnsafeBytes { state.update(bufferPointer: $0) }
        return HashBytes(state.finalize())
    }
}

/// The 256 bits of one HMAC, read as four 64-bit words or as a stream of bounded choices.
struct HashBytes: Sendable {
    private(set) var words: (UInt64, UInt64, UInt64, UInt64)

    init(_ mac: SHA256.Digest) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        mac.withUnsafeBytes { raw in
            words = (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                     UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                     UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                     UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        }
        self.words = words
    }

    func word(_ index: Int) -> UInt64 {
        switch index & 3 {
        case 0: return words.0
        case 1: return words.1
        case 2: return words.2
        default: return words.3
        }
    }

    /// The 32 bytes in digest order (for UUIDs).
    var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(32)
        for index in 0..<4 {
            let value = word(index)
            for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return result
    }

    /// A deterministic stream of choices drawn from these bits, then from SipHash of them when
    /// more are needed (long free text).
    func stream() -> ChoiceStream { ChoiceStream(seed: self) }
}

/// Draws bounded integers from a hash. The first 256 bits come from the HMAC itself; later ones
/// from SipHash keyed by it, so the stream is unbounded yet fully determined by the HMAC.
struct ChoiceStream {
    private let key: SipHash.Key
    private var buffer: UInt64
    private var bitsLeft: Int
    private var counter: UInt64 = 0
    private var initialWords: [UInt64]

    init(seed: HashBytes) {
        key = SipHash.Key(k0: seed.word(2), k1: seed.word(3))
        initialWords = [seed.word(3), seed.word(2), seed.word(1)]
        buffer = seed.word(0)
        bitsLeft = 64
    }

    private mutating func refill() {
        if let next = initialWords.popLast() {
            buffer = next
        } else {
            buffer = SipHash.hash(key: key, counter, 0x5354_5245_414d)  // "STREAM"
            counter &+= 1
        }
        bitsLeft = 64
    }

    /// Uniform in 0..<bound, using 16 or 32 bits so the modulo bias stays negligible.
    mutating func next(below bound: Int) -> Int {
        precondition(bound > 0)
        let width = bound <= 1 << 12 ? 24 : 48
        if bitsLeft < width { refill() }
        let bits = buffer & ((1 << UInt64(width)) - 1)
        buffer >>= UInt64(width)
        bitsLeft -= width
        return Int(bits % UInt64(bound))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[next(below: items.count)] }
}
