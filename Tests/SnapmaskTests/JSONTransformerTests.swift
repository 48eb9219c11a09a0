import Foundation
import Testing
@testable import Snapmask

/// `json` changes only the values at its paths; every other byte stays as it was.
@Suite struct JSONTransformerTests {
    static func json(_ paths: [(String, String)]) throws -> CompiledTransformer {
        let spec = TransformSpec(name: "json", options: [
            "paths": OptionValue(.paths(paths.map { ($0.0, TransformSpec(name: $0.1)) })),
        ])
        return try TransformerCatalog.compile(spec, key: testKey)
    }

    @Test func onlyTheValuesAtThePathsChange() throws {
        let input = #"""
            { "a" : {"items":[ {"email":"ann@corp.io","n":1.50e2}, {"n" : -0.0, "email": "bob@corp.io"},{}],
              "email":"keep@me.io"},
              "theme":"dark",   "list":[1,2 ,3], "t":true, "z":null }
            """#
        let transformer = try Self.json([("a.items[].email", "email")])
        let email = try compile("email")
        let expected = input
            .replacingOccurrences(of: #""ann@corp.io""#, with: "\"\(try masked(email, "ann@corp.io"))\"")
            .replacingOccurrences(of: #""bob@corp.io""#, with: "\"\(try masked(email, "bob@corp.io"))\"")
        #expect(try transformer.mask(input) == expected)
    }

    @Test func nestedPathsAndArraysOfScalars() throws {
        let input = #"{"contact": {"email": "ann@corp.io", "phones": ["555-0100", "555-0199"]}, "theme": "dark"}"#
        let transformer = try Self.json([("contact.email", "email"), ("contact.phones[]", "phone")])
        let email = try compile("email"), phone = try compile("phone")
        let expected = #"{"contact": {"email": "\#(try masked(email, "ann@corp.io"))", "phones": ["\#(try masked(phone, "555-0100"))", "\#(try masked(phone, "555-0199"))"]}, "theme": "dark"}"#
        #expect(try transformer.mask(input) == expected)
    }

    @Test func escapedStringsAndUnicodeEscapes() throws {
        let email = try compile("email")
        let transformer = try Self.json([("email", "email"), ("note", "lorem")])
        // The value is unescaped before masking: \u00e9 is é, \ud83d\ude00 is one emoji, \/ is /.
        let input = #"{"em\u0061il": "jo\u00e9\ud83d\ude00\/x@corp.io", "note": "say \"hi\"\n\tbye", "other": "\u00e9\"\\"}"#
        let output = try #require(try transformer.mask(input))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])
        let expectedEmail = try masked(email, "jo\u{E9}😀/x@corp.io")
        #expect(parsed["email"] == expectedEmail, "the escaped key matches the path")
        let note = try #require(parsed["note"])
        #expect(note.unicodeScalars.count == "say \"hi\"\n\tbye".unicodeScalars.count)
        #expect(note.contains("\"") && note.contains("\n\t"), "layout of the unescaped text kept: \(note)")
        #expect(output.hasSuffix(#", "other": "\u00e9\"\\"}"#), "untouched bytes stay escaped as written: \(output)")
        #expect(output.hasPrefix(#"{"em\u0061il": ""#))
    }

    @Test func numbersStayNumbersAndNullStaysNull() throws {
        let transformer = try Self.json([("price", "number_noise"), ("email", "email")])
        let output = try #require(try transformer.mask(#"{"price": 1249.90, "email": null}"#))
        #expect(output.hasSuffix(#", "email": null}"#), "\(output)")
        let price = output.dropFirst(#"{"price": "#.count).prefix { $0 != "," }
        #expect(Double(price) != nil && price.split(separator: ".").last?.count == 2, "\(output)")
    }

    @Test func documentsWithoutThePathAreUnchanged() throws {
        let transformer = try Self.json([("contact.email", "email")])
        for input in [#"{}"#, #"[]"#, #"{"contact": {}}"#, #"{"contact": []}"#, #"  {"x": [1, {"contact": 2}]}  "#, "null",
                      #"{"contact": null}"#] {
            #expect(try transformer.mask(input) == input)
        }
    }

    /// A non-empty value where the rule's path needs an object could hold the data the rule
    /// masks: it stops the run instead of being copied.
    @Test func valuesOfAnotherShapeOnThePathFail() throws {
        let transformer = try Self.json([("contact.email", "email")])
        for input in [#""jane@corp.io""#, "42", #"[{"contact": {"email": "a@b.io"}}]"#, #"{"contact": ["a@b.io"]}"#] {
            #expect(throws: MaskingError.self, "\(input)") { try transformer.mask(input) }
        }
    }

    @Test func invalidJSONFails() throws {
        let transformer = try Self.json([("contact.email", "email")])
        for bad in [#"{"contact": }"#, #"{"contact": {"email": "a@b.io"}"#, #"{"a" 1}"#, #"[1,]"#, #"{} x"#,
                    #"{"a": tru}"#, #"{"a": "unterminated}"#, " ", "{'a': 1}"] {
            #expect(throws: MaskingError.self, "\(bad)") { try transformer.mask(bad) }
        }
    }

    /// A document cut off right where a masked value should start must fail, not crash the run.
    @Test func truncatedAtAMaskedValueFails() async {
        await #expect(processExitsWith: .success) {
            let spec = TransformSpec(name: "json", options: ["paths": OptionValue(.paths([("email", TransformSpec(name: "email"))]))])
            let transformer = try! TransformerCatalog.compile(spec, key: try! MaskingKey("test-masking-key-0123456789abcdef"))
            for bad in [#"{"email":"#, #"{"email": "#, #"[{"email":"#] {
                do {
                    _ = try transformer.mask(bad)
                    exit(2)  // accepted invalid JSON
                } catch {}
            }
        }
    }

    /// Deeply nested documents (PostgreSQL json accepts thousands of levels) must not overflow the stack.
    @Test func deeplyNestedDocumentDoesNotCrash() async {
        await #expect(processExitsWith: .success) {
            let spec = TransformSpec(name: "json", options: ["paths": OptionValue(.paths([("email", TransformSpec(name: "email"))]))])
            let transformer = try! TransformerCatalog.compile(spec, key: try! MaskingKey("test-masking-key-0123456789abcdef"))
            let depth = 10_000
            let document = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            _ = try? transformer.mask(document)
            _ = try? transformer.mask(String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth))
        }
    }

    /// A path that expects an array or object but meets a plain value must not copy that value
    /// unmasked: it is masked, or the value is refused (fail closed).
    @Test func unexpectedShapeAtAPathIsNotCopiedUnmasked() throws {
        let transformer = try Self.json([("contact.phones[]", "phone"), ("contact.email", "email")])
        for input in [#"{"contact": {"phones": "+1 415 555 0132"}}"#, #"{"contact": "jane.doe@acme.io"}"#] {
            do {
                let output = try transformer.mask(input)
                #expect(output != input, "copied unmasked: \(input)")
            } catch {
                // Refusing the value is fine.
            }
        }
    }

    @Test func refusesOverlappingPaths() {
        #expect(throws: ConfigError.self) { try Self.json([("contact", "hash"), ("contact.email", "email")]) }
        #expect(throws: ConfigError.self) { try Self.json([("contact[0]", "hash")]) }
        #expect(throws: ConfigError.self) { try Self.json([]) }
    }
}
