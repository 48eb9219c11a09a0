import Foundation
import Testing
@testable import Snapmask

/// The scanner against a labelled schema written for it: 64 columns, half holding personal data,
/// with names that mislead both ways (`email_sent` is a flag, `notes` is full of phone numbers,
/// `code` holds social security numbers). It must find at least 95 % of the personal columns
/// and raise at most 10 % false alarms on the others.
@Suite struct PIIClassifierTests {
    struct Labelled {
        var name: String
        var category: ValueCategory
        var personal: Bool
        var values: [String]
        var isKey = false
    }

    /// Deterministic generator so the figures do not move between runs.
    struct Numbers {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    static func schema() -> [Labelled] {
        var r = Numbers(state: 42)
        func many(_ make: (inout Numbers, Int) -> String) -> [String] { (0..<50).map { make(&r, $0) } }
        let first = Dictionaries.firstNames, last = Dictionaries.lastNames
        func digits(_ r: inout Numbers, _ n: Int) -> String { (0..<n).map { _ in String(r.next(10)) }.joined() }
        func luhn(_ r: inout Numbers) -> String {
            var d = [4] + (0..<14).map { _ in r.next(10) }
            var sum = 0
            for (i, x) in d.reversed().enumerated() { sum += i % 2 == 0 ? (x * 2 > 9 ? x * 2 - 9 : x * 2) : x }
            d.append((10 - sum % 10) % 10)
            return d.map(String.init).joined()
        }
        func iban(_ r: inout Numbers) -> String {
            let bban = digits(&r, 18)
            var remainder = 0
            for character in bban + "1314" + "00" {
                remainder = (remainder * 10 + character.wholeNumberValue!) % 97
            }
            let check = 98 - remainder
            return "DE" + (check < 10 ? "0" : "") + String(check) + bban
        }
        func email(_ r: inout Numbers) -> String {
            "\(first[r.next(first.count)].lowercased()).\(last[r.next(last.count)].lowercased())\(r.next(99))@mail\(r.next(9)).example.org"
        }
        func phone(_ r: inout Numbers) -> String { "+1 (\(200 + r.next(700))) 555-\(digits(&r, 4))" }
        func ssn(_ r: inout Numbers) -> String { "\(100 + r.next(500))-\(10 + r.next(89))-\(1000 + r.next(8999))" }
        func city(_ r: inout Numbers) -> String { Dictionaries.cities[r.next(Dictionaries.cities.count)] }
        func street(_ r: inout Numbers) -> String {
            "\(1 + r.next(9000)) \(Dictionaries.streetNames[r.next(Dictionaries.streetNames.count)]) \(["Street", "Ave", "Road", "Lane"][r.next(4)])"
        }
        func words(_ r: inout Numbers, _ n: Int) -> String { (0..<n).map { _ in Dictionaries.loremWords[r.next(Dictionaries.loremWords.count)] }.joined(separator: " ") }
        func hex(_ r: inout Numbers, _ n: Int) -> String { (0..<n).map { _ in String("0123456789abcdef".randomElementOf(&r)) }.joined() }

        return [
            // Personal data (32), some under misleading names.
            Labelled(name: "email", category: .text, personal: true, values: many { r, _ in email(&r) }),
            Labelled(name: "contact", category: .text, personal: true, values: many { r, _ in email(&r) }),
            Labelled(name: "x1", category: .text, personal: true, values: many { r, _ in email(&r) }),
            Labelled(name: "phone", category: .text, personal: true, values: many { r, _ in phone(&r) }),
            Labelled(name: "reach_me", category: .text, personal: true, values: many { r, _ in phone(&r) }),
            Labelled(name: "mobile_number", category: .text, personal: true, values: many { r, _ in "0\(digits(&r, 3)) \(digits(&r, 6))" }),
            Labelled(name: "ssn", category: .text, personal: true, values: many { r, _ in ssn(&r) }),
            Labelled(name: "code", category: .text, personal: true, values: many { r, _ in ssn(&r) }),
            Labelled(name: "card_number", category: .text, personal: true, values: many { r, _ in luhn(&r) }),
            Labelled(name: "ref", category: .text, personal: true, values: many { r, _ in luhn(&r) }),
            Labelled(name: "iban", category: .text, personal: true, values: many { r, _ in iban(&r) }),
            Labelled(name: "account", category: .text, personal: true, values: many { r, _ in iban(&r) }),
            Labelled(name: "last_login_ip", category: .text, personal: true, values: many { r, _ in "\(r.next(223) + 1).\(r.next(256)).\(r.next(256)).\(r.next(256))" }),
            Labelled(name: "origin", category: .network, personal: true, values: many { r, _ in "10.\(r.next(256)).\(r.next(256)).\(r.next(256))" }),
            Labelled(name: "first_name", category: .text, personal: true, values: many { r, _ in first[r.next(first.count)] }),
            Labelled(name: "last_name", category: .text, personal: true, values: many { r, _ in last[r.next(last.count)] }),
            Labelled(name: "owner", category: .text, personal: true, values: many { r, _ in "\(first[r.next(first.count)]) \(last[r.next(last.count)])" }),
            Labelled(name: "signed_by", category: .text, personal: true, values: many { r, _ in "\(first[r.next(first.count)]) \(last[r.next(last.count)])" }),
            Labelled(name: "city", category: .text, personal: true, values: many { r, _ in city(&r) }),
            Labelled(name: "label", category: .text, personal: true, values: many { r, _ in city(&r) }),
            Labelled(name: "street", category: .text, personal: true, values: many { r, _ in street(&r) }),
            Labelled(name: "line1", category: .text, personal: true, values: many { r, _ in street(&r) }),
            Labelled(name: "shipping", category: .text, personal: true, values: many { r, _ in "\(street(&r)), \(city(&r)), CA \(digits(&r, 5))" }),
            Labelled(name: "zip", category: .text, personal: true, values: many { r, _ in digits(&r, 5) }),
            Labelled(name: "postcode", category: .text, personal: true, values: many { r, _ in "SW\(1 + r.next(9))A \(r.next(9))AA" }),
            Labelled(name: "date_of_birth", category: .date, personal: true, values: many { r, _ in "19\(50 + r.next(50))-0\(1 + r.next(9))-1\(r.next(9))" }),
            Labelled(name: "born", category: .date, personal: true, values: many { r, _ in "19\(50 + r.next(50))-05-0\(1 + r.next(9))" }),
            Labelled(name: "notes", category: .text, personal: true, values: many { r, i in i % 3 == 0 ? "call back on \(phone(&r)) after 5" : words(&r, 8) }),
            Labelled(name: "comment", category: .text, personal: true, values: many { r, i in i % 4 == 0 ? "forwarded to \(email(&r)) today" : words(&r, 10) }),
            Labelled(name: "api_token", category: .text, personal: true, values: many { r, _ in hex(&r, 40) }),
            Labelled(name: "blob_value", category: .text, personal: true, values: many { r, _ in hex(&r, 32) + "Zq" + hex(&r, 8) }),
            Labelled(name: "password_hash", category: .text, personal: true, values: many { r, _ in "$2b$12$" + hex(&r, 53) }),
            // No personal data (32), some under names that sound personal.
            Labelled(name: "id", category: .number, personal: false, values: many { _, i in String(i + 1) }, isKey: true),
            Labelled(name: "user_id", category: .number, personal: false, values: many { r, _ in String(r.next(100_000)) }, isKey: true),
            Labelled(name: "address_id", category: .number, personal: false, values: many { r, _ in String(r.next(100_000)) }),
            Labelled(name: "email_sent", category: .boolean, personal: false, values: many { r, _ in r.next(2) == 0 ? "t" : "f" }),
            Labelled(name: "phone_verified", category: .boolean, personal: false, values: many { r, _ in r.next(2) == 0 ? "t" : "f" }),
            Labelled(name: "ssn_checked", category: .boolean, personal: false, values: many { r, _ in r.next(2) == 0 ? "t" : "f" }),
            Labelled(name: "zip_count", category: .number, personal: false, values: many { r, _ in String(r.next(500)) }),
            Labelled(name: "name_length", category: .number, personal: false, values: many { r, _ in String(r.next(40)) }),
            Labelled(name: "email_template", category: .text, personal: false, values: many { r, _ in ["welcome", "reset", "invoice", "digest"][r.next(4)] }),
            Labelled(name: "status", category: .enumeration, personal: false, values: many { r, _ in ["paid", "shipped"][r.next(2)] }),
            Labelled(name: "state", category: .text, personal: false, values: many { r, _ in ["open", "closed", "pending"][r.next(3)] }),
            Labelled(name: "total", category: .number, personal: false, values: many { r, _ in "\(r.next(9999)).\(r.next(90) + 10)" }),
            Labelled(name: "quantity", category: .number, personal: false, values: many { r, _ in String(1 + r.next(9)) }),
            Labelled(name: "created_at", category: .timestamp, personal: false, values: many { r, _ in "2024-0\(1 + r.next(9))-1\(r.next(9)) 10:00:00" }),
            Labelled(name: "updated_at", category: .timestamp, personal: false, values: many { r, _ in "2025-0\(1 + r.next(9))-1\(r.next(9)) 11:00:00" }),
            Labelled(name: "due_on", category: .date, personal: false, values: many { r, _ in "2025-0\(1 + r.next(9))-0\(1 + r.next(9))" }),
            Labelled(name: "sku", category: .text, personal: false, values: many { r, _ in "SKU-\(digits(&r, 6))" }),
            Labelled(name: "product_name", category: .text, personal: false, values: many { r, _ in ["Widget Pro", "Gadget 3000", "Thing Max", "Doohickey"][r.next(4)] }),
            Labelled(name: "country", category: .text, personal: false, values: many { r, _ in ["US", "DE", "FR", "JP"][r.next(4)] }),
            Labelled(name: "currency", category: .text, personal: false, values: many { r, _ in ["USD", "EUR", "JPY"][r.next(3)] }),
            Labelled(name: "locale", category: .text, personal: false, values: many { r, _ in ["en-US", "de-DE", "ja-JP"][r.next(3)] }),
            Labelled(name: "color", category: .text, personal: false, values: many { r, _ in "#" + hex(&r, 6) }),
            Labelled(name: "version", category: .text, personal: false, values: many { r, _ in "\(r.next(5)).\(r.next(20)).\(r.next(30))" }),
            Labelled(name: "description", category: .text, personal: false, values: many { r, _ in words(&r, 12) }),
            Labelled(name: "title", category: .text, personal: false, values: many { r, _ in words(&r, 4) }),
            Labelled(name: "tags", category: .text, personal: false, values: many { r, _ in "{\(["vip", "beta", "plan:pro"][r.next(3)])}" }),
            Labelled(name: "external_id", category: .uuid, personal: false, values: many { r, _ in "\(hex(&r, 8))-\(hex(&r, 4))-4\(hex(&r, 3))-a\(hex(&r, 3))-\(hex(&r, 12))" }),
            Labelled(name: "score", category: .number, personal: false, values: many { r, _ in "0.\(r.next(999))" }),
            Labelled(name: "enabled", category: .boolean, personal: false, values: many { r, _ in r.next(2) == 0 ? "t" : "f" }),
            Labelled(name: "path", category: .text, personal: false, values: many { r, _ in "/api/v1/\(["orders", "users", "items"][r.next(3)])" }),
            Labelled(name: "mime_type", category: .text, personal: false, values: many { r, _ in ["image/png", "text/plain", "application/pdf"][r.next(3)] }),
            Labelled(name: "http_status", category: .number, personal: false, values: many { r, _ in ["200", "404", "500"][r.next(3)] }),
        ]
    }

    @Test func findsPersonalColumnsAndFewFalseAlarms() {
        let columns = Self.schema()
        let personal = columns.filter(\.personal), other = columns.filter { !$0.personal }
        #expect(columns.count == 64 && personal.count == 32)
        var missed: [String] = [], falseAlarms: [String] = []
        for column in columns {
            let found = PIIClassifier.classify(name: column.name, category: column.category, values: column.values,
                                               isKey: column.isKey).isPersonal
            if column.personal && !found { missed.append(column.name) }
            if !column.personal && found { falseAlarms.append(column.name) }
        }
        let recall = Double(personal.count - missed.count) / Double(personal.count)
        let falseAlarmRate = Double(falseAlarms.count) / Double(other.count)
        #expect(recall >= 0.95, "missed: \(missed)")
        #expect(falseAlarmRate <= 0.10, "false alarms: \(falseAlarms)")
        print("PII scan on the labelled schema: recall \(String(format: "%.1f", recall * 100)) % (missed \(missed)), "
                  + "false alarms \(String(format: "%.1f", falseAlarmRate * 100)) % (\(falseAlarms))")
    }

    /// Sakila's `staff.picture blob` and Pagila's `staff.picture bytea`: bytes no value test can
    /// read a face in, so the name decides, and keeping one is a kept personal column; a digest
    /// of a picture is not one.
    @Test func picturesAreFoundByNameAndNotTheirDigests() {
        let png = ["89504e470d0a1a0a0000000d49484452", "ffd8ffe000104a464946000101"]
        for name in ["picture", "profile_photo", "avatar", "signature_image", "Thumbnail"] {
            let found = PIIClassifier.classify(name: name, category: .binary, values: png)
            #expect(found.kind == .photo && found.needsReview, "\(name): \(found)")
        }
        for (name, category) in [("avatar_sha256", ValueCategory.binary), ("picture_md5", .binary), ("payload", .binary),
                                 ("picture_url", .text)] {
            #expect(PIIClassifier.classify(name: name, category: category, values: png).kind != .photo, "\(name)")
        }
        let nullable = ColumnShape(name: "picture", typeName: "bytea", category: .binary, nullable: true)
        let required = ColumnShape(name: "picture", typeName: "blob", category: .binary, nullable: false)
        let photo = PIIClassifier.classify(name: "picture", category: .binary, values: png)
        #expect(RuleSuggestion.rule(for: photo, column: nullable, unique: false, kind: .tables).hasPrefix("{ transform: null, review:"))
        #expect(RuleSuggestion.rule(for: photo, column: required, unique: false, kind: .tables).hasPrefix("{ transform: keep, review:"))

        let kept = CoverageAudit.entry(table: "staff", column: "picture", rule: "keep", isKeep: true, name: "picture",
                                       category: .binary, values: png, isKey: false)
        #expect(kept.status == .keptPersonal && kept.classification == .photo, "\(kept)")
    }

    /// Airbnb's `host.host_about` and review comments: a full name inside prose is personal, a
    /// capitalized word that happens to be a name is not.
    @Test func fullNamesInsideTextAreFound() {
        let about = (0..<20).map { n in
            ["I am Maria Garcia, I love travelling.", "Hosted by James Smith since 2015", "Ask for Anna Novak at the desk."][n % 3]
        }
        let found = PIIClassifier.classify(name: "host_about", category: .text, values: about)
        #expect(found.kind == .freeText && found.matches == 20, "\(found)")
        let prose = (0..<20).map { n in
            ["Great stay near the beach, quiet at night.", "Order shipped via Royal Mail on Monday.",
             "Check-in after 3 PM; the Grand Hotel is next door."][n % 3]
        }
        #expect(!PIIClassifier.classify(name: "comments", category: .text, values: prose).isPersonal)
        // Push tokens whose hex happens to hold ten digits in a row are secrets, not text with phones.
        let tokens = (0..<200).map { n in "fcm-" + String(format: "%08x", n &* 2_654_435_761) + "8274136454d941e9e8282327ac435c68" }
        #expect(PIIClassifier.classify(name: "token", category: .text, values: tokens).kind == .secret)
        // A search vector built from an email keeps the address as one lexeme.
        let vectors = (0..<20).map { "'ann':1 'corp.example.org':3 'ann\($0)@corp.example.org':2" }
        #expect(PIIClassifier.classify(name: "search", category: .other, values: vectors).kind == .freeText)
    }

    /// sample_airbnb's `host_url` and Crunchbase-shaped `homepage_url`, `image` paths: URLs and
    /// file paths made of words and numbers are not secrets; a token in a URL, a bcrypt hash
    /// (whose alphabet holds `.` and `/`) and a JWT still are, by their values alone.
    @Test func urlsAndPathsAreNotSecretsButTheirTokensAre() {
        let urls = (0..<50).map { n in ["https://www.airbnb.com/users/show/\(51_399_391 + n * 7_919)",
                                        "http://company\(n).example.com", "assets/images/resized/0001/\(n)/\(n)v1-max-150x150.png"][n % 3] }
        #expect(!PIIClassifier.classify(name: "link", category: .text, values: urls).isPersonal)
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int, _ alphabet: String) -> String {
            String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
        }
        let base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        let resets = (0..<50).map { _ in "https://app.example.com/reset?token=" + random(32, "0123456789abcdef") }
        let bcrypt = (0..<50).map { _ in "$2b$12$" + random(53, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") }
        let jwts = (0..<50).map { _ in "eyJhbGciOiJIUzI1NiJ9." + random(40, base64url) + "." + random(43, base64url) }
        for values in [resets, bcrypt, jwts] {
            let found = PIIClassifier.classify(name: "v", category: .text, values: values)
            #expect(found.kind == .secret, "\(values[0]): \(found)")
        }
    }

    /// Uploads kept as bytes (a GridFS bucket's `fs.chunks.data`, a `bytea` of scanned IDs, a
    /// `LONGBLOB` of CVs) are files whatever the column is called, in each engine's text form of
    /// bytes: PostgreSQL's hex, DocumentDB's base64, MySQL's bytes with U+FFFD for non-UTF-8 ones.
    @Test func filesInBinaryColumnsAreFoundByTheirFormat() {
        let files: [[UInt8]] = [Array("%PDF-1.7\n%\u{e2}".utf8), [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF".utf8),
                                [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00]]
        let postgres = files.map { "\\x" + $0.map { String(format: "%02x", $0) }.joined() }
        let documentDB = files.map { "{ \"$binary\" : { \"base64\" : \"\(Data($0).base64EncodedString())\", \"subType\" : \"00\" } }" }
        let mysql = files.map { String(decoding: $0, as: UTF8.self) }
        for values in [postgres, documentDB, mysql] {
            let sample = (0..<40).map { values[$0 % values.count] }
            let found = PIIClassifier.classify(name: "data", category: .binary, values: sample)
            #expect(found.kind == .file && found.needsReview && found.matches == 40, "\(values[0]): \(found)")
            #expect(found.reason.contains("JPEG, PDF, PNG, ZIP or Office document"), "\(found.reason)")
        }
        let column = ColumnShape(name: "data", typeName: "bytea", category: .binary, nullable: true)
        let file = PIIClassifier.classify(name: "data", category: .binary, values: postgres)
        #expect(RuleSuggestion.rule(for: file, column: column, unique: false, kind: .tables).hasPrefix("{ transform: null, review:"))
        // Random bytes, digests and a text column that mentions a format are not files.
        let random = (0..<40).map { n in "\\x" + (0..<16).map { String(format: "%02x", ($0 * 37 + n * 11) % 256) }.joined() }
        #expect(PIIClassifier.classify(name: "data", category: .binary, values: random).kind != .file)
        #expect(PIIClassifier.classify(name: "notes", category: .text, values: ["%PDF-1.7 attached", "GIF89a"]).kind != .file)
    }

    /// Places: numbers named like coordinates and within ±180 (a Crunchbase office's `latitude`,
    /// sample_restaurants' `address.coord[]`, GeoJSON `location.coordinates[]`), and spatial
    /// columns, are geolocation for review; `long_description` and a `latitude` of words are not.
    @Test func coordinatesAndSpatialValuesAreGeolocation() {
        let degrees = (0..<40).map { String(format: "%.6f", -73.9 + Double($0) / 997) }
        for name in ["latitude", "home_lng", "address.coord[]", "location.coordinates[]", "geo_lat"] {
            let found = PIIClassifier.classify(name: name, category: .number, values: degrees)
            #expect(found.kind == .location && found.needsReview && found.matches == 40, "\(name): \(found)")
        }
        let column = ColumnShape(name: "latitude", typeName: "numeric(9,6)", category: .number, nullable: false)
        let found = PIIClassifier.classify(name: "latitude", category: .number, values: degrees)
        #expect(RuleSuggestion.rule(for: found, column: column, unique: false, kind: .tables).hasPrefix("{ transform: coordinate, review:"))
        let spatial = PIIClassifier.classify(name: "location", category: .spatial, values: [])
        #expect(spatial.kind == .location && spatial.needsReview)
        let geometry = ColumnShape(name: "location", typeName: "geometry", category: .spatial, nullable: false)
        #expect(RuleSuggestion.rule(for: spatial, column: geometry, unique: false, kind: .tables).hasPrefix("{ transform: keep, review:"))
        #expect(PIIClassifier.classify(name: "long_description", category: .text, values: ["A long text"]).kind != .location)
        #expect(PIIClassifier.classify(name: "latitude", category: .text, values: ["north", "south"]).kind != .location)
        #expect(PIIClassifier.classify(name: "total", category: .number, values: degrees).kind != .location)
        // A street named after someone is a street, not a person ("Morris Park Ave").
        let streets = (0..<20).map { ["Morris Park Ave", "Flatbush Avenue", "Stillwell Avenue", "Ralph Avenue"][$0 % 4] }
        #expect(PIIClassifier.classify(name: "street", category: .text, values: streets).kind == .street)
    }

    /// Emails kept in a VARBINARY (MySQL's client gives the bytes) or a bytea (PostgreSQL shows
    /// `\x` and hex) are emails; random bytes are not text at all.
    @Test func binaryColumnsHoldingTextAreJudgedAsText() {
        let emails = (0..<30).map { "user\($0)@corp.example.org" }
        let hex = emails.map { "\\x" + $0.utf8.map { String(format: "%02x", $0) }.joined() }
        for values in [emails, hex] {
            let found = PIIClassifier.classify(name: "login", category: .binary, values: values)
            #expect(found.kind == .email && found.reason.hasPrefix("binary values holding text"), "\(found)")
        }
        var generator = SplitMix(state: 7)
        let random = (0..<30).map { _ in "\\x" + (0..<16).map { _ in String(format: "%02x", generator.next() & 0xff) }.joined() }
        #expect(PIIClassifier.classify(name: "token", category: .binary, values: random).kind == PIIClassification.Kind.none)
    }

    @Test func reasonsNeverQuoteAValue() {
        for column in Self.schema() {
            let reason = PIIClassifier.classify(name: column.name, category: column.category, values: column.values).reason
            #expect(!column.values.contains { $0.count >= 4 && reason.contains($0) }, "\(column.name): \(reason)")
        }
    }
}

extension String {
    fileprivate func randomElementOf(_ r: inout PIIClassifierTests.Numbers) -> Character {
        let characters = Array(self)
        return characters[r.next(characters.count)]
    }
}
