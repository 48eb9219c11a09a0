import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// The BSON masker on its own (no server): path semantics, type rules, fail-closed streaming.
@Suite struct DocumentMaskerTests {
    static let key = try! MaskingKey(TestJob.maskingKey)

    static func rules(_ fields: String, unlisted: String = "fail") throws -> CompiledTable {
        let text = "unlisted: \(unlisted)\ncollections:\n  c:\n    fields:\n"
            + fields.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        let compiled = try CompiledRules.compile(try RuleSet.parse(text, file: "rules.yaml"), key: key)
        return compiled.table(named: "c")!
    }

    static func bson(_ json: String) throws -> [UInt8] { try BSONDocument(json: json).bytes }

    static func canonical(_ bytes: [UInt8]) throws -> String { try BSONDocument(bytes: bytes).canonicalJSON }

    /// Masks documents (extended JSON) with the rules; returns each result as canonical extended JSON.
    static func mask(_ documents: [String], _ fields: String, unlisted: String = "fail") throws -> [String] {
        let masker = DocumentMasker(collection: "c", rules: try rules(fields, unlisted: unlisted),
                                    unlisted: unlisted == "keep" ? .keep : .fail)
        let data = try documents.flatMap { try bson($0) }
        let out = try masker.mask(RowBatch(data: data, rowCount: documents.count, firstRow: 0))
        var results: [String] = []
        var position = 0
        while position < out.data.count {
            let length = Int(out.data[position]) | Int(out.data[position + 1]) << 8 | Int(out.data[position + 2]) << 16
                | Int(out.data[position + 3]) << 24
            results.append(try canonical(Array(out.data[position..<(position + length)])))
            position += length
        }
        return results
    }

    static func email(_ value: String) throws -> String {
        try TransformerCatalog.compile(TransformSpec(name: "email"), key: key).mask(value)!
    }

    @Test func keptDocumentsAreByteIdenticalWhateverTheirTypes() throws {
        let document = #"""
            {"_id": {"$oid": "650000000000000000000001"}, "i32": {"$numberInt": "7"}, "i64": {"$numberLong": "7"},
             "dbl": {"$numberDouble": "-0.0"}, "nan": {"$numberDouble": "NaN"}, "dec": {"$numberDecimal": "1234.5000"},
             "date": {"$date": {"$numberLong": "-14182940000"}}, "bin": {"$binary": {"base64": "AP8=", "subType": "80"}},
             "uuid": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAQ==", "subType": "04"}}, "t": true, "null": null,
             "nested": {"a": {"b": [1, {"c": null}]}}, "arr": [1, "two", {"$numberLong": "3"}], "e": {}, "ea": [],
             "ts": {"$timestamp": {"t": 1700000000, "i": 5}}, "re": {"$regularExpression": {"pattern": "^a", "options": "i"}},
             "min": {"$minKey": 1}, "s": "é😀"}
            """#
        let bytes = try Self.bson(document)
        let masker = DocumentMasker(collection: "c", rules: try Self.rules("""
            _id: keep
            i32: keep
            i64: keep
            dbl: keep
            nan: keep
            dec: keep
            date: keep
            bin: keep
            uuid: keep
            t: keep
            "null": keep
            nested: keep
            arr: keep
            e: keep
            ea: keep
            ts: keep
            re: keep
            min: keep
            s: keep
            """), unlisted: .fail)
        let out = try masker.mask(RowBatch(data: bytes, rowCount: 1, firstRow: 0))
        #expect(out.data == bytes)
    }

    @Test func masksPathsInsideArraysOfDocumentsAndKeepsEverythingElse() throws {
        let result = try Self.mask([#"""
            {"_id": 1, "sender": {"email": "ann@corp.example", "name": "Ann"},
             "recipients": [{"email": "bob@corp.example", "n": 1}, {"email": "cy@corp.example", "n": 2}],
             "tags": ["a", "b"]}
            """#], """
            _id: keep
            sender.email: email
            sender.name: keep
            "recipients[].email": email
            "recipients[].n": keep
            tags: keep
            """)
        let text = result[0]
        #expect(!text.contains("ann@corp.example") && !text.contains("bob@corp.example") && !text.contains("cy@corp.example"))
        let bob = try Self.email("bob@corp.example"), ann = try Self.email("ann@corp.example")
        #expect(text.contains(bob) && text.contains(ann))
        #expect(text.contains(#""n" : { "$numberInt" : "2" }"#) && text.contains(#""name" : "Ann""#))
        #expect(text.contains(#""tags" : [ "a", "b" ]"#))
    }

    /// ASCII strings are masked from their bytes, the others through strings: a document's
    /// masked values are the transformer's string outputs either way, whatever the value holds.
    @Test func asciiAndOtherStringsMaskAsTheTransformersStringPathDoes() throws {
        let fields: [(name: String, rule: String, spec: TransformSpec, values: [String])] = [
            ("email", "email", TransformSpec(name: "email"),
             ["ann@corp.example", "José.Núñez@corp.example", "a\u{0}b@corp.example", "", "ANN@Corp.Example", "x@y"]),
            ("phone", "{ transform: phone, keep_last: 2 }", TransformSpec(name: "phone", options: ["keep_last": OptionValue(.text("2"))]),
             ["+1 (415) 555-0132", "555\u{a0}0132", "+44 20 7946 0958", "", "(415)\t555-0133", "415.555.0134"]),
            ("card", "credit_card", TransformSpec(name: "credit_card"),
             ["4111 1111 1111 1111", "4111\u{2009}1111\u{2009}1111\u{2009}1111", "5500-0000-0000-0004", "", "378282246310005",
              "6011111111111117"]),
            ("home", "address", TransformSpec(name: "address"),
             ["12 Main St, Springfield", "7 Ærøgade, København", "1600 Amphitheatre Pkwy\tMountain View", "", "\\ \"q\"",
              "PO Box 12"]),
        ]
        let transformers = try fields.map { try TransformerCatalog.compile($0.spec, key: Self.key) }
        func json(_ text: String) throws -> String { String(decoding: try JSONEncoder().encode(text), as: UTF8.self) }
        var documents: [String] = []
        var expected: [String] = []
        for row in 0..<6 {
            documents.append("{" + (try fields.map { "\"\($0.name)\": \(try json($0.values[row]))" }).joined(separator: ", ") + "}")
            expected.append(try Self.canonical(try Self.bson("{" + (try fields.indices.map { index in
                "\"\(fields[index].name)\": \(try json(try transformers[index].mask(fields[index].values[row]) ?? ""))"
            }).joined(separator: ", ") + "}")))
        }
        let masked = try Self.mask(documents, fields.map { "\($0.name): \($0.rule)" }.joined(separator: "\n"))
        #expect(masked == expected)
    }

    @Test func subtreeRulesCoverEverythingBelowAndTheMostSpecificRuleWins() throws {
        let result = try Self.mask([#"{"_id": 1, "profile": {"email": "ann@corp.example", "theme": "dark", "deep": {"x": [1, 2]}}}"#],
                                   """
                                   _id: keep
                                   profile: keep
                                   profile.email: email
                                   """)
        let ann = try Self.email("ann@corp.example")
        #expect(result[0].contains(ann) && result[0].contains(#""theme" : "dark""#))
        #expect(result[0].contains(#""x" : [ { "$numberInt" : "1" }, { "$numberInt" : "2" } ]"#))
        let nulled = try Self.mask([#"{"_id": 1, "profile": {"email": "ann@corp.example", "list": [1]}}"#],
                                   "_id: keep\nprofile: null")
        #expect(nulled[0].contains(#""profile" : null"#))
        let leaves = try Self.mask([#"{"_id": 1, "contact": {"home": "ann@corp.example", "work": ["bo@corp.example"]}}"#],
                                   "_id: keep\ncontact: email")
        let bo = try Self.email("bo@corp.example")
        #expect(!leaves[0].contains("@corp.example") && leaves[0].contains(bo))
    }

    @Test func valuesKeepTheirTypeWhenMasked() throws {
        let result = try Self.mask([#"""
            {"_id": 1, "phone": {"$numberLong": "4155550101"}, "small": {"$numberInt": "5550101"},
             "born": {"$date": "1984-07-19T10:11:12.345Z"}, "balance": {"$numberDecimal": "1234.56"},
             "ratio": 5550101.0, "id": {"$binary": {"base64": "AAAAAAAAQACAAAAAAAAAAQ==", "subType": "04"}},
             "flag": true, "gone": "x", "none": null}
            """#], """
            _id: keep
            phone: { transform: phone, keep_last: 2 }
            small: digits
            born: { transform: date_shift, max_days: 30 }
            balance: number_noise
            ratio: digits
            id: uuid
            flag: { transform: constant, value: "false" }
            gone: null
            none: email
            """)
        let text = result[0]
        #expect(text.contains(#""phone" : { "$numberLong" : ""#) && text.contains(#"01" }"#) && !text.contains("4155550101"))
        #expect(text.contains(#""small" : { "$numberInt" : ""#) && !text.contains(#""5550101""#))
        #expect(text.contains(#""born" : { "$date" : { "$numberLong" : ""#) && !text.contains("459079872345"))
        #expect(text.contains(#""balance" : { "$numberDecimal" : ""#) && !text.contains("1234.56"))
        #expect(text.contains(#""ratio" : { "$numberDouble" : ""#))
        #expect(text.contains(#""id" : { "$binary" : { "base64" : ""#) && text.contains(#""subType" : "04""#)
                    && !text.contains("AAAAAAAAQACAAAAAAAAAAQ=="))
        #expect(text.contains(#""flag" : false"#) && text.contains(#""gone" : null"#) && text.contains(#""none" : null"#))
        // The date moved by a whole number of days, time of day kept.
        let born = try #require(text.range(of: #""born" : { "$date" : { "$numberLong" : ""#))
        let millis = Int64(text[born.upperBound...].prefix { $0 != "\"" })!
        let original: Int64 = 459_079_872_345
        #expect((millis - original) % 86_400_000 == 0 && millis != original && abs(millis - original) <= 30 * 86_400_000)
    }

    @Test func aTransformerThatCannotMaskTheTypeStopsTheRun() throws {
        #expect {
            try Self.mask([#"{"_id": 1, "phone": {"$date": "2024-01-01T00:00:00Z"}}"#], "_id: keep\nphone: phone")
        } throws: { error in
            let text = "\(error)"
            return text.contains("path phone") && text.contains("phone cannot mask date values")
                && text.contains("document 1 of the copy (_id digest ")
        }
        #expect(throws: DocumentMaskingError.self) {
            try Self.mask([#"{"_id": 1, "n": {"$numberInt": "2000000000"}}"#], "_id: keep\nn: email")
        }
    }

    /// The message names the collection, the path and the document's position; the `_id` (which
    /// may be personal data) appears only as a digest.
    @Test func anUnruledPathStopsTheRunNamingCollectionPathAndPosition() throws {
        #expect {
            try Self.mask([#"{"_id": "a", "r": [{"email": "x@y.z"}]}"#, #"{"_id": {"$oid": "650000000000000000000009"}, "r": [{"email": "x@y.z", "ssn": "078-05-1120"}]}"#],
                          "_id: keep\n\"r[].email\": email")
        } throws: { error in
            guard let failure = error as? DocumentMaskingError else { return false }
            let text = "\(failure)"
            return failure.collection == "c" && failure.path == "r[].ssn" && failure.document == 1
                && text.contains("document 2 of the copy (_id digest ") && !text.contains("650000000000000000000009")
                && !text.contains("078-05-1120")
        }
        // A string where the rules expect a document is not copied either.
        #expect(throws: DocumentMaskingError.self) {
            try Self.mask([#"{"_id": 1, "contact": "ann@corp.example"}"#], "_id: keep\ncontact.email: email")
        }
        // Under unlisted: keep the same document is copied.
        let kept = try Self.mask([#"{"_id": 1, "r": [{"email": "x@y.z", "ssn": "1"}]}"#], "\"r[].email\": email",
                                 unlisted: "keep")
        #expect(kept[0].contains(#""ssn" : "1""#))
    }

    @Test func nullAndEmptyContainersOnARulePathHoldNothing() throws {
        let result = try Self.mask([#"{"_id": 1, "contact": null, "list": [], "doc": {}, "phones": "415-555-0101"}"#], """
            _id: keep
            contact.email: email
            "list[].email": email
            doc.email: email
            "phones[]": phone
            """)
        #expect(result[0].contains(#""contact" : null"#) && result[0].contains(#""list" : [  ]"#))
        #expect(!result[0].contains("415-555-0101"), "a single value where the rule expects an array is masked")
        #expect(throws: DocumentMaskingError.self) {
            try Self.mask([#"{"_id": 1, "other": {}}"#], "_id: keep")
        }
    }

    @Test func theCheckAndTheMaskerAgreeOnEveryPath() throws {
        // The reference (FieldPathRules.coverage) and the masker's walk decide alike.
        let table = try Self.rules("""
            _id: keep
            profile: keep
            profile.email: email
            "items[].name": keep
            "tags[]": lorem
            contact.email: email
            """)
        let tree = FieldPathRules(table)
        func covered(_ path: String, nothing: Bool = false) -> String {
            switch tree.coverage(of: try! FieldPath(path), holdsNothing: nothing) {
            case let .rule(column): return column.name
            case .holdsNothing: return "nothing"
            case .unruled: return "unruled"
            }
        }
        #expect(covered("profile.x.y") == "profile")
        #expect(covered("profile.email") == "profile.email")
        #expect(covered("items[].name") == "items[].name")
        #expect(covered("items[].size") == "unruled")
        #expect(covered("tags") == "tags[]")
        #expect(covered("contact", nothing: true) == "nothing")
        #expect(covered("contact") == "unruled")
        #expect(covered("other") == "unruled")
    }
}
