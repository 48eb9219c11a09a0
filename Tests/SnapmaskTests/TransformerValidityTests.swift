import Foundation
import Testing
@testable import Snapmask

/// A small deterministic generator, so sampled inputs are the same on every run.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func digits(_ count: Int) -> String { String((0..<count).map { _ in Character(String(below(10))) }) }
}

func isLuhnValid(_ text: String) -> Bool {
    let digits = asciiDigits(text)
    var sum = 0
    for (offset, digit) in digits.reversed().enumerated() {
        let doubled = offset % 2 == 1 ? digit * 2 : digit
        sum += doubled > 9 ? doubled - 9 : doubled
    }
    return !digits.isEmpty && sum % 10 == 0
}

/// Identity-shaped values: emails, card numbers, phone numbers, SSNs and IP addresses.
@Suite struct TransformerValidityTests {
    static let emails = ["jane.doe@acme.io", "Bob@Example.ORG", "x@y", "no-at-sign", "o'brien+tag@sub.corp.co.uk",
                         "ünïcode@exämple.de", "a@b@c.com"] + (0..<200).map { "user\($0)@corp.example" }

    @Test func emailsAreValidAddressesOnTheGivenDomain() throws {
        let email = try compile("email")
        for input in Self.emails {
            let output = try masked(email, input)
            let parts = output.split(separator: "@", omittingEmptySubsequences: false)
            #expect(parts.count == 2, "\(output)")
            let local = parts[0]
            #expect(!local.isEmpty && local.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." },
                    "\(output)")
            #expect(!local.hasPrefix(".") && !local.hasSuffix(".") && !local.contains(".."), "\(output)")
            #expect(parts[1] == "example.com", "\(output)")
            #expect(output != input)
        }
    }

    @Test func emailDomainOptions() throws {
        let keep = try compile("email", ["keep_domain": "true"])
        #expect(try masked(keep, "jane.doe@acme.io").hasSuffix("@acme.io"))
        #expect(try masked(keep, "Bob@Sub.Example.ORG").hasSuffix("@Sub.Example.ORG"))
        #expect(try masked(keep, "no-at-sign").hasSuffix("@example.com"), "no domain to keep: the default one")
        // The local part does not depend on keep_domain.
        let plain = try compile("email")
        #expect(try masked(keep, "jane.doe@acme.io").split(separator: "@")[0]
                    == masked(plain, "jane.doe@acme.io").split(separator: "@")[0])

        let custom = try compile("email", ["domain": "Corp.TEST"])
        #expect(try masked(custom, "jane.doe@acme.io").hasSuffix("@corp.test"))
        #expect(throws: ConfigError.self) { try compile("email", ["domain": "bad@domain"]) }
        #expect(throws: ConfigError.self) { try compile("email", ["domain": "has space.com"]) }
    }

    @Test func creditCardsPassLuhnAndKeepTheirFormat() throws {
        var random = SplitMix(state: 1)
        var inputs = ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005",
                      "3782 822463 10005", "5555 5555 5555 4444", "6011111111111117", "4000 0566 5566 5556 123"]
        for _ in 0..<300 {
            let body = "4" + random.digits(14)
            let check = (0...9).map { body + String($0) }.first(where: isLuhnValid)!
            inputs.append(String(check.prefix(4)) + " " + check.dropFirst(4).prefix(4) + " "
                              + check.dropFirst(8).prefix(4) + " " + check.dropFirst(12))
        }
        let card = try compile("credit_card")
        let lastFour = try compile("credit_card", ["keep_last": "4"])
        var changed = 0
        for input in inputs {
            for (transformer, kept) in [(card, 0), (lastFour, 4)] {
                let output = try masked(transformer, input)
                #expect(isLuhnValid(output), "\(input) → \(output)")
                #expect(output.count == input.count)
                #expect(nonDigitLayout(output) == nonDigitLayout(input), "\(input) → \(output)")
                #expect(output.first == input.first, "the network digit stays")
                #expect(asciiDigits(output).suffix(kept) == asciiDigits(input).suffix(kept), "\(input) → \(output)")
                if output != input { changed += 1 }
            }
        }
        #expect(changed == inputs.count * 2)
        #expect(throws: MaskingError.self) { try card.mask("1234") }
    }

    /// The leading `+CC` a phone keeps: ASCII inputs are read as bytes, others as scalars
    /// (where other scripts' digits count); both follow one rule.
    @Test func countryCodesAreReadAlikeInEveryScript() {
        let cases: [(String, Int)] = [
            ("+44 20 7946 0958", 2), ("  +1 (415) 555-0132", 1), ("+353 1 234", 3), ("+1234 5", 0), ("+12", 0),
            ("+123 ", 3), ("44 20", 0), ("+", 0), ("", 0), (" +", 0), ("+ 44 20", 0), ("(+44) 20", 0),
            ("+44 ２０ ７９４６", 2), ("+４４ 20", 2), ("  +１ 415", 1), ("+12é", 2), ("+é12", 0), ("+１２３４ 5", 0),
        ]
        for (input, expected) in cases {
            #expect(DigitTransformers.DigitMasker.countryCodeLength(input) == expected, "\(input)")
        }
    }

    @Test func phonesKeepTheirLayout() throws {
        let phone = try compile("phone")
        var random = SplitMix(state: 2)
        var inputs = ["+1 (415) 555-0132", "(415) 555-0132", "415.555.0132", "+33 1 42 68 53 00", "0049-30-1234567",
                      "+1-800-FLOWERS", "ext. 42"]
        for _ in 0..<200 { inputs.append("+1 (\(random.digits(3))) \(random.digits(3))-\(random.digits(4))") }
        for input in inputs {
            let output = try masked(phone, input)
            #expect(output.count == input.count && nonDigitLayout(output) == nonDigitLayout(input), "\(input) → \(output)")
        }
        #expect(try masked(phone, "+1 (415) 555-0132") != "+1 (415) 555-0132")

        let uk = try masked(phone, "+44 20 7946 0958")
        #expect(uk.hasPrefix("+44 "), "\(uk)")
        #expect(uk.count == 16 && nonDigitLayout(uk) == nonDigitLayout("+44 20 7946 0958"))
        #expect(uk != "+44 20 7946 0958")

        let keepLast = try compile("phone", ["keep_last": "2"])
        let keepFirst = try compile("phone", ["keep_first": "3", "keep_country_code": "false"])
        for input in inputs.suffix(100) {
            let last = try masked(keepLast, input)
            #expect(asciiDigits(last).suffix(2) == asciiDigits(input).suffix(2))
            #expect(nonDigitLayout(last) == nonDigitLayout(input))
            let first = try masked(keepFirst, input)
            #expect(asciiDigits(first).prefix(3) == asciiDigits(input).prefix(3))
            #expect(nonDigitLayout(first) == nonDigitLayout(input))
        }
    }

    /// Plausible numbers (area 001–899 but 666, group and serial not zero) stay plausible;
    /// placeholders and ITINs stay in their own class, so the mapping stays one-to-one.
    @Test func ssnsKeepTheirPlausibility() throws {
        let ssn = try compile("ssn")
        var random = SplitMix(state: 3)
        var inputs = ["123-45-6789", "078-05-1120", "219099999", "001-01-0001", "899-99-9999", "000-00-0000", "987-65-4321"]
        for _ in 0..<500 { inputs.append("\(random.digits(3))-\(random.digits(2))-\(random.digits(4))") }
        func isPlausible(_ text: String) -> Bool {
            let digits = asciiDigits(text)
            let area = digits[0] * 100 + digits[1] * 10 + digits[2]
            let group = digits[3] * 10 + digits[4]
            let serial = digits[5...].reduce(0) { $0 * 10 + $1 }
            return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
        }
        var plausibleSeen = 0
        for input in inputs {
            let output = try masked(ssn, input)
            #expect(nonDigitLayout(output) == nonDigitLayout(input) && output.count == input.count, "\(input) → \(output)")
            #expect(isPlausible(output) == isPlausible(input), "\(input) → \(output)")
            if isPlausible(input) { plausibleSeen += 1 }
        }
        #expect(plausibleSeen > 300)
    }

    @Test func ipKeepsFamilyAndPrefix() throws {
        let ip = try compile("ip")
        for input in ["192.168.10.24", "8.8.8.8", "0.0.0.0", "255.255.255.255"] {
            let output = try masked(ip, input)
            let octets = output.split(separator: ".")
            #expect(octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }, "\(output)")
        }
        let network = try masked(ip, "10.1.0.0/16")
        #expect(network.hasSuffix(".0.0/16"), "host bits stay zero: \(network)")
        #expect(network.split(separator: ".").count == 4)
        let host = try masked(ip, "10.1.2.3/16")
        #expect(host.hasSuffix(".2.3/16"), "\(host)")

        for input in ["2001:db8::1", "fe80::1ff:fe23:4567:890a", "::1"] {
            let output = try masked(ip, input)
            var raw = in6_addr()
            #expect(inet_pton(AF_INET6, output, &raw) == 1, "\(output)")
            #expect(!output.contains("/"))
        }
        let v6 = try masked(ip, "2001:db8:abcd:12::/64")
        #expect(v6.hasSuffix("/64"))
        var raw = in6_addr()
        #expect(inet_pton(AF_INET6, String(v6.dropLast(3)), &raw) == 1, "\(v6)")
        let bytes = withUnsafeBytes(of: &raw) { Array($0) }
        #expect(bytes[8...].allSatisfy { $0 == 0 }, "host bits of a /64 stay zero: \(v6)")

        // A /24 of addresses stays 256 distinct addresses.
        let outputs = try Set((0..<256).map { try masked(ip, "172.16.5.\($0)") })
        #expect(outputs.count == 256)
        for bad in ["300.1.1.1", "not-an-ip", "10.0.0.0/33", "1.2.3", "2001:db8::/129", "10.0.0.1/x"] {
            #expect(throws: MaskingError.self, "\(bad)") { try ip.mask(bad) }
        }
    }
}
