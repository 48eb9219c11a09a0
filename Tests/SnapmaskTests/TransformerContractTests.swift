import Foundation
import Testing
@testable import Snapmask

/// What every transformer promises: NULL and empty strings, arbitrary Unicode, determinism.
@Suite struct TransformerContractTests {
    /// A spec for each catalog entry with its required options filled in.
    static func spec(_ name: String, _ extra: [String: OptionValue] = [:]) -> TransformSpec {
        var options: [String: OptionValue] = [:]
        switch name {
        case "constant": options["value"] = .text("staging")
        case "json": options["paths"] = OptionValue(.paths([("contact.email", TransformSpec(name: "email")),
                                                             ("notes", TransformSpec(name: "keep"))]))
        case "regex": options["pattern"] = .text("[0-9]+"); options["with"] = .text("digits")
        default: break
        }
        options.merge(extra) { $1 }
        return TransformSpec(name: name, options: options)
    }

    static func build(_ name: String, key: MaskingKey = testKey) throws -> CompiledTransformer {
        try TransformerCatalog.compile(spec(name), key: key)
    }

    @Test(arguments: TransformerCatalog.names)
    func nullStaysNull(name: String) throws {
        #expect(try Self.build(name).mask(nil) == nil)
    }

    @Test func constantCanReplaceNull() throws {
        let replacing = try TransformerCatalog.compile(Self.spec("constant", ["replace_null": .text("true")]), key: testKey)
        #expect(try replacing.mask(nil) == "staging")
        #expect(try replacing.mask("x") == "staging")
        let nullConstant = try TransformerCatalog.compile(Self.spec("constant", ["value": OptionValue(.null)]), key: testKey)
        #expect(try nullConstant.mask("x") == nil)
    }

    @Test(arguments: TransformerCatalog.names)
    func emptyStaysEmpty(name: String) throws {
        let output = try Self.build(name).mask("")
        switch name {
        case "null": #expect(output == nil)
        case "constant": #expect(output == "staging")
        default: #expect(output == "", "\(name) turned an empty string into \(String(describing: output))")
        }
    }

    static let unicodeInputs = [
        "👩‍👩‍👧‍👦 family 🇯🇵 flag", "山田太郎", "مرحبا بالعالم", "שלום עולם", "e\u{301}\u{302}\u{303} cafe\u{301}",
        "Z\u{324}\u{354}\u{367}\u{311}a\u{308}\u{356}l\u{36E}g\u{30C}o\u{319}", "\u{FEFF}\u{200B}\u{200D}\u{2028}",
        "\u{10FFFF}\u{E000}", "१२३-४५-६७८९", "٠١٢٣٤٥٦٧٨٩", "１２３４", "Ünïcödé ñame@exämple.com", "+44 ２０ ７９４６ ０９５８",
        "🙂@🙂", "a\u{0}b".replacingOccurrences(of: "\u{0}", with: ""), String(repeating: "漢字🙂", count: 300),
        "ǅemal Ǳ", "ΣΊΣΥΦΟΣ σίσυφος", "\t\n\r ", "-", "@", "/", "{", "[]",
    ]

    /// Transformers that take any text: they must mask it, never fail or crash.
    static let freeText = ["keep", "null", "constant", "hash", "email", "first_name", "last_name", "full_name", "username",
                           "phone", "ssn", "digits", "street", "city", "zip", "address", "company", "partial", "regex",
                           "lorem", "uuid"]

    @Test(arguments: TransformerCatalog.names)
    func arbitraryUnicodeNeverCrashes(name: String) throws {
        let transformer = try Self.build(name)
        for input in Self.unicodeInputs {
            if Self.freeText.contains(name) {
                let output = try transformer.mask(input)
                #expect((output == nil) == (name == "null"), "\(name)")
                if ["lorem", "partial", "zip", "phone", "digits"].contains(name) {
                    #expect(output?.unicodeScalars.count == input.unicodeScalars.count, "\(name) keeps the length")
                }
                if ["email", "username", "hash", "uuid", "first_name", "last_name"].contains(name) {
                    #expect(output?.allSatisfy(\.isASCII) == true, "\(name): \(output ?? "nil")")
                }
            } else {
                // Structured values (dates, numbers, JSON, cards, IBANs, addresses) may refuse, never crash.
                _ = try? transformer.mask(input)
            }
        }
    }

    @Test(arguments: TransformerCatalog.names)
    func sameKeyAndInputGiveTheSameOutput(name: String) throws {
        let first = try Self.build(name), second = try Self.build(name)
        for input in Self.deterministicInputs(name) {
            #expect(try first.mask(input) == second.mask(input), "\(name)")
            #expect(try first.mask(input) == first.mask(input), "\(name)")
        }
    }

    /// Valid inputs for each transformer (structured ones need their format).
    static func deterministicInputs(_ name: String) -> [String] {
        switch name {
        case "credit_card": return ["4111 1111 1111 1111", "5555555555554444", "378282246310005"]
        case "iban": return ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432"]
        case "ip": return ["192.168.10.24", "10.1.0.0/16", "2001:db8::1", "8.8.8.8"]
        case "date_shift", "year_only": return ["1984-07-19", "2021-03-04T10:11:12Z", "19.07.1984", "20200229"]
        case "number_noise": return ["1249.90", "17", "-3.5", "100000"]
        case "coordinate": return ["51.507351", "-0.127758", "40.7", "-179.99", "90"]
        case "json": return [#"{"contact": {"email": "ann@corp.io"}}"#, #"{"contact": {"email": "bob@corp.io"}, "notes": null}"#]
        default: return ["jane.doe@acme.io", "Mary Ann Smith", "+1 (415) 555-0132", "123-45-6789", "SW1A 1AA",
                         "call 555-0132", "6f1c2a8e-1b7d-4c55-9d1e-3f0a2b4c6d8e", "Initech Corporation", "Hello, world!"]
        }
    }

    /// Transformers whose output depends on the key (all but keep, null, constant, partial,
    /// regex with a replacement, year_only).
    static let keyed = TransformerCatalog.names.filter { !["keep", "null", "constant", "partial", "year_only"].contains($0) }

    @Test(arguments: keyed)
    func differentKeyGivesADifferentMapping(name: String) throws {
        let a = try Self.build(name), b = try Self.build(name, key: otherKey)
        // Digit transformers leave text without digits as it is, whatever the key, and a lone
        // digit has only ten images: keep inputs with a run of three digits or more.
        let inputs = Self.deterministicInputs(name).filter { input in
            !["phone", "ssn", "digits", "regex"].contains(name) || input.range(of: "[0-9]{3}", options: .regularExpression) != nil
        }
        let differing = try inputs.filter { try a.mask($0) != b.mask($0) }.count
        // Small output spaces (names, cities, a date moved by ±30 days) may agree on one value, not on all.
        let small = ["first_name", "last_name", "full_name", "city", "date_shift", "number_noise", "company", "street"]
        if small.contains(name) {
            #expect(differing >= 1, "\(name)")
        } else {
            #expect(differing == inputs.count, "\(name)")
        }
    }

    @Test func sameEmailInTwoTablesAndInsideJSON() throws {
        let rules = try RuleSet.parse("""
            tables:
              users: { columns: { email: { transform: email, unique: true } } }
              orders: { columns: { customer_email: email, meta: { transform: json, paths: { buyer.email: email } } } }
            """, file: "rules.yaml")
        let compiled = try CompiledRules.compile(rules, key: testKey)
        let users = try #require(compiled.table(named: "users")?.column(named: "email")?.transformer)
        let orders = try #require(compiled.table(named: "orders")?.column(named: "customer_email")?.transformer)
        let meta = try #require(compiled.table(named: "orders")?.column(named: "meta")?.transformer)
        for input in ["jane.doe@acme.io", "bob@example.org", "Ünïcödé@exämple.de"] {
            let fromUsers = try masked(users, input)
            #expect(try masked(orders, input) == fromUsers, "unique: true never changes the mapping")
            #expect(try meta.mask(#"{"buyer": {"email": "\#(input)"}}"#) == #"{"buyer": {"email": "\#(fromUsers)"}}"#)
        }
    }

    @Test func fullNameUsesTheFirstAndLastNameMappings() throws {
        let full = try Self.build("full_name"), first = try Self.build("first_name"), last = try Self.build("last_name")
        #expect(try full.mask("Mary Ann Smith")
                    == "\(try masked(first, "Mary")) \(try masked(first, "Ann")) \(try masked(last, "Smith"))")
        #expect(try full.mask("Cher") == first.mask("Cher"))
    }
}
