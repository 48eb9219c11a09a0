import SnapmaskKeyedHash

/// `hash`: the keyed HMAC of the value as hex or base32 text, for identifiers that must join.
struct HashTransformer: ASCIIMasking {
    enum Encoding: String { case hex, base32 }

    let hasher: KeyedHash
    let length: Int
    let encoding: Encoding

    func mask(_ value: String) -> String? {
        let digest = hasher.digest(value)
        switch encoding {
        case .hex: return TextEncoding.hex(digest, length: length)
        case .base32: return TextEncoding.base32(digest, length: length)
        }
    }

    func maskedLength(ofASCII length: Int) -> Int { self.length }

    /// The string path hashes the value's UTF-8, which for ASCII is these bytes.
    func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let digest = hasher.digest(UnsafeRawBufferPointer(value))
        switch encoding {
        case .hex: TextEncoding.writeHex(digest, length: length, to: output.baseAddress!)
        case .base32: TextEncoding.appendBase32(digest, length: length, firstBit: 0, to: output.baseAddress!)
        }
        return length
    }

    /// Below 64 bits a million distinct inputs start to collide by the birthday bound.
    static let minimumUniqueBits = 64

    static let descriptor = TransformerDescriptor(
        name: "hash", summary: "keyed HMAC-SHA256 of the value, as hex or base32 text",
        options: [
            OptionInfo("length", .integer, default: "32", "characters of output (hex: up to 64, base32: up to 51)"),
            OptionInfo("encoding", .text, default: "hex", "hex or base32 (lowercase, no padding)"),
        ],
        uniqueness: .withOptions("when length carries at least 64 bits (hex ≥ 16, base32 ≥ 13)"), searchableByValue: true,
        example: ("customer-88213", ["length": "16"]), acceptsMaxLength: false
    ) { options, key throws in
        let encoding = Encoding(rawValue: try options.choice("encoding", ["hex", "base32"]))!
        let bitsPerCharacter = encoding == .hex ? 4 : 5
        let length = try options.int("length", in: 1...(encoding == .hex ? 64 : 51))
        let bits = length * bitsPerCharacter
        return .init(HashTransformer(hasher: key.hasher("hash"), length: length, encoding: encoding),
                     unique: bits >= minimumUniqueBits,
                     uniqueProblem: "\(length) \(encoding.rawValue) characters carry only \(bits) bits; use at least "
                         + "\((minimumUniqueBits + bitsPerCharacter - 1) / bitsPerCharacter)")
    }
}

/// Hex and base32 text from hash bits, without intermediate arrays.
enum TextEncoding {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    static let base32Alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func hex(_ digest: HashBytes, length: Int) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            writeHex(digest, length: length, to: buffer.baseAddress!)
            return length
        }
    }

    @inline(__always)
    static func writeHex(_ digest: HashBytes, length: Int, to output: UnsafeMutablePointer<UInt8>) {
        for index in 0..<length {
            let word = digest.word(index / 16)
            let nibble = Int((word >> UInt64(60 - (index % 16) * 4)) & 0xf)
            output[index] = hexDigits[nibble]
        }
    }

    /// Base32 of the digest's bits, 5 bits per character, most significant first.
    static func base32(_ digest: HashBytes, length: Int, firstBit: Int = 0) -> String {
        String(unsafeUninitializedCapacity: length) { buffer in
            appendBase32(digest, length: length, firstBit: firstBit, to: buffer.baseAddress!)
            return length
        }
    }

    @inline(__always)
    static func appendBase32(_ digest: HashBytes, length: Int, firstBit: Int, to output: UnsafeMutablePointer<UInt8>) {
        base32Alphabet.withUnsafeBufferPointer { alphabet in
            for index in 0..<length {
                output[index] = alphabet[Int(bits(digest, from: firstBit + index * 5, count: 5))]
            }
        }
    }

    /// `count` (≤ 57) bits of the 256-bit digest starting at bit `from` (0 = most significant of word 0).
    @inline(__always)
    static func bits(_ digest: HashBytes, from start: Int, count: Int) -> UInt64 {
        let index = start / 64, offset = UInt64(start % 64)
        var window = digest.word(index) << offset
        if offset > 0 && index < 3 { window |= digest.word(index + 1) >> (64 - offset) }
        return window >> UInt64(64 - count)
    }
}
