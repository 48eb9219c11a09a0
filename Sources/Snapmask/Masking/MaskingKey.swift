import SnapmaskKeyedHash

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

    /// A key that is no secret, for what does not depend on the key (the longest output a
    /// transformer can write); never used to mask a value.
    static let structural = MaskingKey(bytes: Array("snapmask-structural-key".utf8))

    private init(bytes: [UInt8]) {
        self.bytes = bytes
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

extension HashBytes {
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
    private let seed: HashBytes
    /// The next of the seed's words to use; past 3, SipHash takes over.
    private var nextWord = 1

    init(seed: HashBytes) {
        self.seed = seed
        key = SipHash.Key(k0: seed.word(2), k1: seed.word(3))
        buffer = seed.word(0)
        bitsLeft = 64
    }

    private mutating func refill() {
        if nextWord <= 3 {
            buffer = seed.word(nextWord)
            nextWord += 1
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
