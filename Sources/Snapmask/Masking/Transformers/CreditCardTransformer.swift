/// `credit_card`: a Luhn-valid number of the same length and format. The first digit (the card
/// network) and `keep_last` digits stay; the others go through a keyed permutation and one digit
/// is chosen so the Luhn check holds.
struct CreditCardTransformer: Transformer {
    let permutation: FormatPreservingPermutation
    let keepLast: Int

    func mask(_ value: String) throws(MaskingError) -> String? {
        var digits: [UInt8] = []
        for scalar in value.unicodeScalars {
            if let digit = DigitTransformers.DigitMasker.digitValue(scalar) { digits.append(digit) }
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
        var middle = Array(digits[1..<permuteEnd])
        permutation.permuteDigits(&middle, tweak: UInt64(count))
        digits.replaceSubrange(1..<permuteEnd, with: middle)
        digits[fixIndex] = Self.luhnFix(digits, at: fixIndex)

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

    /// The digit at `index` that makes the Luhn sum a multiple of 10.
    static func luhnFix(_ digits: [UInt8], at index: Int) -> UInt8 {
        for candidate in UInt8(0)...9 {
            var trial = digits
            trial[index] = candidate
            if isLuhnValid(trial) { return candidate }
        }
        return 0
    }

    static func isLuhnValid(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
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
