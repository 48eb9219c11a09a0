import SnapmaskKeyedHash

/// `email`: a realistic address on a reserved domain, `first.last.k2x9p4m7qd@example.com`.
/// The ten base32 characters carry 50 bits of the HMAC and the names about 19 more, so distinct
/// inputs give distinct addresses (collision odds below 1e-9 for a million rows).
///
/// Addresses are compared without case, as mail systems, citext columns and `lower(email)`
/// joins do: `Ada@Corp.io` and `ada@corp.io` get the same fake, so those joins still hold.
struct EmailTransformer: ASCIIMasking {
    static let suffixLength = 10

    let hasher: KeyedHash
    let domain: String
    let keepDomain: Bool

    static let firstNames = Dictionaries.firstNames.map { $0.lowercased() }
    static let lastNames = Dictionaries.lastNames.map { $0.lowercased() }

    func mask(_ value: String) -> String? {
        var text = value
        if let ascii = text.withUTF8({ bytes -> String? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            return String(unsafeUninitializedCapacity: maskedLength(ofASCII: bytes.count)) { output in
                mask(ascii: bytes, into: output)
            }
        }) {
            return ascii
        }
        var domain = Substring(self.domain)
        if keepDomain, let at = value.lastIndex(of: "@") {
            let original = value[value.index(after: at)...]
            if !original.isEmpty { domain = original }
        }
        var domainText = String(domain)
        return domainText.withUTF8 { domainBytes in
            let digest = hasher.digest(value.lowercased())
            return String(unsafeUninitializedCapacity: Self.longestLocalPart + 1 + domainBytes.count) { buffer in
                Self.write(digest, domain: domainBytes, into: buffer)
            }
        }
    }

    func maskedLength(ofASCII length: Int) -> Int {
        Self.longestLocalPart + 1 + (keepDomain ? max(length, domain.utf8.count) : domain.utf8.count)
    }

    func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        mask(ascii: value, into: output)
    }

    /// An ASCII address: folded to lower case on the stack, hashed from there; its domain (with
    /// keep_domain) read from its bytes.
    private func mask(ascii value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let digest = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, value.count)) { folded in
            for (index, byte) in value.enumerated() { folded[index] = byte &- 65 < 26 ? byte | 0x20 : byte }
            return hasher.digest(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: folded[..<value.count])))
        }
        if keepDomain, let at = value.lastIndex(of: UInt8(ascii: "@")), at + 1 < value.count {
            return Self.write(digest, domain: UnsafeBufferPointer(rebasing: value[(at + 1)...]), into: output)
        }
        var domain = self.domain
        return domain.withUTF8 { Self.write(digest, domain: $0, into: output) }
    }

    /// `first.last.xxxxxxxxxx@domain` from the digest, in one buffer: this runs once per row of
    /// every email column.
    private static func write(_ digest: HashBytes, domain: UnsafeBufferPointer<UInt8>,
                              into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var text = TextWriter(buffer)
        text.put(firstNameBytes[Int(digest.word(1) % UInt64(firstNameBytes.count))])
        text.put(".")
        text.put(lastNameBytes[Int(digest.word(2) % UInt64(lastNameBytes.count))])
        text.put(".")
        text.put(length: suffixLength) { TextEncoding.appendBase32(digest, length: suffixLength, firstBit: 0, to: $0) }
        text.put("@")
        text.put(domain)
        return text.count
    }

    static let firstNameBytes = firstNames.map { Array($0.utf8) }
    static let lastNameBytes = lastNames.map { Array($0.utf8) }

    static let longestLocalPart =
        (firstNames.map(\.utf8.count).max() ?? 0) + (lastNames.map(\.utf8.count).max() ?? 0) + 2 + suffixLength

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
