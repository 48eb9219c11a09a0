import Foundation
import Testing
@testable import Snapmask

/// `unique: true` promises distinct outputs for distinct inputs: checked on a million values.
@Suite(.serialized) struct UniquenessTests {
    static let count = 1_000_000

    /// Masks `count` distinct inputs and returns how many distinct outputs came out.
    static func distinctOutputs(_ transformer: CompiledTransformer, input: (Int) -> String) throws -> Int {
        var outputs = Set<String>(minimumCapacity: count)
        for index in 0..<count {
            outputs.insert(try #require(try transformer.mask(input(index))))
        }
        return outputs.count
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: width - text.count) + text
    }

    @Test func email() throws {
        let email = try compile("email", unique: true)
        #expect(try Self.distinctOutputs(email) { "user\($0)@corp.example" } == Self.count)
    }

    @Test func hash() throws {
        let hash = try compile("hash", unique: true)
        #expect(try Self.distinctOutputs(hash) { "customer-\($0)" } == Self.count)
    }

    @Test func uuid() throws {
        let uuid = try compile("uuid", unique: true)
        #expect(try Self.distinctOutputs(uuid) { "00000000-0000-4000-8000-\(Self.padded($0, 12))" } == Self.count)
    }

    @Test func username() throws {
        let username = try compile("username", unique: true)
        #expect(try Self.distinctOutputs(username) { "user_\($0)" } == Self.count)
    }

    @Test func phone() throws {
        let phone = try compile("phone", unique: true)
        // +1 (415) 5dd-dddd: a million distinct numbers in one format.
        #expect(try Self.distinctOutputs(phone) { index in
            let digits = Self.padded(index, 6)
            return "+1 (415) 5\(digits.prefix(2))-\(digits.suffix(4))"
        } == Self.count)
    }

    /// `ssn` walks the permutation's cycle until the result looks issuable. An input that does not
    /// look issuable itself (an ITIN 9xx, a 000 placeholder) then lands on the same output as the
    /// input just before it in the cycle.
    @Test func ssnKeepsImplausibleInputsDistinct() throws {
        let ssn = try compile("ssn", unique: true)
        let permutation = FormatPreservingPermutation(key: testKey.sipKey("ssn"))
        func text(_ number: UInt64) -> String {
            let digits = Self.padded(Int(number), 9)
            return "\(digits.prefix(3))-\(digits.dropFirst(3).prefix(2))-\(digits.suffix(4))"
        }
        var checked = 0
        for candidate in UInt64(123_456_789)..<123_556_789 where DigitTransformers.isPlausibleSSN(candidate) {
            let next = permutation.permuteNumber(candidate, digitCount: 9, tweak: 0)
            guard !DigitTransformers.isPlausibleSSN(next) else { continue }
            let a = text(candidate), b = text(next)
            let maskedA = try ssn.mask(a), maskedB = try ssn.mask(b)
            #expect(maskedA != maskedB, "\(a) and \(b) both become \(maskedA ?? "nil")")
            checked += 1
            if checked == 3 { break }
        }
        #expect(checked == 3)
    }

    /// Digits of any script are replaced (none is copied as is); a number written in
    /// Arabic-Indic digits and the same number in ASCII digits are still distinct inputs.
    @Test(arguments: ["phone", "digits", "ssn"])
    func digitsOfOtherScriptsStayDistinct(name: String) throws {
        let transformer = try compile(name, unique: true)
        let ascii = "123-45-6789"
        let arabicIndic = "\u{661}\u{662}\u{663}-\u{664}\u{665}-\u{666}\u{667}\u{668}\u{669}"
        let maskedASCII = try transformer.mask(ascii), maskedArabic = try transformer.mask(arabicIndic)
        #expect(maskedASCII != maskedArabic, "\(name): both become \(maskedASCII ?? "nil")")
    }

    @Test func uniqueIsRefusedWhereItCannotHold() throws {
        let firstName = configError { try compile("first_name", unique: true) }
        #expect(firstName?.message.contains("cannot promise unique") == true, "\(String(describing: firstName))")
        let shortHash = configError { try compile("hash", ["length": "8"], unique: true) }
        #expect(shortHash?.message.contains("32 bits") == true, "\(String(describing: shortHash))")
        #expect(try compile("hash", ["length": "16"], unique: true).isUnique)
        #expect(try compile("hash", ["length": "13", "encoding": "base32"], unique: true).isUnique)
        #expect(throws: ConfigError.self) { try compile("hash", ["length": "12", "encoding": "base32"], unique: true) }
        for name in ["last_name", "city", "lorem", "credit_card", "constant", "null", "date_shift"] {
            #expect(throws: ConfigError.self, "\(name)") {
                try TransformerCatalog.compile(TransformerContractTests.spec(name).withUnique, key: testKey)
            }
        }
    }

    @Test(arguments: TransformerCatalog.all.filter { $0.uniqueness.canPromise }.map(\.name))
    func everyTransformerThatPromisesUniquenessCompilesWithIt(name: String) throws {
        let compiled = try TransformerCatalog.compile(TransformerContractTests.spec(name).withUnique, key: testKey)
        #expect(compiled.isUnique)
        // unique never changes the mapping.
        let plain = try TransformerCatalog.compile(TransformerContractTests.spec(name), key: testKey)
        for input in TransformerContractTests.deterministicInputs(name) {
            #expect(try compiled.mask(input) == plain.mask(input))
        }
    }

    @Test func catalogHasTheExpectedUniqueTransformers() {
        let unique = Set(TransformerCatalog.all.filter { $0.uniqueness.canPromise }.map(\.name))
        #expect(unique.isSuperset(of: ["keep", "hash", "email", "username", "phone", "digits", "ssn", "ip", "uuid"]))
    }
}

extension TransformSpec {
    var withUnique: TransformSpec {
        var copy = self
        copy.unique = true
        return copy
    }
}
