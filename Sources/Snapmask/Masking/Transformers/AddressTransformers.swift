import SnapmaskKeyedHash

/// Postal data from the embedded dictionaries: `street`, `city`, `zip`, `address`.
enum AddressTransformers {
    struct Street: Transformer {
        let hasher: KeyedHash
        func mask(_ value: String) -> String? {
            var choices = hasher.digest(value).stream()
            let street = StreetPick(&choices)
            return String(unsafeUninitializedCapacity: street.length) { buffer in
                var text = TextWriter(buffer)
                street.write(to: &text)
                return text.count
            }
        }
    }

    struct City: Transformer {
        let hasher: KeyedHash
        func mask(_ value: String) -> String? {
            var choices = hasher.digest(value).stream()
            return choices.pick(Dictionaries.cities)
        }
    }

    /// Letters become letters (case kept), digits become digits, everything else stays:
    /// `SW1A 1AA` → `KD7R 4XT`, `94107-1234` → `31860-5527`.
    struct Zip: Transformer {
        let hasher: KeyedHash
        func mask(_ value: String) -> String? {
            var choices = hasher.digest(value).stream()
            var output = String.UnicodeScalarView()
            for scalar in value.unicodeScalars {
                if DigitTransformers.DigitMasker.digitValue(scalar) != nil {
                    output.append(Unicode.Scalar(UInt8(48 + choices.next(below: 10))))
                } else if scalar.properties.isAlphabetic {
                    let letter = UInt8(65 + choices.next(below: 26))
                    output.append(Unicode.Scalar(scalar.properties.isLowercase ? letter + 32 : letter))
                } else {
                    output.append(scalar)
                }
            }
            return String(output)
        }
    }

    struct Address: ASCIIMasking {
        let hasher: KeyedHash
        func mask(_ value: String) -> String? {
            String(unsafeUninitializedCapacity: Self.longest) { buffer in write(hasher.digest(value), into: buffer) }
        }

        func maskedLength(ofASCII length: Int) -> Int { Self.longest }

        func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Int? {
            write(hasher.digest(UnsafeRawBufferPointer(value)), into: output)
        }

        /// `<street>, <city>, <state> <zip>` in one buffer: this runs once per row of every
        /// address column.
        private func write(_ digest: HashBytes, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var choices = digest.stream()
            let street = StreetPick(&choices)
            let city = choices.pick(Self.cityBytes)
            let state = choices.pick(Self.stateBytes)
            let zip = choices.next(below: 100_000)
            var text = TextWriter(buffer)
            street.write(to: &text)
            text.put(", ")
            text.put(city)
            text.put(", ")
            text.put(state)
            text.put(" ")
            text.put(decimal: zip, digits: 5)
            return text.count
        }

        static let cityBytes = Dictionaries.cities.map { Array($0.utf8) }
        static let stateBytes = Dictionaries.usStateCodes.map { Array($0.utf8) }
        /// The longest address: street, the two separators, the longest city and state, a space
        /// and five digits.
        static let longest = StreetPick.longest + 2 + (cityBytes.map(\.count).max() ?? 0) + 2
            + (stateBytes.map(\.count).max() ?? 0) + 1 + 5
    }

    /// A street line's choices (`<number> <name> <suffix>`), drawn in that order.
    struct StreetPick {
        let number: Int
        let name: [UInt8]
        let suffix: [UInt8]

        init(_ choices: inout ChoiceStream) {
            number = 1 + choices.next(below: 9_899)
            name = choices.pick(Self.nameBytes)
            suffix = choices.pick(Self.suffixBytes)
        }

        /// At most four digits for the number, two spaces.
        var length: Int { 6 + name.count + suffix.count }

        static let longest = 6 + (nameBytes.map(\.count).max() ?? 0) + (suffixBytes.map(\.count).max() ?? 0)

        func write(to text: inout TextWriter) {
            text.put(decimal: number, digits: 1)
            text.put(" ")
            text.put(name)
            text.put(" ")
            text.put(suffix)
        }

        static let nameBytes = Dictionaries.streetNames.map { Array($0.utf8) }
        static let suffixBytes = Dictionaries.streetSuffixes.map { Array($0.utf8) }
    }

    static let street = TransformerDescriptor(
        name: "street", summary: "a street address line: number, street name and suffix",
        example: ("221B Baker Street", [:])
    ) { _, key throws in .init(Street(hasher: key.hasher("street")), unique: false) }

    static let city = TransformerDescriptor(
        name: "city", summary: "a city name from the embedded dictionary",
        example: ("Reykjavik", [:])
    ) { _, key throws in .init(City(hasher: key.hasher("city")), unique: false) }

    static let zip = TransformerDescriptor(
        name: "zip", summary: "a postal code of the same shape: letters for letters, digits for digits",
        example: ("SW1A 1AA", [:])
    ) { _, key throws in .init(Zip(hasher: key.hasher("zip")), unique: false) }

    static let address = TransformerDescriptor(
        name: "address", summary: "a one-line postal address: street, city, state and ZIP code",
        example: ("1600 Pennsylvania Ave NW, Washington, DC 20500", [:])
    ) { _, key throws in .init(Address(hasher: key.hasher("address")), unique: false) }
}
