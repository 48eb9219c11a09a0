/// `digits`, `phone` and `ssn`: every digit is replaced through a keyed permutation while every
/// other character stays where it was, so the format (separators, length, kept digits) survives
/// and distinct inputs stay distinct.
enum DigitTransformers {
    /// Replaces the digits of a value, keeping `keepFirst` leading and `keepLast` trailing digits.
    struct DigitMasker: Sendable {
        let permutation: FormatPreservingPermutation
        let keepFirst: Int
        let keepLast: Int
        let keepCountryCode: Bool
        /// Extra condition on 9-digit results (`ssn`): walk the permutation's cycle until it holds.
        let accept: (@Sendable (UInt64) -> Bool)?

        func mask(_ value: String) -> String {
            var text = value
            if let ascii = text.withUTF8({ source -> String? in
                guard !source.contains(where: { $0 >= 0x80 }) else { return nil }
                return String(unsafeUninitializedCapacity: source.count) { output in
                    if !maskASCII(source, into: output) { _ = output.initialize(from: source) }
                    return source.count
                }
            }) {
                return ascii
            }
            let countryCode = keepCountryCode ? Self.countryCodeLength(value) : 0
            // Digits of other scripts are replaced by digits of the same script, so inputs that
            // differ only in script stay distinct.
            let scalars = Array(value.unicodeScalars)
            var digits = scalars.compactMap(Self.digitValue)
            guard digits.withUnsafeMutableBufferPointer({ replace($0, countryCode: countryCode) }) else { return value }
            var output = String.UnicodeScalarView()
            var next = 0
            for scalar in scalars {
                if let old = Self.digitValue(scalar), let digit = Unicode.Scalar(scalar.value - UInt32(old) + UInt32(digits[next])) {
                    output.append(digit)
                    next += 1
                } else {
                    output.append(scalar)
                }
            }
            return String(output)
        }

        /// An ASCII value (nearly every value): digits gathered on the stack, the result written
        /// into `output`, as long as `source`; false (nothing written) when no digit is replaced.
        func maskASCII(_ source: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Bool {
            let countryCode = keepCountryCode ? Self.countryCodeLength(ascii: source) : 0
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: source.count) { digits -> Bool in
                var count = 0
                for byte in source where byte &- 48 < 10 {
                    digits[count] = byte &- 48
                    count += 1
                }
                let found = UnsafeMutableBufferPointer(rebasing: digits[..<count])
                guard replace(found, countryCode: countryCode) else { return false }
                Self.replaceDigits(ofASCII: source, with: UnsafeBufferPointer(found), into: output)
                return true
            }
        }

        /// Replaces the digit values between the kept ones; false when none is left to replace.
        private func replace(_ digits: UnsafeMutableBufferPointer<UInt8>, countryCode: Int) -> Bool {
            let first = min(digits.count, keepFirst + countryCode)
            let last = min(digits.count - first, keepLast)
            guard digits.count - first - last > 0 else { return false }
            // The kept digits tweak the permutation: numbers that share their middle digits but
            // not their kept ones get unrelated fakes, and the mapping stays one-to-one.
            var tweak: UInt64 = 0xcbf2_9ce4_8422_2325
            for index in 0..<first { tweak = (tweak ^ UInt64(digits[index] + 1)) &* 0x100_0000_01b3 }
            for index in (digits.count - last)..<digits.count { tweak = (tweak ^ UInt64(digits[index] + 1)) &* 0x100_0000_01b3 }
            permute(UnsafeMutableBufferPointer(rebasing: digits[first..<(digits.count - last)]),
                    tweak: first + last == 0 ? 0 : tweak)
            return true
        }

        private func permute(_ digits: UnsafeMutableBufferPointer<UInt8>, tweak: UInt64) {
            guard let accept, digits.count == 9 else {
                permutation.permuteDigits(digits, tweak: tweak)
                return
            }
            // Cycle-walk inside the class of the input (plausible or not), so the mapping stays
            // one-to-one on each class and therefore on all inputs.
            var number = digits.reduce(UInt64(0)) { $0 * 10 + UInt64($1) }
            let plausible = accept(number)
            repeat {
                number = permutation.permuteNumber(number, digitCount: 9, tweak: tweak)
            } while accept(number) != plausible
            for index in stride(from: 8, through: 0, by: -1) {
                digits[index] = UInt8(number % 10)
                number /= 10
            }
        }

        /// Decimal digits of any script count (so no digit is copied as is); output uses ASCII.
        @inline(__always)
        static func digitValue(_ scalar: Unicode.Scalar) -> UInt8? {
            if scalar.value >= 48 && scalar.value <= 57 { return UInt8(scalar.value - 48) }
            guard scalar.value > 127, scalar.properties.numericType == .decimal,
                  let number = scalar.properties.numericValue else { return nil }
            return UInt8(number)
        }

        /// `+44 20 7946 0958` keeps `+44`: up to three digits after a leading + and before a separator.
        static func countryCodeLength(_ value: String) -> Int {
            var text = value
            if let ascii = text.withUTF8({ bytes in bytes.contains { $0 >= 0x80 } ? nil : countryCodeLength(ascii: bytes) }) {
                return ascii
            }
            var scalars = value.unicodeScalars.drop { $0 == " " }
            guard scalars.first == "+" else { return 0 }
            scalars = scalars.dropFirst()
            let code = scalars.prefix { digitValue($0) != nil }
            guard (1...3).contains(code.count), scalars.count > code.count else { return 0 }
            return code.count
        }

        /// `countryCodeLength` of an ASCII value, read as bytes (the same rule).
        static func countryCodeLength(ascii bytes: UnsafeBufferPointer<UInt8>) -> Int {
            var index = 0
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "+") else { return 0 }
            let start = index + 1
            index = start
            while index < bytes.count, bytes[index] &- 48 < 10 { index += 1 }
            let code = index - start
            guard (1...3).contains(code), bytes.count - start > code else { return 0 }
            return code
        }

        /// An ASCII value with its digits, in order, replaced by `digits` (values 0...9) and every
        /// other byte kept, written into `output` (as long as `source`).
        static func replaceDigits(ofASCII source: UnsafeBufferPointer<UInt8>, with digits: UnsafeBufferPointer<UInt8>,
                                  into output: UnsafeMutableBufferPointer<UInt8>) {
            var next = 0
            for (index, byte) in source.enumerated() {
                if byte &- 48 < 10 {
                    output[index] = 48 &+ digits[next]
                    next += 1
                } else {
                    output[index] = byte
                }
            }
        }
    }

    struct Digits: ASCIIMasking {
        let masker: DigitMasker
        func mask(_ value: String) -> String? { masker.mask(value) }

        func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int? {
            if !masker.maskASCII(value, into: output) { _ = output.initialize(from: value) }
            return value.count
        }
    }

    private static let keepOptions = [
        OptionInfo("keep_first", .integer, default: "0", "leading digits to keep"),
        OptionInfo("keep_last", .integer, default: "0", "trailing digits to keep"),
    ]

    private static func masker(_ options: OptionReader, _ key: MaskingKey, domain: String, countryCode: Bool,
                               accept: (@Sendable (UInt64) -> Bool)? = nil) throws -> DigitMasker {
        DigitMasker(permutation: FormatPreservingPermutation(key: key.sipKey(domain)),
                    keepFirst: try options.int("keep_first", in: 0...64), keepLast: try options.int("keep_last", in: 0...64),
                    keepCountryCode: countryCode, accept: accept)
    }

    static let digits = TransformerDescriptor(
        name: "digits", summary: "replaces every digit, keeping all other characters and the length (format-preserving)",
        options: keepOptions, accepts: [.text, .number], uniqueness: .always("a keyed permutation of the digits"),
        example: ("ACC-0042-7731", ["keep_last": "2"]), acceptsMaxLength: false
    ) { options, key throws in
        .init(Digits(masker: try masker(options, key, domain: "digits", countryCode: false)), unique: true)
    }

    static let phone = TransformerDescriptor(
        name: "phone", summary: "a phone number in the same format: separators, length and kept digits stay",
        options: keepOptions + [
            OptionInfo("keep_country_code", .boolean, default: "true", "keep a leading +CC (as in +44 20 ...)"),
        ],
        accepts: [.text, .number], uniqueness: .always("a keyed permutation of the digits"),
        example: ("+1 (415) 555-0132", ["keep_last": "2"]), acceptsMaxLength: false
    ) { options, key throws in
        .init(Digits(masker: try masker(options, key, domain: "phone", countryCode: try options.bool("keep_country_code"))),
              unique: true)
    }

    /// Area 001–899 except 666, group not 00, serial not 0000: the shape of an issuable number.
    static func isPlausibleSSN(_ number: UInt64) -> Bool {
        let area = number / 1_000_000, group = number / 10_000 % 100, serial = number % 10_000
        return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }

    static let ssn = TransformerDescriptor(
        name: "ssn", summary: "a US social security number in the same format, with a plausible area/group/serial",
        options: keepOptions, accepts: [.text, .number], uniqueness: .always("a keyed permutation of the digits"),
        example: ("123-45-6789", [:]), acceptsMaxLength: false
    ) { options, key throws in
        .init(Digits(masker: try masker(options, key, domain: "ssn", countryCode: false, accept: isPlausibleSSN)),
              unique: true)
    }
}
