import SnapmaskKeyedHash

/// `email`: a realistic address on a reserved domain, `first.last.k2x9p4m7qd@example.com`.
/// The ten base32 characters carry 50 bits of the HMAC and the names about 19 more, so distinct
/// inputs give distinct addresses (collision odds below 1e-9 for a million rows).
///
/// Addresses are compared without case, as mail systems, citext columns and `lower(email)`
/// joins do: `Ada@Corp.io` and `ada@corp.io` get the same fake, so those joins still hold.
struct EmailTransformer: Transformer {
    static let suffixLength = 10

    let hasher: KeyedHash
    let domain: String
    let keepDomain: Bool

    static let firstNames = Dictionaries.firstNames.map { $0.lowercased() }
    static let lastNames = Dictionaries.lastNames.map { $0.lowercased() }

    func mask(_ value: String) -> String? {
        let digest = hasher.digest(Self.folded(value))
        let first = Self.firstNameBytes[Int(digest.word(1) % UInt64(Self.firstNameBytes.count))]
        let last = Self.lastNameBytes[Int(digest.word(2) % UInt64(Self.lastNameBytes.count))]
        var domain = Substring(self.domain)
        if keepDomain, let at = value.lastIndex(of: "@") {
            let original = value[value.index(after: at)...]
            if !original.isEmpty { domain = original }
        }
        let length = first.count + last.count + Self.suffixLength + 3 + domain.utf8.count
        // Built in one buffer: this runs once per row of every email column.
        return String(unsafeUninitializedCapacity: length) { buffer in
            var position = 0
            func put(_ bytes: some Collection<UInt8>) {
                for byte in bytes {
                    buffer[position] = byte
                    position += 1
                }
            }
            put(first)
            put(CollectionOfOne(UInt8(ascii: ".")))
            put(last)
            put(CollectionOfOne(UInt8(ascii: ".")))
            TextEncoding.appendBase32(digest, length: Self.suffixLength, firstBit: 0, to: buffer.baseAddress! + position)
            position += Self.suffixLength
            put(CollectionOfOne(UInt8(ascii: "@")))
            put(domain.utf8)
            return position
        }
    }

    static let firstNameBytes = firstNames.map { Array($0.utf8) }
    static let lastNameBytes = lastNames.map { Array($0.utf8) }

    /// Lowercased, ASCII fast path first (nearly every address).
    @inline(__always)
    static func folded(_ value: String) -> String {
        var text = value
        let needsFolding = text.withUTF8 { bytes in bytes.contains { $0 &- 65 < 26 || $0 >= 0x80 } }
        return needsFolding ? value.lowercased() : value
    }

    static var longestLocalPart: Int {
        (firstNames.map(\.utf8.count).max() ?? 0) + (lastNames.map(\.utf8.count).max() ?? 0) + 2 + suffixLength
    }

    static let descriptor = TransformerDescriptor(
        name: "email", summary: "a realistic address first.last.xxxxxxxxxx@domain on a reserved domain",
        options: [
            OptionInfo("domain", .text, default: "example.com",
                       "domain of the fake addresses (keep to reserved ones: example.com, *.example, *.test, *.invalid)"),
            OptionInfo("keep_domain", .boolean, default: "false", "keep the original domain instead"),
        ],
        uniqueness: .always("for addresses that differ other than in case; 60+ bits of the HMAC in every address"),
        searchableByValue: true,
        example: ("Jane.Doe@acme.io", [:])
    ) { options, key throws in
        let domain = try options.string("domain")
        guard !domain.isEmpty, !domain.contains("@"),
              domain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw ConfigError("option 'domain' of 'email' must be a host name such as example.com",
                              at: options.spec.location(of: "domain"))
        }
        let keepDomain = try options.bool("keep_domain")
        return .init(EmailTransformer(hasher: key.hasher("email"), domain: domain.lowercased(), keepDomain: keepDomain),
                     unique: true,
                     maxOutputLength: keepDomain ? nil : longestLocalPart + 1 + domain.count)
    }
}
