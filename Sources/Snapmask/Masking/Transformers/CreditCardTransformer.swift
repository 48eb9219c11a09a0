/// `credit_card`: a Luhn-valid number of the same length and format. The first digit (the card
/// network) and `keep_last` digits stay; the others go through a keyed permutation and one digit
/// is chosen so the Luhn check holds.
struct CreditCardTransformer: ASCIIMasking {
    let permutation: FormatPreservingPermutation
    let keepLast: Int

    func mask(_ value: String) throws(MaskingError) -> String? {
        // ASCII (nearly every value) is read and written as bytes; other scripts' digits as
        // scalars. Both give the same digits to the same steps.
        var text = value
        let ascii = text.withUTF8 { bytes -> Result<String, MaskingError>? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var failure: MaskingError?
            let masked = String(unsafeUninitializedCapacity: bytes.count) { output in
                do throws(MaskingError) {
                    _ = try maskASCII(bytes, into: output)
                    return bytes.count
                } catch {
                    failure = error
                    return 0
                }
            }
            return failure.map { .failure($0) } ?? .success(masked)
        }
        if let ascii { return try ascii.get() }
        var digits: [UInt8] = []
        for scalar in value.unicodeScalars {
            if let digit = DigitTransformers.DigitMasker.digitValue(scalar) { digits.append(digit) }
        }
        try digits.withUnsafeMutableBufferPointer { buffer throws(MaskingError) in
            try replace(buffer, characters: value.unicodeScalars.count)
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

    func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) throws(MaskingError)
        -> Int? {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: value.count) { buffer throws(MaskingError) in
            var count = 0
            for byte in value where byte &- 48 < 10 {
                buffer[count] = byte &- 48
                count += 1
            }
            let digits = UnsafeMutableBufferPointer(rebasing: buffer[..<count])
            try replace(digits, characters: value.count)
            DigitTransformers.DigitMasker.replaceDigits(ofASCII: value, with: UnsafeBufferPointer(digits), into: output)
        }
        return value.count
    }

    /// Permutes the free digits (after the network digit, before the kept ones) and fixes one
    /// so the Luhn check holds. `characters`, the value's length, describes the value in the
    /// message, which never shows it.
    private func replace(_ digits: UnsafeMutableBufferPointer<UInt8>, characters: Int) throws(MaskingError) {
        let count = digits.count
        // With no kept digits the last digit is the check digit, computed below.
        let freeEnd = keepLast > 0 ? count - keepLast : count - 1
        guard count >= 8, freeEnd - 1 >= 2 else {
            throw MaskingError("credit_card", "a \(characters)-character value with \(count) digits is too short for a "
                                   + "card number (with keep_last \(keepLast)); use digits or hash for this column")
        }
        // With no kept digits the check digit (last) is fixed up; otherwise the last free digit is.
        let fixIndex = keepLast > 0 ? freeEnd - 1 : count - 1
        let permuteEnd = keepLast > 0 ? freeEnd - 1 : freeEnd
        permutation.permuteDigits(UnsafeMutableBufferPointer(rebasing: digits[1..<permuteEnd]), tweak: UInt64(count))
        digits[fixIndex] = Self.luhnFix(UnsafeBufferPointer(digits), at: fixIndex)
    }

    /// The digit at `index` that makes the Luhn sum a multiple of 10. Exactly one does: the
    /// digit's contribution (itself, or its double less 9 above 9) runs through every remainder
    /// once as the digit runs from 0 to 9.
    static func luhnFix(_ digits: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt8 {
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
