import Testing
@testable import Snapmask

/// The digit, card, email, address and hash transformers mask ASCII fields from their bytes (no
/// strings made). That path must write exactly what the string path writes, fail where it fails,
/// and leave every field it cannot take (escapes, NULL, other scripts) to the string path.
@Suite struct ASCIIMaskingTests {
    static let specs: [(String, [String])] = [
        ("digits", []), ("digits", ["keep_first=2", "keep_last=3"]), ("phone", []), ("phone", ["keep_last=2"]),
        ("phone", ["keep_country_code=false"]), ("ssn", []), ("credit_card", []), ("credit_card", ["keep_last=4"]),
        ("email", []), ("email", ["keep_domain=true"]), ("email", ["domain=staging.test"]), ("address", []),
        ("hash", []), ("hash", ["length=64"]), ("hash", ["encoding=base32", "length=51"]), ("hash", ["length=7"]),
    ]

    /// Values of many shapes, digits and separators drawn from a fixed seed: lengths 0 to 40,
    /// chunk boundaries (18 digits) included, values with no digit, leading `+` and spaces.
    static let values: [String] = {
        var generator = SplitMix(state: 0x5eed)
        let alphabet = Array("0123456789 -+().x/#A@bZ")
        var values = ["", "+", "+1", "0", "12", "123-45-6789", "+44 20 7946 0958", "4111 1111 1111 1111", "no digits",
                      "Jane.Doe@Acme.io", "jane.doe@acme.io", "x@", "@", "a@b@c.IO", "1600 Pennsylvania Ave NW, Washington",
                      String(repeating: "9", count: 18), String(repeating: "1", count: 19), String(repeating: "7", count: 37)]
        for _ in 0..<2_000 {
            let length = generator.below(41)
            values.append(String((0..<length).map { _ in alphabet[generator.below(alphabet.count)] }))
        }
        return values
    }()

    @Test(arguments: specs.indices)
    func bytesAndStringsGiveTheSameOutput(_ index: Int) throws {
        let (name, options) = Self.specs[index]
        let transformer = try TransformerCatalog.compile(try TransformSpec.fromCommandLine(name: name, options: options),
                                                         key: testKey)
        #expect(transformer.masksASCIIInPlace)
        for value in Self.values {
            let fromString = Result { () throws(MaskingError) in try transformer.mask(value) }
            let bytes = Array(value.utf8)
            var output = [UInt8](repeating: 0, count: transformer.maskedLength(ofASCII: bytes.count))
            let fromBytes = Result { () throws(MaskingError) -> String? in
                let written = try bytes.withUnsafeBufferPointer { input throws(MaskingError) in
                    try output.withUnsafeMutableBufferPointer { buffer throws(MaskingError) in
                        try transformer.maskASCII(input, into: buffer)
                    }
                }
                return written.map { String(decoding: output.prefix($0), as: UTF8.self) }
            }
            switch (fromString, fromBytes) {
            case let (.success(expected), .success(written)):
                #expect(written == expected, "\(name) \(options) on \(value.debugDescription)")
            case let (.failure(expected), .failure(thrown)):
                #expect(thrown == expected, "\(name) \(options) on \(value.debugDescription)")
            default:
                Issue.record("\(name) \(options) on \(value.debugDescription): \(fromString) from the string, \(fromBytes) from bytes")
            }
        }
    }

    /// Every field of a row through the masker equals decoding it, masking the string and
    /// escaping the result: escaped fields, NULL, empty values and other scripts' digits included.
    @Test(arguments: [DelimitedText.Dialect.postgres, .mysql])
    func rowsMaskAsTheirDecodedValuesDo(_ dialect: DelimitedText.Dialect) throws {
        let rules = try CompiledRules.compile(try RuleSet.parse("""
            tables:
              t:
                columns:
                  id: keep
                  phone: { transform: phone, keep_last: 2 }
                  card: credit_card
            """, file: "rules.yaml"), key: testKey)
        let table = TableShape(name: "t", columns: [
            ColumnShape(name: "id", typeName: "integer", category: .number),
            ColumnShape(name: "phone", typeName: "text", category: .text),
            ColumnShape(name: "card", typeName: "text", category: .text)])
        let masker = DelimitedRowMasker(plan: TablePlan(table: table, rule: rules.table(named: "t")), dialect: dialect)
        let phones = ["+1 (415) 555-0132", "\\N", "", "555\\t0132", "12\\\\34", "\u{661}\u{662}\u{663}-\u{664}\u{665}\u{666}",
                      "call 555 0132 ☎", "0611-223344"]
        let cards = ["4111 1111 1111 1111", "\\N", "5500\\t0000\\t0000\\t0004", "4111-1111-1111-1111",
                     "\u{664}\u{661}\u{661}\u{661}\u{661}\u{661}\u{661}\u{661}\u{661}\u{661}"]
        var rows: [String] = []
        var expected = ""
        for index in 0..<40 {
            let phone = phones[index % phones.count], card = cards[index % cards.count]
            rows.append("\(index)\t\(phone)\t\(card)\n")
            var line: [UInt8] = Array("\(index)\t".utf8)
            for (raw, column) in [(phone, "phone"), (card, "card")] {
                let decoded = Array(raw.utf8).withUnsafeBufferPointer { DelimitedText.decode($0, dialect: dialect) }
                let transformer = try #require(rules.table(named: "t")?.column(named: column)?.transformer)
                if let masked = try transformer.mask(decoded) {
                    DelimitedText.appendEscaped(masked, to: &line, dialect: dialect)
                } else {
                    DelimitedText.appendNull(to: &line)
                }
                line.append(column == "phone" ? UInt8(ascii: "\t") : UInt8(ascii: "\n"))
            }
            expected += String(decoding: line, as: UTF8.self)
        }
        let batch = RowBatch(data: Array(rows.joined().utf8), rowCount: rows.count, firstRow: 1)
        let output = String(decoding: try masker.mask(batch).data, as: UTF8.self)
        #expect(output == expected)
        #expect(!output.contains("415) 555-01") && !output.contains("1111 1111 1111"))
    }

    /// Inside JSON: a plain ASCII string is masked from its bytes, an escaped or non-ASCII one
    /// from its decoded text; both as the transformer masks the decoded value.
    @Test func jsonStringsMaskAsTheirDecodedValuesDo() throws {
        let phone = try TransformerCatalog.compile(try TransformSpec.fromCommandLine(name: "phone", options: ["keep_last=2"]),
                                                   key: testKey)
        let json = try TransformerCatalog.compile(TransformSpec(name: "json", options: [
            "paths": OptionValue(.paths([("p", try TransformSpec.fromCommandLine(name: "phone", options: ["keep_last=2"]))]))]),
            key: testKey)
        let cases: [(literal: String, decoded: String)] = [
            (#""+1 (415) 555-0132""#, "+1 (415) 555-0132"), (#""""#, ""), (#""555\u002d0132""#, "555-0132"),
            (#""55\"5 01\\32""#, "55\"5 01\\32"), (#""\u0661\u0662\u0663 45""#, "\u{661}\u{662}\u{663} 45"),
            (#""\#u{664}\#u{665}\#u{666}-7890""#, "\u{664}\u{665}\u{666}-7890"), (#""tel:\t555""#, "tel:\t555"),
        ]
        for (literal, decoded) in cases {
            let expected = try #require(try phone.mask(decoded))
            #expect(try json.mask(#"{"p": \#(literal)}"#) == #"{"p": \#(JSONText.quoted(expected))}"#, "\(literal)")
        }
        for value in Self.values.prefix(300) {
            let expected = try #require(try phone.mask(value))
            #expect(try json.mask(#"{"p": "# + JSONText.quoted(value) + "}") == #"{"p": "# + JSONText.quoted(expected) + "}",
                    "\(value.debugDescription)")
        }
    }

    /// A card number too short to mask stops the row, with the table, column and row named, from
    /// either path.
    @Test func aFailureNamesTheRowFromEitherPath() throws {
        let rules = try CompiledRules.compile(try RuleSet.parse(
            "tables:\n  t: { columns: { id: keep, card: credit_card } }\n", file: "rules.yaml"), key: testKey)
        let table = TableShape(name: "t", columns: [ColumnShape(name: "id", typeName: "integer", category: .number),
                                                   ColumnShape(name: "card", typeName: "text", category: .text)])
        let masker = DelimitedRowMasker(plan: TablePlan(table: table, rule: rules.table(named: "t")), dialect: .mysql)
        for card in ["4111-11", "41\\t11-11", "\u{664}\u{661}\u{661}"] {
            let batch = RowBatch(data: Array("1\t4111 1111 1111 1111\n2\t\(card)\n".utf8), rowCount: 2, firstRow: 1)
            #expect {
                try masker.mask(batch)
            } throws: { error in
                guard let failure = error as? RowMaskingError else { return false }
                return failure.table == "t" && failure.column == "card" && failure.row == 2
                    && failure.reason.reason.contains("too short") && !"\(failure)".contains("4111")
            }
        }
    }
}
