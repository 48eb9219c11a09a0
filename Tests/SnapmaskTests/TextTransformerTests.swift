import Foundation
import Testing
@testable import Snapmask

/// `lorem`, `partial`, `number_noise`, `zip`, `iban`, `regex`, `hash`, `uuid` and `max_length`.
@Suite struct TextTransformerTests {
    @Test func loremKeepsLengthAndLayout() throws {
        let lorem = try compile("lorem")
        let inputs = ["Call me at 5pm, Anna!", "Line one.\nLine two — with dashes;\n\n\tIndented (3 items).",
                      String(repeating: "Long note with words. ", count: 80), "ÀÉÎ õü 42", "x"]
        for input in inputs {
            let output = try masked(lorem, input)
            let a = Array(input.unicodeScalars), b = Array(output.unicodeScalars)
            #expect(a.count == b.count, "\(input) → \(output)")
            guard a.count == b.count else { continue }
            for (x, y) in zip(a, b) {
                if x.properties.numericType == .decimal {
                    #expect(("0"..."9").contains(y), "\(x) → \(y)")
                } else if x.properties.isAlphabetic {
                    #expect(y.isASCII && y.properties.isAlphabetic, "\(x) → \(y)")
                    #expect(y.properties.isUppercase == x.properties.isUppercase, "\(x) → \(y)")
                } else {
                    #expect(x == y, "punctuation and spacing stay")
                }
            }
        }
        #expect(try masked(lorem, "The quick brown fox") != "The quick brown fox")
    }

    @Test func partialKeepsFirstAndLast() throws {
        #expect(try compile("partial").mask("4111111111111111") == "************1111")
        let custom = try compile("partial", ["keep_first": "1", "keep_last": "4", "mask_char": "#"])
        #expect(try custom.mask("jane@acme.io") == "j#######e.io")
        #expect(try custom.mask("abcd") == "####", "too short to hide anything: masked whole")
        #expect(try custom.mask("Zo\u{EB} \u{C5}str\u{F6}m") == "Z#####tr\u{F6}m", "counted in characters, not bytes")
        #expect(throws: ConfigError.self) { try compile("partial", ["mask_char": "**"]) }
    }

    @Test func numberNoiseStaysWithinPercentAndKeepsDecimals() throws {
        var random = SplitMix(state: 5)
        var inputs = ["1249.90", "0.05", "-17.5", "100", "3", "0", "0.00", "99999999.9999", "-0.001"]
        for _ in 0..<300 { inputs.append("\(random.below(1_000_000)).\(random.digits(2))") }
        for percent in [5, 10, 50] {
            let noise = try compile("number_noise", ["percent": String(percent)])
            var changed = 0
            for input in inputs {
                let output = try masked(noise, input)
                let scale = input.split(separator: ".").dropFirst().first?.count ?? 0
                #expect((output.split(separator: ".").dropFirst().first?.count ?? 0) == scale, "\(input) → \(output)")
                let x = try #require(Decimal(string: input)), y = try #require(Decimal(string: output))
                let allowed = abs(x) * Decimal(percent) / 100 + Decimal(sign: .plus, exponent: -scale, significand: 5) / 10
                #expect(abs(y - x) <= allowed, "\(input) → \(output) with \(percent)%")
                if output != input { changed += 1 }
            }
            #expect(changed > inputs.count * 9 / 10)
        }
        let noise = try compile("number_noise")
        for bad in ["abc", "1e5", "1,5", "12.3.4", "."] {
            #expect(throws: MaskingError.self, "\(bad)") { try noise.mask(bad) }
        }
    }

    /// Homes on a map move, each by at most `max_meters`, never onto themselves, never past a
    /// pole or the antimeridian; the same place moves by the same offset whatever its decimals.
    @Test func coordinateMovesEveryPlaceWithinItsRadius() throws {
        var random = SplitMix(state: 11)
        var inputs = ["51.507351", "-0.127758", "0", "0.0", "90", "-90", "180", "-180", "89.99999", "-179.999999", "52", "40.7",
                      "51.500100000000000000000000", " +12.5 ", "-0.0"]
        for _ in 0..<500 {
            inputs.append("\(random.below(2) == 0 ? "-" : "")\(random.below(180)).\(random.digits(random.below(2) == 0 ? 4 : 6))")
        }
        for meters in [10, 1000, 100_000] {
            let coordinate = try compile("coordinate", ["max_meters": String(meters)])
            let radius = Double(meters) / 111_320
            for input in inputs {
                let output = try masked(coordinate, input)
                let x = try #require(Double(input.trimmingCharacters(in: .whitespaces))), y = try #require(Double(output))
                let scale = input.trimmingCharacters(in: .whitespaces).split(separator: ".").dropFirst().first?.count ?? 0
                let step = pow(10, -Double(max(scale, output.split(separator: ".").dropFirst().first?.count ?? 0)))
                #expect(y != x && abs(y - x) <= max(radius, step) + step / 2, "\(input) → \(output) within \(meters) m")
                #expect(abs(y) <= (abs(x) <= 90 ? 90 : 180), "\(input) → \(output)")
                #expect((output.split(separator: ".").dropFirst().first?.count ?? 0) >= scale, "\(input) → \(output) keeps its decimals")
            }
        }
        let coordinate = try compile("coordinate")
        let short = try #require(Double(try masked(coordinate, "40.7"))), long = try #require(Double(try masked(coordinate, "40.700000")))
        #expect(abs(short - long) <= 0.00005 + 1e-12, "the same offset, rounded to each one's decimals: \(short), \(long)")
        for bad in ["abc", "181", "-200.5", "1e5", "40°42′N"] {
            #expect(throws: MaskingError.self, "\(bad)") { try coordinate.mask(bad) }
        }
        #expect(throws: ConfigError.self) { try compile("coordinate", ["max_meters": "5"]) }
    }

    @Test func zipKeepsShape() throws {
        let zip = try compile("zip")
        for input in ["SW1A 1AA", "94107-1234", "sw1a 1aa", "75008", "K1A 0B1"] {
            let output = try masked(zip, input)
            #expect(output.count == input.count)
            for (x, y) in Swift.zip(input, output) {
                if x.isNumber { #expect(y.isNumber && y.isASCII) }
                else if x.isLetter { #expect(y.isLetter && y.isASCII && y.isUppercase == x.isUppercase) }
                else { #expect(x == y) }
            }
        }
        #expect(try masked(zip, "94107") != "94107" || masked(zip, "94108") != "94108")
    }

    /// ISO 13616 check: move the first four characters to the end, letters as 10–35, mod 97 is 1.
    static func ibanIsValid(_ text: String) -> Bool {
        let compact = text.replacingOccurrences(of: " ", with: "").uppercased()
        var remainder = 0
        for character in compact.dropFirst(4) + compact.prefix(4) {
            guard let value = character.isNumber ? character.wholeNumberValue : character.asciiValue.map({ Int($0) - 55 })
            else { return false }
            remainder = (value < 10 ? remainder * 10 + value : remainder * 100 + value) % 97
        }
        return remainder == 1
    }

    @Test func ibanHasValidCheckDigits() throws {
        let iban = try compile("iban")
        let inputs = ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606",
                      "NL91ABNA0417164300", "CH93 0076 2011 6238 5295 7", "gb82west12345698765432"]
        for input in inputs {
            #expect(Self.ibanIsValid(input), "test input \(input)")
            let output = try masked(iban, input)
            #expect(Self.ibanIsValid(output), "\(input) → \(output)")
            #expect(output.count == input.count && output.prefix(2).uppercased() == input.prefix(2).uppercased())
            #expect(output.enumerated().filter { $0.element == " " }.map(\.offset)
                        == input.enumerated().filter { $0.element == " " }.map(\.offset))
            for (x, y) in zip(input.dropFirst(4), output.dropFirst(4)) {
                #expect(x.isNumber == y.isNumber && x.isLetter == y.isLetter, "\(input) → \(output)")
            }
            #expect(output != input)
        }
        #expect(throws: MaskingError.self) { try iban.mask("12345") }
    }

    @Test func regexWithReplacementAndWithTransformer() throws {
        let replace = try compile("regex", ["pattern": "[0-9]{3}-[0-9]{4}", "replacement": "XXX-XXXX"])
        #expect(try replace.mask("call 555-0132 or 555-0199") == "call XXX-XXXX or XXX-XXXX")
        let groups = try compile("regex", ["pattern": "([a-z]+)@([a-z.]+)", "replacement": "user@$2"])
        #expect(try groups.mask("mail bob@corp.com now") == "mail user@corp.com now")

        let phone = try compile("phone"), email = try compile("email")
        let withPhone = try compile("regex", ["pattern": "[0-9]{3}-[0-9]{4}", "with": "phone"])
        #expect(try withPhone.mask("call 555-0132 or mail bob@corp.com")
                    == "call \(try masked(phone, "555-0132")) or mail bob@corp.com")
        let withEmail = try compile("regex", ["pattern": "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+", "with": "email"])
        #expect(try withEmail.mask("from 🙂 bob@corp.com, ann@x.io.")
                    == "from 🙂 \(try masked(email, "bob@corp.com")), \(try masked(email, "ann@x.io."))")
        #expect(try withEmail.mask("no address here") == "no address here")

        #expect(throws: ConfigError.self) { try compile("regex", ["pattern": "x"]) }
        #expect(throws: ConfigError.self) { try compile("regex", ["pattern": "x", "replacement": "y", "with": "email"]) }
        #expect(throws: ConfigError.self) { try compile("regex", ["pattern": "([", "replacement": "y"]) }
        #expect(throws: ConfigError.self) { try compile("regex", ["pattern": "x", "with": "emial"]) }
    }

    @Test func hashLengthAndEncoding() throws {
        let hex = try masked(try compile("hash"), "customer-88213")
        #expect(hex.count == 32 && hex.allSatisfy { "0123456789abcdef".contains($0) }, "\(hex)")
        let short = try masked(try compile("hash", ["length": "16"]), "customer-88213")
        #expect(short == String(hex.prefix(16)), "a shorter hash is a prefix of the longer one")
        #expect(try masked(try compile("hash", ["length": "64"]), "x").count == 64)
        for length in [13, 26, 51] {
            let base32 = try masked(try compile("hash", ["encoding": "base32", "length": String(length)]), "customer-88213")
            #expect(base32.count == length && base32.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        }
        #expect(throws: ConfigError.self) { try compile("hash", ["length": "65"]) }
        #expect(throws: ConfigError.self) { try compile("hash", ["encoding": "base32", "length": "52"]) }
        #expect(throws: ConfigError.self) { try compile("hash", ["encoding": "base64"]) }
    }

    @Test func uuidHasTheVersion4Layout() throws {
        let uuid = try compile("uuid")
        let layout = try NSRegularExpression(pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        let inputs = ["6f1c2a8e-1b7d-4c55-9d1e-3f0a2b4c6d8e", "not a uuid", "42"] + (0..<100).map { "row-\($0)" }
        for input in inputs {
            let output = try masked(uuid, input)
            #expect(layout.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) != nil, "\(output)")
            #expect(UUID(uuidString: output) != nil)
        }
        let upper = try masked(uuid, "6F1C2A8E-1B7D-4C55-9D1E-3F0A2B4C6D8E")
        #expect(upper == upper.uppercased() && upper.count == 36)
        let compact = try masked(uuid, "6f1c2a8e1b7d4c559d1e3f0a2b4c6d8e")
        #expect(compact.count == 32 && !compact.contains("-"))
        let braced = try masked(uuid, "{6f1c2a8e-1b7d-4c55-9d1e-3f0a2b4c6d8e}")
        #expect(braced.hasPrefix("{") && braced.hasSuffix("}") && braced.count == 38)
    }

    @Test func maxLengthCutsTheOutput() throws {
        for (name, length) in [("email", 12), ("username", 8), ("first_name", 3), ("address", 10), ("company", 5)] {
            let cut = try compile(name, ["max_length": String(length)])
            for input in ["jane.doe@acme.io", "Margaret", "x"] {
                let output = try masked(cut, input)
                #expect(output.unicodeScalars.count <= length, "\(name): \(output)")
                #expect(try masked(try compile(name), input).hasPrefix(output), "a cut, not another value")
            }
            #expect(cut.maxOutputLength == length)
        }
        // Cutting loses uniqueness; a limit above the longest output does not.
        #expect(throws: ConfigError.self) { try compile("email", ["max_length": "20"], unique: true) }
        #expect(try compile("email", ["max_length": "1000"], unique: true).isUnique)
        #expect(throws: ConfigError.self) { try compile("hash", ["max_length": "8"]) }
    }
}
