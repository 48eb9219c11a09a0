import Testing
@testable import Snapmask

/// Known input → output pairs under a fixed key, for every transformer. Masked outputs are a
/// promise: staging data joins with last week's, and two engines agree, only while the mapping
/// never changes. A release that changes any of these outputs fails here.
@Suite struct PinnedVectorTests {
    static let key = "pinned-vector-key-do-not-change"

    struct Vector: CustomTestStringConvertible, Sendable {
        var transformer: String
        var options: [String]
        var input: String
        var output: String?

        init(_ transformer: String, _ options: [String], _ input: String, _ output: String?) {
            self.transformer = transformer
            self.options = options
            self.input = input
            self.output = output
        }

        var testDescription: String { "\(transformer) \(options) \(input)" }
    }

    static let vectors: [Vector] = [
        Vector("keep", [], #"order-1042"#, #"order-1042"#),
        Vector("keep", [], #"Zoë"#, #"Zoë"#),
        Vector("null", [], #"123-45-6789"#, nil),
        Vector("constant", [#"value=redacted"#], #"anything"#, #"redacted"#),
        Vector("hash", [], #"customer-88213"#, #"da2f7e47e28ee5a21d92f46943e98a43"#),
        Vector("hash", [], #"Zoë 山田"#, #"da206a24175a1c2fcdcb2f64c8acfabf"#),
        Vector("hash", [#"length=16"#, #"encoding=base32"#], #"customer-88213"#, #"3ixx4r7cr3s2ehms"#),
        Vector("email", [], #"jane.doe@acme.io"#, #"aline.cardoso.elookmt2jd@example.com"#),
        Vector("email", [], #"JANE.DOE@acme.io"#, #"aline.cardoso.elookmt2jd@example.com"#),  // same as jane.doe@acme.io
        Vector("email", [], #"bob+tag@example.org"#, #"owen.hopkins.mcijmylbhw@example.com"#),
        Vector("email", [#"keep_domain=true"#], #"jane.doe@acme.io"#, #"aline.cardoso.elookmt2jd@acme.io"#),
        Vector("email", [#"domain=staging.test"#], #"jane.doe@acme.io"#, #"aline.cardoso.elookmt2jd@staging.test"#),
        Vector("first_name", [], #"Margaret"#, #"Katrin"#),
        Vector("first_name", [], #"José"#, #"Adnan"#),
        Vector("last_name", [], #"Okonkwo"#, #"Nielsen"#),
        Vector("last_name", [], #"Hamilton"#, #"Gallo"#),
        Vector("full_name", [], #"Mary Ann Smith"#, #"Hunter Faith Hargrove"#),
        Vector("full_name", [], #"Grace Hopper"#, #"Deepak Orozco"#),
        Vector("username", [], #"mike_the_dev"#, #"nicolakovac_z7wmlmug7m"#),
        Vector("username", [], #"jdoe"#, #"eamonbishop_lbghivyhqt"#),
        Vector("phone", [], #"+1 (415) 555-0132"#, #"+1 (784) 297-4526"#),
        Vector("phone", [], #"+44 20 7946 0958"#, #"+44 85 9405 9923"#),
        Vector("phone", [], #"0611-223344"#, #"8657-783255"#),
        Vector("phone", [#"keep_last=2"#], #"+1 (415) 555-0132"#, #"+1 (158) 892-3532"#),
        Vector("ssn", [], #"123-45-6789"#, #"387-79-2019"#),
        Vector("ssn", [], #"987-65-4321"#, #"916-37-8829"#),
        Vector("credit_card", [], #"4111 1111 1111 1111"#, #"4705 9237 2983 5523"#),
        Vector("credit_card", [#"keep_last=4"#], #"5500-0000-0000-0004"#, #"5533-7924-0173-0004"#),
        Vector("iban", [], #"DE89 3704 0044 0532 0130 00"#, #"DE55 0629 3451 6906 3672 63"#),
        Vector("iban", [], #"GB29NWBK60161331926819"#, #"GB65FLHU29599134077043"#),
        Vector("ip", [], #"192.168.10.24"#, #"204.107.83.142"#),
        Vector("ip", [], #"10.1.0.0/16"#, #"128.65.0.0/16"#),
        Vector("ip", [], #"2001:db8::42"#, #"776c:3c61:bd55:e95a:cf97:d24a:b546:c690"#),
        Vector("street", [], #"221B Baker Street"#, #"8331 Laurel Highway"#),
        Vector("city", [], #"Reykjavik"#, #"Thessaloniki"#),
        Vector("zip", [], #"SW1A 1AA"#, #"ZC4I 2DE"#),
        Vector("zip", [], #"94107-1234"#, #"94829-5039"#),
        Vector("address", [], #"1600 Pennsylvania Ave NW, Washington, DC 20500"#, #"5530 Glenwood Row, Beijing, WV 83655"#),
        Vector("company", [], #"Initech Corporation"#, #"Fairfield Systems"#),
        Vector("company", [], #"Acme"#, #"Crest Nomad Partners"#),
        Vector("date_shift", [#"max_days=180"#], #"1984-07-19"#, #"1985-01-02"#),
        Vector("date_shift", [#"max_days=180"#], #"2023-11-02 08:15:00.123+02"#, #"2024-01-24 08:15:00.123+02"#),
        Vector("date_shift", [#"max_days=180"#], #"19.03.1990"#, #"23.01.1990"#),
        Vector("date_shift", [#"max_days=180"#], #"20240229"#, #"20231220"#),
        Vector("year_only", [], #"1984-07-19 08:15:00+02"#, #"1984-01-01 00:00:00+02"#),
        Vector("year_only", [], #"1984-07-19"#, #"1984-01-01"#),
        Vector("number_noise", [#"percent=5"#], #"1249.90"#, #"1300.15"#),
        Vector("number_noise", [#"percent=5"#], #"42"#, #"44"#),
        Vector("coordinate", [], #"51.507351"#, #"51.502217"#),
        Vector("coordinate", [#"max_meters=50000"#], #"-74.006"#, #"-73.870"#),
        Vector("digits", [#"keep_last=2"#], #"ACC-0042-7731"#, #"ACC-9230-9731"#),
        Vector("partial", [], #"4111111111111111"#, #"************1111"#),
        Vector("partial", [#"keep_first=1"#, #"keep_last=0"#, #"mask_char=#"#], #"secret"#, #"s#####"#),
        Vector("regex", [#"pattern=[0-9]{3}-[0-9]{4}"#, #"with=phone"#], #"call 555-0132 now"#, #"call 683-0015 now"#),
        Vector("regex", [#"pattern=(\w+)@(\w+)"#, #"replacement=user@$2"#], #"mail bob@corp now"#, #"mail user@corp now"#),
        Vector("lorem", [], #"Call me at 5pm, Anna!"#, #"Cond mo cu 4vo, Veri!"#),
        Vector("uuid", [], #"6f1c2a8e-1b7d-4c55-9d1e-3f0a2b4c6d8e"#, #"fb0591c5-6ed0-4741-b58d-43d0a9db20a0"#),
        Vector("uuid", [], #"customer-1"#, #"1a28c707-7118-488a-a54d-7b53a21f7721"#),
        Vector("json", [#"paths=contact.email=email,contact.phones[]=phone,theme=keep"#], #"{"contact": {"email": "ann@corp.io", "phones": ["555-0100"]}, "theme": "dark"}"#, #"{"contact": {"email": "elif.nasser.o36a6ppdig@example.com", "phones": ["955-4472"]}, "theme": "dark"}"#),
    ]

    @Test(arguments: vectors)
    func outputIsPinned(_ vector: Vector) throws {
        let spec = try TransformSpec.fromCommandLine(name: vector.transformer, options: vector.options)
        let transformer = try TransformerCatalog.compile(spec, key: try MaskingKey(Self.key))
        #expect(try transformer.mask(vector.input) == vector.output)
    }

    @Test func everyTransformerHasAPinnedVector() {
        let pinned = Set(Self.vectors.map(\.transformer))
        for name in TransformerCatalog.names {
            #expect(pinned.contains(name), "\(name) has no pinned vector")
        }
    }
}
