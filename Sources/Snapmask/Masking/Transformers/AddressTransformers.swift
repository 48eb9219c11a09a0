import SnapmaskKeyedHash

/// Postal data from the embedded dictionaries: `street`, `city`, `zip`, `address`.
enum AddressTransformers {
    struct Street: Transformer {
        let hasher: KeyedHash
        func mask(_ value: String) -> String? {
            var choices = hasher.digest(value).stream()
            return Self.make(&choices)
        }

        static func make(_ choices: inout ChoiceStream) -> String {
            "\(1 + choices.next(below: 9_899)) \(choices.pick(Dictionaries.streetNames)) \(choices.pick(Dictionaries.streetSuffixes))"
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

    struct Address: Transformer {
        let hasher: KeyedHash
        func mask(_ value: String) -> String? {
            var choices = hasher.digest(value).stream()
            let street = Street.make(&choices)
            let city = choices.pick(Dictionaries.cities)
            let state = choices.pick(Dictionaries.usStateCodes)
            var zip = String(choices.next(below: 100_000))
            while zip.count < 5 { zip = "0" + zip }
            return "\(street), \(city), \(state) \(zip)"
        }
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
