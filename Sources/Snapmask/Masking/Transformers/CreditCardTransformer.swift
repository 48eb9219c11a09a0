/// `credit_card`: a Luhn-valid number of the same length and format. The first digit (the card
/// network) and `keep_last` digits stay; the others go through a keyed permutation and one digit
/// is chosen so the Luhn check holds.
struct CreditCardTransformer: Transformer {
    let permutation: FormatPreservingPermutation
    let keepLast: Int

    func mask(_ value: String) throws(MaskingError) -> String? {
        // ASCII (nearly every value) is read and written as bytes; other scripts' digits as
        // scalars. Both give the same digits to the same steps.
        var text = value
        let isASCII = text.withUTF8 { bytes in !bytes.contains { $0 >= 0x80 } }
        var digits: [UInt8] = []
        digits.reserveCapacity(24)
        if isASCII {
            text.withUTF8 { bytes in
                for byte in bytes where byte &- 48 < 10 { digits.append(byte &- 48) }
            }
        } else {
            for scalar in value.unicodeScalars {
                if let digit = DigitTransformers.DigitMasker.digitValue(scalar) { digits.append(digit) }
            }
        }
        let count = digits.count
        // Free digits: after the network digit, before the kept ones. With no kept digits the
        // last digit is the check digit, computed below.
        let freeEnd = keepLast > 0 ? count - keepLast : count - 1
        guard count >= 8, freeEnd - 1 >= 2 else {
            throw MaskingError("credit_card", "\(shape(of: value)) with \(count) digits is too short for a card number "
                                   + "(with keep_last \(keepLast)); use digits or hash for this column")
        }
        // With no kept digits the check digit (last) is fixed up; otherwise the last free digit is.
        let fixIndex = keepLast > 0 ? freeEnd - 1 : count - 1
        let permuteEnd = keepLast > 0 ? freeEnd - 1 : freeEnd
        digits.withUnsafeMutableBufferPointer { buffer in
            permutation.permuteDigits(UnsafeMutableBufferPointer(rebasing: buffer[1..<permuteEnd]), tweak: UInt64(count))
        }
        digits[fixIndex] = Self.luhnFix(digits, at: fixIndex)

        if isASCII {
            return text.withUTF8 { bytes in
                digits.withUnsafeBufferPointer { DigitTransformers.DigitMasker.replacingDigits(ofASCII: bytes, with: $0) }
            }
        }
        var output = String.UnicodeScalarView()
        var next = 0
        for scalar in value.unicodeScalars {
            if DigitTransformers.DigitMasker.digitValue(scalar) != nil {
                output.append(Unicode.Scalar(48 + digits[next]))
                next += 1
            } else {
                output.append(scalar)
            }
        }
        return String(output)
    }

    /// The digit at `index` that makes the Luhn sum a multiple of 10. Exactly one does: the
    /// digit's contribution (itself, or its double less 9 above 9) runs through every remainder
    /// once as the digit runs from 0 to 9.
    static func luhnFix(_ digits: [UInt8], at index: Int) -> UInt8 {
        var others = 0
        for (position, digit) in digits.enumerated() where position != index {
            others += contribution(Int(digit), doubled: (digits.count - 1 - position) % 2 == 1)
        }
        let doubled = (digits.count - 1 - index) % 2 == 1
        for candidate in 0...9 where (others + contribution(candidate, doubled: doubled)) % 10 == 0 {
            return UInt8(candidate)
        }
        return 0
    }

    @inline(__always)
    private static func contribution(_ digit: Int, doubled: Bool) -> Int {
        guard doubled else { return digit }
        return digit * 2 > 9 ? digit * 2 - 9 : digit * 2
    }

    static let descriptor = TransformerDescriptor(
        name: "credit_card", summary: "a Luhn-valid card number of the same length and format; the first digit stays",
        options: [OptionInfo("keep_last", .integer, default: "0", "trailing digits to keep (4 shows the usual last four)")],
        accepts: [.text, .number], example: ("4111 1111 1111 1111", ["keep_last": "4"]), acceptsMaxLength: false
    ) { options, key throws in
        .init(CreditCardTransformer(permutation: FormatPreservingPermutation(key: key.sipKey("credit_card")),
                                    keepLast: try options.int("keep_last", in: 0...8)),
              unique: false, uniqueProblem: "numbers differing only in their check digit map to the same card")
    }
}
