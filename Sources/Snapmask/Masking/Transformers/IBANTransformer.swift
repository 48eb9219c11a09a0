import SnapmaskKeyedHash

/// `iban`: same country, same length and spacing, new account part, valid check digits.
struct IBANTransformer: Transformer {
    let permutation: FormatPreservingPermutation
    let hasher: KeyedHash

    func mask(_ value: String) throws(MaskingError) -> String? {
        let characters = value.unicodeScalars.filter { $0 != " " }.map { Character($0) }
        guard characters.count >= 5, characters.count <= 34,
              characters[0].isASCII, characters[0].isLetter, characters[1].isASCII, characters[1].isLetter,
              characters.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw MaskingError("iban", "\(shape(of: value)) is not an IBAN (two letters, two check digits, account)")
        }
        let bban = Array(characters[4...])
        var digits = bban.compactMap { $0.wholeNumberValue.map(UInt8.init) }
        permutation.permuteDigits(&digits, tweak: 0)
        var letters = hasher.digest(value).stream()
        var nextDigit = 0
        let newBBAN: [Character] = bban.map { character in
            if character.isNumber {
                defer { nextDigit += 1 }
                return Character(Unicode.Scalar(48 + digits[nextDigit]))
            }
            let letter = Character(Unicode.Scalar(UInt8(65 + letters.next(below: 26))))
            return character.isLowercase ? Character(letter.lowercased()) : letter
        }
        let country = String(characters[0...1]).uppercased()
        let check = Self.checkDigits(country: country, bban: String(newBBAN))
        let compact = Array(country + check) + newBBAN
        // Put the spaces back where they were.
        var output = ""
        var next = 0
        for scalar in value.unicodeScalars {
            if scalar == " " { output.append(" ") } else { output.append(compact[next]); next += 1 }
        }
        return output
    }

    /// ISO 13616: 98 - (BBAN + country + "00" as a number, letters A=10 … Z=35) mod 97.
    static func checkDigits(country: String, bban: String) -> String {
        var remainder = 0
        for character in (bban + country + "00").uppercased() {
            if let digit = character.wholeNumberValue {
                remainder = (remainder * 10 + digit) % 97
            } else if let ascii = character.asciiValue {
                remainder = (remainder * 100 + Int(ascii) - 55) % 97
            }
        }
        let check = 98 - remainder
        return check < 10 ? "0\(check)" : String(check)
    }

    static let descriptor = TransformerDescriptor(
        name: "iban", summary: "an IBAN of the same country and length with valid check digits",
        example: ("DE89 3704 0044 0532 0130 00", [:]), acceptsMaxLength: false
    ) { _, key throws in
        .init(IBANTransformer(permutation: FormatPreservingPermutation(key: key.sipKey("iban")), hasher: key.hasher("iban")),
              unique: false, uniqueProblem: "letters in the account part are replaced by hashing")
    }
}
