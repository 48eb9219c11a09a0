import Foundation
import Testing
@testable import Snapmask

/// `json` masks along path rules with the semantics of document collections: every value needs a
/// rule (its path or an enclosing one), `keep` keeps a subtree byte for byte, a masking
/// transformer masks every leaf under its path in place, and every byte no rule changes stays.
@Suite struct JSONTransformerTests {
    static func json(_ paths: [(String, String)], unlisted: String? = nil) throws -> CompiledTransformer {
        var options: [String: OptionValue] = ["paths": OptionValue(.paths(paths.map { ($0.0, TransformSpec(name: $0.1)) }))]
        if let unlisted { options["unlisted"] = .text(unlisted) }
        return try TransformerCatalog.compile(TransformSpec(name: "json", options: options), key: testKey)
    }

    /// The rules as a rule file writes them (map rules included).
    static func json(yaml: String) throws -> CompiledTransformer {
        let rules = try RuleSet.parse("tables:\n  t: { columns: { doc: { transform: json, \(yaml) } } }\n", file: "rules.yaml")
        return try #require(try CompiledRules.compile(rules, key: testKey).table(named: "t")?.column(named: "doc")?.transformer)
    }

    @Test func onlyTheValuesAtThePathsChange() throws {
        let input = #"""
            { "a" : {"items":[ {"email":"ann@corp.io","n":1.50e2}, {"n" : -0.0, "email": "bob@corp.io"},{}],
              "email":"keep@me.io"},
              "theme":"dark",   "list":[1,2 ,3], "t":true, "z":null }
            """#
        let transformer = try Self.json([("a.items[].email", "email"), ("a.items[].n", "keep"), ("a.email", "keep"),
                                         ("theme", "keep"), ("list", "keep"), ("t", "keep"), ("z", "keep")])
        let email = try compile("email")
        let expected = input
            .replacingOccurrences(of: #""ann@corp.io""#, with: "\"\(try masked(email, "ann@corp.io"))\"")
            .replacingOccurrences(of: #""bob@corp.io""#, with: "\"\(try masked(email, "bob@corp.io"))\"")
        #expect(try transformer.mask(input) == expected)
    }

    @Test func nestedPathsAndArraysOfScalars() throws {
        let input = #"{"contact": {"email": "ann@corp.io", "phones": ["555-0100", "555-0199"]}, "theme": "dark"}"#
        let transformer = try Self.json([("contact.email", "email"), ("contact.phones[]", "phone"), ("theme", "keep")])
        let email = try compile("email"), phone = try compile("phone")
        let expected = #"{"contact": {"email": "\#(try masked(email, "ann@corp.io"))", "phones": ["\#(try masked(phone, "555-0100"))", "\#(try masked(phone, "555-0199"))"]}, "theme": "dark"}"#
        #expect(try transformer.mask(input) == expected)
    }

    @Test func escapedStringsAndUnicodeEscapes() throws {
        let email = try compile("email")
        let transformer = try Self.json([("email", "email"), ("note", "lorem"), ("other", "keep")])
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

    /// The three shapes a subtree rule used to break: `keep` on an array, `keep` on the elements
    /// of an array holding objects and arrays, a masking transformer on an object.
    @Test func keepOnASubtreeKeepsItByteForByte() throws {
        #expect(try Self.json([("list", "keep")]).mask(#"{"list":[1,2,"x"]}"#) == #"{"list":[1,2,"x"]}"#)
        #expect(try Self.json([("tags[]", "keep")]).mask(#"{"tags":[{"a":1},[2]]}"#) == #"{"tags":[{"a":1},[2]]}"#)
        let kinds = #"{"o": {"a": [1, {"b": null}], "s": "x", "n": -1.5e3, "t": true, "z": null}}"#
        #expect(try Self.json([("o", "keep")]).mask(kinds) == kinds, "every type under a kept path stays as written")
    }

    @Test func aMaskingTransformerOnAnObjectMasksEveryLeafInPlace() throws {
        let email = try compile("email")
        let output = try Self.json([("contact", "email")]).mask(#"{"contact":{"email":"a@b.io","work":"c@d.io"}}"#)
        #expect(output == #"{"contact":{"email":"\#(try masked(email, "a@b.io"))","work":"\#(try masked(email, "c@d.io"))"}}"#)
    }

    @Test func nestedArraysOfObjectsKeepTheirShape() throws {
        let email = try compile("email"), lorem = try compile("lorem")
        let transformer = try Self.json([("orders[].to", "email"), ("orders[].qty", "keep"), ("orders[].notes[]", "lorem")])
        let input = #"{"orders":[{"to":{"home":"a@b.io","old":["c@d.io",{"x":"e@f.io"}],"ok":true},"qty":2,"notes":["Call Ann",["at 5"]]},{"to":null,"qty":1,"notes":[]}]}"#
        let expected = #"{"orders":[{"to":{"home":"\#(try masked(email, "a@b.io"))","old":["\#(try masked(email, "c@d.io"))",{"x":"\#(try masked(email, "e@f.io"))"}],"ok":true},"qty":2,"notes":["\#(try masked(lorem, "Call Ann"))",["\#(try masked(lorem, "at 5"))"]]},{"to":null,"qty":1,"notes":[]}]}"#
        let output = try #require(try transformer.mask(input))
        #expect(output == expected)
        // Same keys, array lengths and types as the input.
        #expect(Self.shape(try #require(JSONValue.parse(input))) == Self.shape(try #require(JSONValue.parse(output))))
    }

    /// A description of a value's keys, lengths and types, without its text.
    static func shape(_ value: JSONValue) -> String {
        switch value {
        case let .object(fields): return "{" + fields.map { "\($0.0):\(shape($0.1))" }.joined(separator: ",") + "}"
        case let .array(elements): return "[" + elements.map(shape).joined(separator: ",") + "]"
        case let .scalar(text, isString):
            return isString ? "s" : ["true", "false"].contains(text) ? "b" : text == "null" ? "null" : "n"
        }
    }

    @Test func theMostSpecificRuleWins() throws {
        let email = try compile("email"), hash = try compile("hash")
        let transformer = try Self.json([("contact", "hash"), ("contact.email", "email"), ("profile", "keep"),
                                         ("profile.ssn", "null")])
        let output = try transformer.mask(#"{"contact":{"email":"a@b.io","fax":"555"},"profile":{"ssn":"123-45-6789","age":40}}"#)
        #expect(output == #"{"contact":{"email":"\#(try masked(email, "a@b.io"))","fax":"\#(try masked(hash, "555"))"},"profile":{"ssn":null,"age":40}}"#)
    }

    @Test func nullOnASubtreeReplacesTheWholeValue() throws {
        let transformer = try Self.json([("contact", "null"), ("id", "keep")])
        #expect(try transformer.mask(#"{"id": 7, "contact": {"email": "a@b.io", "phones": ["555"]}}"#)
                    == #"{"id": 7, "contact": null}"#)
        #expect(try transformer.mask(#"{"id": 7, "contact": ["a@b.io"]}"#) == #"{"id": 7, "contact": null}"#)
    }

    @Test func numbersUnderASubtreeNeedATransformerThatTakesNumbers() throws {
        #expect(throws: MaskingError.self) { try Self.json([("contact", "email")]).mask(#"{"contact": {"zip": 94110}}"#) }
        let digits = try compile("digits")
        #expect(try Self.json([("ids", "digits")]).mask(#"{"ids": {"a": 4155550101, "b": "x-12"}}"#)
                    == #"{"ids": {"a": \#(try masked(digits, "4155550101")), "b": "\#(try masked(digits, "x-12"))"}}"#)
    }

    @Test func booleansAndNullsUnderASubtreeAreKeptUnlessConstant() throws {
        let email = try compile("email")
        #expect(try Self.json([("c", "email")]).mask(#"{"c": {"v": true, "n": null, "e": "a@b.io"}}"#)
                    == #"{"c": {"v": true, "n": null, "e": "\#(try masked(email, "a@b.io"))"}}"#)
        let constant = try Self.json(yaml: #"paths: { c: { transform: constant, value: "false" } }"#)
        #expect(try constant.mask(#"{"c": {"v": true, "s": "x"}}"#) == #"{"c": {"v": false, "s": "false"}}"#)
        let word = try Self.json(yaml: #"paths: { c: { transform: constant, value: "redacted" } }"#)
        #expect(throws: MaskingError.self, "a boolean keeps its type") { try word.mask(#"{"c": {"v": true}}"#) }
    }

    /// Fail closed: a key no rule covers stops the value, naming its path (never its value).
    @Test func aKeyWithoutARuleStopsTheValue() throws {
        let transformer = try Self.json([("contact.email", "email")])
        for (input, path) in [(#"{"contact": {"email": "a@b.io"}, "ssn": "123-45-6789"}"#, "ssn"),
                              (#"{"contact": {"email": "a@b.io", "fax": "555"}}"#, "contact.fax"),
                              (#"{"x": [1, {"contact": 2}]}"#, "x")] {
            do {
                let output = try transformer.mask(input)
                Issue.record("copied a value no rule covers: \(String(describing: output))")
            } catch {
                #expect(error.reason.contains("path \(path) has no rule"), "\(error)")
                #expect(!error.reason.contains("123-45") && !error.reason.contains("555"), "\(error)")
            }
        }
        // A field name that reads like data is shown as a digest; holding nothing does not let
        // it through, since the name itself would be copied.
        for input in [#"{"jane.doe@corp.io": 1}"#, #"{"jane.doe@corp.io": null}"#, #"{"contact": {"jane.doe@corp.io": {}}}"#,
                      #"{"contact": {"email": "a@b.io"}, "jane.doe@corp.io": []}"#] {
            do {
                let output = try transformer.mask(input)
                Issue.record("copied an unruled key: \(String(describing: output))")
            } catch {
                #expect(error.reason.contains("has no rule") && !error.reason.contains("jane"), "\(error)")
            }
        }
    }

    /// Field names are found by their bytes when they are ASCII; a name Swift calls equal in
    /// another spelling (a decomposed accent, the Kelvin sign for K) still finds its rule.
    @Test func fieldNamesFindTheirRulesInEverySpelling() throws {
        let email = try compile("email")
        let fake = try masked(email, "a@b.io")
        for (rule, key) in [("contact.email", "email"), ("contact.\u{e9}mail", "e\u{301}mail"),
                            ("contact.\u{212a}ey", "Key"), ("contact.Key", "Key")] {
            let transformer = try Self.json([(rule, "email")])
            #expect(try transformer.mask(#"{"contact": {"\#(key)": "a@b.io"}}"#) == #"{"contact": {"\#(key)": "\#(fake)"}}"#,
                    "rule \(rule)")
            // Only the named field: a neighbour is still unruled.
            #expect(throws: MaskingError.self) { try transformer.mask(#"{"contact": {"\#(key)": "a@b.io", "Kex": 1}}"#) }
        }
    }

    @Test func unlistedKeepCopiesWhatNoRuleNames() throws {
        let email = try compile("email")
        let transformer = try Self.json([("contact.email", "email")], unlisted: "keep")
        #expect(try transformer.mask(#"{"contact": {"email": "a@b.io", "fax": "555"}, "x": [1]}"#)
                    == #"{"contact": {"email": "\#(try masked(email, "a@b.io"))", "fax": "555"}, "x": [1]}"#)
    }

    @Test func documentsThatHoldNothingOnTheRulePathsAreUnchanged() throws {
        let transformer = try Self.json([("contact.email", "email")])
        for input in [#"{}"#, #"[]"#, #"{"contact": {}}"#, #"{"contact": []}"#, "null", #"{"contact": null}"#] {
            #expect(try transformer.mask(input) == input)
        }
    }

    /// A non-empty value where the rule's path needs an object could hold the data the rule
    /// masks: it stops the run instead of being copied.
    @Test func valuesOfAnotherShapeOnThePathFail() throws {
        let transformer = try Self.json([("contact.email", "email")])
        for input in [#""jane@corp.io""#, "42", #"[{"contact": {"email": "a@b.io"}}]"#, #"{"contact": ["a@b.io"]}"#,
                      #"{"contact": "jane.doe@acme.io"}"#] {
            #expect(throws: MaskingError.self, "\(input)") { try transformer.mask(input) }
        }
    }

    /// A single value where the rule expects an array of them is masked by that rule.
    @Test func aSingleValueWhereAnArrayIsExpectedIsMasked() throws {
        let phone = try compile("phone")
        let transformer = try Self.json([("contact.phones[]", "phone")])
        #expect(try transformer.mask(#"{"contact": {"phones": "+1 415 555 0132"}}"#)
                    == #"{"contact": {"phones": "\#(try masked(phone, "+1 415 555 0132"))"}}"#)
    }

    @Test func mapKeyedByDataHasItsFieldNamesMasked() throws {
        let hash = try compile("hash")
        let transformer = try Self.json(yaml: #"paths: { read_by: { keys: hash, values: keep }, "id": keep }"#)
        let output = try transformer.mask(#"{"id": 1, "read_by": {"alice": {"at": 3}, "+14155550132": {"at": 4}}}"#)
        #expect(output == #"{"id": 1, "read_by": {"\#(try masked(hash, "alice"))":{"at": 3}, "\#(try masked(hash, "+14155550132"))":{"at": 4}}}"#)
        let keysKept = try Self.json(yaml: #"paths: { tags: { keys: keep }, "tags.*": lorem }"#)
        let lorem = try compile("lorem")
        #expect(try keysKept.mask(#"{"tags": {"red": "Ann"}}"#) == #"{"tags": {"red": "\#(try masked(lorem, "Ann"))"}}"#)
        let top = try Self.json(yaml: #"keys: hash, paths: { "*": keep }"#)
        #expect(try top.mask(#"{"bob": 1}"#) == #"{"\#(try masked(hash, "bob"))":1}"#)
    }

    @Test func ruleProblemsAreRefusedUpFront() {
        let problems: [(String, String)] = [
            (#"paths: { "read_by.*": keep }"#, "has no keys: rule"),
            (#"paths: { contact: null, contact.email: email }"#, "which is null"),
            (#"paths: { read_by: { keys: first_name, values: keep } }"#, "must keep distinct field names distinct"),
            (#"paths: { read_by: { keys: hash, values: keep }, "read_by.*": lorem }"#, "two rules"),
            (#"paths: { "contact[0]": hash }"#, "not indexes"),
        ]
        for (yaml, expected) in problems {
            do {
                _ = try Self.json(yaml: yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect("\(error)".contains(expected), "\(yaml): \(error)")
            }
        }
        #expect(throws: ConfigError.self) { try Self.json([]) }
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

    /// Deeply nested documents (PostgreSQL json accepts thousands of levels) must not overflow
    /// the stack, on a kept path, an unruled one, or under a masking rule.
    @Test func deeplyNestedDocumentDoesNotCrash() async {
        await #expect(processExitsWith: .success) {
            let key = try! MaskingKey("test-masking-key-0123456789abcdef")
            let spec = TransformSpec(name: "json", options: ["paths": OptionValue(.paths([
                ("email", TransformSpec(name: "email")), ("kept", TransformSpec(name: "keep")), ("note", TransformSpec(name: "lorem")),
            ]))])
            let transformer = try! TransformerCatalog.compile(spec, key: key)
            let depth = 10_000
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            _ = try? transformer.mask(nested)
            _ = try? transformer.mask(String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth))
            guard (try? transformer.mask(#"{"kept": \#(nested)}"#)) != nil else { exit(2) }
            guard (try? transformer.mask(#"{"note": \#(nested)}"#)) == nil else { exit(3) }
        }
    }
}
