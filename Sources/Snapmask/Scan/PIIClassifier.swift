import Foundation

/// What a column (or a JSON / document path) seems to hold, judged from its name, its type and a
/// sample of its values: the evidence `scan` writes rules from and `check` warns about `keep`
/// columns with. Values decide when they can (an `email_sent` boolean holds no email, a `notes`
/// column full of addresses does); the name only breaks ties and finds what values cannot show
/// (a date of birth looks like any date).
public struct PIIClassification: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case email, phone, personName = "person name", street, address, city, postalCode = "postal code"
        case nationalID = "national id", card = "card number", iban, ip = "IP address"
        case dateOfBirth = "date of birth", freeText = "free text with personal data", secret
        case photo = "photo or signature"
        case file = "file (document or image)"
        case location = "geolocation"
        case none = "no personal data"
    }

    public var kind: Kind
    /// Sampled values that showed it (or, for name-only evidence, 0).
    public var matches: Int
    public var sampled: Int
    /// Why, in words, without any value: "48 of 50 sampled values are email addresses".
    public var reason: String
    /// A person should look before the suggestion is used (uncertain, or a choice to make).
    public var needsReview: Bool

    public var isPersonal: Bool { kind != .none }
}

public enum PIIClassifier {
    /// A column's classification. `category`: its type's category; `isKey`: under the primary
    /// key or a foreign key (ids are not personal data).
    public static func classify(name: String, category: ValueCategory, values: [String], isKey: Bool = false)
        -> PIIClassification {
        let lower = name.lowercased()
        let words = Set(lower.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init))
        func named(_ any: String...) -> Bool { any.contains { words.contains($0) || lower.hasSuffix($0) && $0.count > 3 } }
        let sample = values.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        func verdict(_ kind: PIIClassification.Kind, _ matches: Int, _ what: String, review: Bool = false)
            -> PIIClassification {
            PIIClassification(kind: kind, matches: matches, sampled: sample.count,
                              reason: "\(matches) of \(sample.count) sampled values \(what)", needsReview: review)
        }

        // Bytes named like a picture of a person (Sakila's and Pagila's staff.picture): no value
        // test can see a face, so the name is the evidence, as for a date of birth. A digest of
        // one (avatar_sha256) is not the picture.
        if category == .binary && named("photo", "picture", "avatar", "image", "portrait", "selfie", "headshot", "signature",
                                        "fingerprint", "thumbnail")
            && !named("hash", "sha1", "sha256", "sha512", "md5", "digest", "checksum", "etag") {
            return PIIClassification(kind: .photo, matches: 0, sampled: sample.count,
                                     reason: "binary values named like a photo or signature", needsReview: true)
        }
        // Bytes that are files (a scanned passport, an uploaded CV, a signed form): no value test
        // can read them, so what they are is the evidence.
        if category == .binary {
            let formats = sample.compactMap(fileFormat)
            if !formats.isEmpty && formats.count * 10 >= sample.count * 3 {
                return verdict(.file, formats.count, "are files (\(Set(formats).sorted().joined(separator: ", ")))", review: true)
            }
        }
        // Bytes that are text (emails kept in a VARBINARY, a bytea of notes) are judged as text.
        if category == .binary {
            let texts = sample.compactMap(textOfBinary)
            if !texts.isEmpty && texts.count * 10 >= sample.count * 8 {
                var found = classify(name: name, category: .text, values: texts, isKey: isKey)
                if found.isPersonal {
                    found.reason = "binary values holding text: " + found.reason
                    return found
                }
            }
        }
        // Places: a home's coordinates are as personal as its address, a shop's are not; both
        // look the same, so a person decides.
        if category == .spatial {
            return PIIClassification(kind: .location, matches: 0, sampled: sample.count,
                                     reason: "spatial values (points or shapes on a map)", needsReview: true)
        }
        if category == .number || category == .text,
           named("lat", "latitude", "lng", "lon", "long", "longitude", "coord", "coords", "coordinates", "geo", "geolocation") {
            let degrees = sample.filter { Double($0).map { abs($0) <= 180 } ?? false }.count
            if degrees > 0 && degrees * 10 >= sample.count * 8 {
                return verdict(.location, degrees, "are coordinates in degrees, named like latitude or longitude", review: true)
            }
        }
        // Types that hold no text to find personal data in.
        if category == .boolean || category == .enumeration || category == .uuid && isKey || category == .binary {
            return PIIClassification(kind: .none, matches: 0, sampled: sample.count,
                                     reason: "\(category.rawValue) values", needsReview: false)
        }
        if category == .date || category == .timestamp {
            if named("birth", "dob", "birthday", "born", "birthdate") {
                return PIIClassification(kind: .dateOfBirth, matches: 0, sampled: sample.count,
                                         reason: "a date named like a date of birth", needsReview: false)
            }
            return PIIClassification(kind: .none, matches: 0, sampled: sample.count, reason: "dates and times",
                                     needsReview: false)
        }
        if isKey && (category == .number || sample.allSatisfy(isIdentifierLike)) {
            return PIIClassification(kind: .none, matches: 0, sampled: sample.count, reason: "key column",
                                     needsReview: false)
        }
        guard !sample.isEmpty else {
            return nameOnly(lower, named: named, category: category)
        }

        // Value evidence, strongest patterns first: the share of samples that match.
        let tests: [(PIIClassification.Kind, String, (String) -> Bool)] = [
            (.email, "are email addresses", isEmail),
            (.card, "are Luhn-valid card numbers", isCardNumber),
            (.iban, "are IBANs with valid check digits", isIBAN),
            (.nationalID, "are SSN-shaped with valid area and group numbers", isSSN),
            (.ip, "are IP addresses", isIPAddress),
            (.phone, "are phone numbers", isPhone),
            (.address, "are postal addresses", isAddress),
            (.street, "are street lines", isStreet),
            (.postalCode, "are postal codes", isPostalCode),
            (.city, "are city names", isCity),
            (.personName, "are person names", isPersonName),
        ]
        for (kind, what, test) in tests {
            let matches = sample.filter(test).count
            let share = Double(matches) / Double(sample.count)
            // Postal codes and bare digits look like many things: they need the name too.
            if kind == .postalCode && !named("zip", "postal", "postcode", "zipcode", "plz") { continue }
            if kind == .phone && category == .number && !named("phone", "mobile", "tel", "telephone", "cell", "fax") { continue }
            if kind == .nationalID && category == .number { continue }
            if share >= 0.6 { return verdict(kind, matches, what) }
            if share >= 0.3 { return verdict(kind, matches, what + " (a mixed column)", review: true) }
        }
        let withPersonalText = sample.filter(containsPersonalText).count
        if withPersonalText > 0 && (category == .text || category == .json || category == .other) {
            return verdict(.freeText, withPersonalText, "contain an email address, a phone number or a full name inside text",
                           review: withPersonalText * 10 < sample.count)
        }
        if named("token", "secret", "password", "passwd", "api_key", "apikey", "hash", "salt", "credential", "otp")
            || (category == .text && sample.count >= 5 && sample.filter(isSecretLike).count * 10 >= sample.count * 8) {
            let secrets = sample.filter(isSecretLike).count
            return PIIClassification(kind: .secret, matches: secrets, sampled: sample.count,
                                     reason: "\(secrets) of \(sample.count) sampled values look random (high entropy)"
                                         + (named("token", "secret", "password", "passwd", "api_key", "apikey", "hash", "salt",
                                                  "credential", "otp") ? ", and the name says secret" : ""),
                                     needsReview: true)
        }
        let byName = nameOnly(lower, named: named, category: category, sampled: sample.count)
        if byName.isPersonal { return byName }
        return PIIClassification(kind: .none, matches: 0, sampled: sample.count,
                                 reason: "no personal data found in \(sample.count) sampled values", needsReview: false)
    }

    /// Evidence from the name alone (no values to look at, or values that showed nothing): a
    /// suggestion to review.
    static func nameOnly(_ lower: String, named: (String...) -> Bool, category: ValueCategory,
                         sampled: Int = 0) -> PIIClassification {
        let hints: [(PIIClassification.Kind, [String])] = [
            (.email, ["email", "mail"]), (.phone, ["phone", "mobile", "telephone", "fax"]),
            (.nationalID, ["ssn", "sin", "nino", "passport", "national_id", "tax_id"]),
            (.personName, ["name", "firstname", "lastname", "surname", "fullname"]),
            (.address, ["address", "street"]), (.ip, ["ip", "ip_address"]), (.card, ["card_number", "pan"]),
            (.secret, ["token", "secret", "password", "hash"]),
        ]
        for (kind, names) in hints where names.contains(where: { named($0) }) && category != .number {
            let values = sampled == 0 ? "no value to confirm it" : "none of \(sampled) sampled values looks like one"
            return PIIClassification(kind: kind, matches: 0, sampled: sampled, reason: "named like \(kind.rawValue), \(values)",
                                     needsReview: true)
        }
        return PIIClassification(kind: .none, matches: 0, sampled: 0, reason: "nothing points to personal data",
                                 needsReview: false)
    }

    // MARK: Value tests

    /// The file format a binary value starts with (PDF, JPEG, PNG, ...), or nil. Its bytes come
    /// as PostgreSQL shows bytea (`\x` and hex), as DocumentDB's extended JSON shows binData
    /// (base64), or as MySQL's client gives them, where a byte that is not UTF-8 has become U+FFFD.
    static func fileFormat(of value: String) -> String? {
        let head = leadingBytes(of: value)
        let signatures: [(String, [UInt8])] = [
            ("PDF", Array("%PDF-".utf8)), ("PNG", [0x89, 0x50, 0x4E, 0x47]), ("JPEG", [0xFF, 0xD8, 0xFF]),
            ("GIF", Array("GIF8".utf8)), ("TIFF", [0x49, 0x49, 0x2A, 0x00]), ("TIFF", [0x4D, 0x4D, 0x00, 0x2A]),
            ("ZIP or Office document", [0x50, 0x4B, 0x03, 0x04]), ("Office 97 document", [0xD0, 0xCF, 0x11, 0xE0]),
            ("RIFF media (WebP, WAV, AVI)", Array("RIFF".utf8)), ("RTF", Array("{\\rtf".utf8)),
        ]
        return signatures.first { starts(head, with: $0.1) }?.0
    }

    /// Whether `bytes` begin with `signature`, a byte above 0x7F matching itself or the U+FFFD
    /// (EF BF BD) that a lossy UTF-8 decoding left in its place.
    private static func starts(_ bytes: [UInt8], with signature: [UInt8]) -> Bool {
        var index = 0
        for byte in signature {
            if index < bytes.count && bytes[index] == byte {
                index += 1
            } else if byte >= 0x80 && bytes[index...].starts(with: [0xEF, 0xBF, 0xBD]) {
                index += 3
            } else {
                return false
            }
        }
        return true
    }

    private static func leadingBytes(of value: String) -> [UInt8] {
        if value.hasPrefix("\\x") { return bytes(ofHex: value.utf8.dropFirst(2).prefix(32)) ?? [] }
        if value.contains("\"$binary\""), let key = value.range(of: "\"base64\"") {
            let rest = value[key.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\"" }
            let base64 = rest.prefix { $0.isLetter || $0.isNumber || "+/=".contains($0) }.prefix(24)
            return Data(base64Encoded: String(base64.prefix(base64.count / 4 * 4))).map(Array.init) ?? []
        }
        return Array(value.utf8.prefix(48))
    }

    /// Hex digits as bytes (an odd last digit is left out); nil for a character that is not one.
    private static func bytes(ofHex digits: some Sequence<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        var digits = digits.makeIterator()
        while let high = digits.next(), let low = digits.next() {
            guard let byte = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// A binary value as the text it holds, or nil when it is not printable UTF-8. PostgreSQL
    /// shows bytea as `\x` and hex; MySQL's client gives the bytes themselves.
    static func textOfBinary(_ value: String) -> String? {
        var text = value
        if value.hasPrefix("\\x"), value.count % 2 == 0 {
            guard let bytes = bytes(ofHex: value.utf8.dropFirst(2)), let decoded = String(validating: bytes, as: UTF8.self) else {
                return nil
            }
            text = decoded
        }
        let printable = text.unicodeScalars.allSatisfy { scalar in
            scalar != "\u{FFFD}" && (!CharacterSet.controlCharacters.contains(scalar) || "\n\r\t".unicodeScalars.contains(scalar))
        }
        return printable && !text.isEmpty ? text : nil
    }

    static func isEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !value.contains(" ") else { return false }
        let domain = parts[1].split(separator: ".")
        return domain.count >= 2 && domain.last!.count >= 2 && domain.last!.allSatisfy(\.isLetter)
    }

    static func digits(_ value: String) -> [Int] { value.compactMap { $0.wholeNumberValue } }

    static func isPhone(_ value: String) -> Bool {
        let allowed = Set("0123456789+()-. /x")
        guard value.allSatisfy({ allowed.contains($0) }) else { return false }
        let count = digits(value).count
        // Separators or a leading + tell a phone number from an id.
        return (7...15).contains(count) && (value.hasPrefix("+") || value.contains { "()-. ".contains($0) })
    }

    static func isSSN(_ value: String) -> Bool {
        let d = digits(value)
        guard d.count == 9, value.count == 9 || value.count == 11,
              value.allSatisfy({ $0.isNumber || $0 == "-" || $0 == " " }) else { return false }
        let area = d[0] * 100 + d[1] * 10 + d[2], group = d[3] * 10 + d[4], serial = d[5...].reduce(0) { $0 * 10 + $1 }
        return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }

    static func isCardNumber(_ value: String) -> Bool {
        guard value.allSatisfy({ $0.isNumber || $0 == " " || $0 == "-" }) else { return false }
        let d = digits(value)
        guard (13...19).contains(d.count) else { return false }
        var sum = 0
        for (index, digit) in d.reversed().enumerated() {
            sum += index % 2 == 1 ? (digit * 2 > 9 ? digit * 2 - 9 : digit * 2) : digit
        }
        return sum % 10 == 0 && Set(d).count > 2
    }

    static func isIBAN(_ value: String) -> Bool {
        let compact = value.replacingOccurrences(of: " ", with: "").uppercased()
        guard (15...34).contains(compact.count), compact.prefix(2).allSatisfy(\.isLetter),
              compact.dropFirst(2).prefix(2).allSatisfy(\.isNumber), compact.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            return false
        }
        var remainder = 0
        for character in compact.dropFirst(4) + compact.prefix(4) {
            let number = character.isNumber ? character.wholeNumberValue! : Int(character.asciiValue! - 55)
            for digit in String(number) { remainder = (remainder * 10 + digit.wholeNumberValue!) % 97 }
        }
        return remainder == 1
    }

    static func isIPAddress(_ value: String) -> Bool {
        let address = value.split(separator: "/").first.map(String.init) ?? value
        let octets = address.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4 { return octets.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false } }
        let groups = address.split(separator: ":", omittingEmptySubsequences: false)
        return groups.count >= 3 && groups.count <= 8 && address.contains("::") || groups.count == 8
            && groups.allSatisfy { $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }
    }

    static let streetSuffixes: Set<String> = ["st", "street", "ave", "avenue", "rd", "road", "blvd", "boulevard", "ln", "lane",
                                               "dr", "drive", "way", "ct", "court", "pl", "place", "sq", "square", "ter",
                                               "terrace", "pkwy", "hwy", "strasse", "straße", "rue", "via", "calle"]

    static func tokens(_ value: String) -> [String] {
        value.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    static func isStreet(_ value: String) -> Bool {
        let parts = tokens(value)
        guard parts.count >= 2, parts.count <= 8 else { return false }
        // "221B Baker Street", or a street's name alone ("Morris Park Ave", a house number kept apart).
        return parts.contains { $0.allSatisfy(\.isNumber) } && parts.contains { streetSuffixes.contains($0) }
            || endsWithStreetSuffix(parts)
    }

    /// Whether the last of at least two words is a street suffix ("Flatbush Avenue").
    static func endsWithStreetSuffix(_ parts: [String]) -> Bool {
        parts.count >= 2 && streetSuffixes.contains(parts[parts.count - 1])
    }

    static func isAddress(_ value: String) -> Bool {
        isStreet(value.split(separator: ",").first.map(String.init) ?? "") && value.contains(",")
            && digits(value).count >= 5
    }

    static func isPostalCode(_ value: String) -> Bool {
        let compact = value.uppercased()
        if compact.count == 5 || compact.count == 10, compact.prefix(5).allSatisfy(\.isNumber) { return true }
        // UK and Canadian shapes: letters and digits in short groups.
        return (5...8).contains(compact.count) && compact.contains(where: \.isLetter) && compact.contains(where: \.isNumber)
            && compact.allSatisfy { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" }
    }

    static let cityNames: Set<String> = Set(Dictionaries.cities.map { $0.lowercased() })
    static let givenNames: Set<String> = Set(Dictionaries.firstNames.map { $0.lowercased() })
    static let familyNames: Set<String> = Set(Dictionaries.lastNames.map { $0.lowercased() })

    static func isCity(_ value: String) -> Bool { cityNames.contains(value.lowercased()) }

    static func isPersonName(_ value: String) -> Bool {
        let parts = value.split(separator: " ")
        guard (1...4).contains(parts.count), value.count <= 60,
              parts.allSatisfy({ $0.first?.isUppercase == true && $0.allSatisfy { $0.isLetter || "'-.".contains($0) } }) else {
            return false
        }
        // A street named after someone ("Morris Park Ave") is a street.
        if endsWithStreetSuffix(tokens(value)) { return false }
        return parts.contains { givenNames.contains($0.lowercased()) || familyNames.contains($0.lowercased()) }
    }

    static func containsPersonalText(_ value: String) -> Bool {
        guard value.count >= 12 else { return false }
        // Separators of prose and of the text forms of structures (hstore's "k"=>"v", arrays, rows,
        // tsvector's 'lexeme':1).
        let words = value.split(whereSeparator: { " \n\t,;:=>{}[]|".contains($0) })
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "()<>\"'.:!?")) }
        if words.contains(where: isEmail) { return true }
        // A full name inside text ("I am Ana Silva, ..."): a known given name, capitalized, then a
        // known family name. Either alone is too common a word to count.
        let fullName = zip(words, words.dropFirst()).contains { given, family in
            given.first?.isUppercase == true && family.first?.isUppercase == true
                && givenNames.contains(given.lowercased()) && familyNames.contains(family.lowercased())
        }
        if fullName { return true }
        // A token's random digits ("fcm-f8274136454d9...") are not a phone number in text.
        if isSecretLike(value) { return false }
        // A phone number inside text may span words ("(415) 555-0132").
        var run = ""
        for character in value + " " {
            if character.isNumber || "+()-. ".contains(character) {
                run.append(character)
            } else {
                if digits(run).count >= 9 && isPhone(run.trimmingCharacters(in: .whitespaces)) { return true }
                run = ""
            }
        }
        return digits(run).count >= 9 && isPhone(run.trimmingCharacters(in: .whitespaces))
    }

    static func isIdentifierLike(_ value: String) -> Bool {
        value.count <= 40 && value.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    /// Long strings of a random look: hex, base64, bcrypt hashes, JWTs, a URL's token. Judged
    /// by the longest run between URL and path separators, so a URL or a file path made of words
    /// and numbers (`https://www.example.com/users/show/51399391`, `assets/images/12.png`) is not
    /// one, while `…/reset?token=9f8a…` is.
    static func isSecretLike(_ value: String) -> Bool {
        guard value.count >= 20, !value.contains(" ") else { return false }
        let run = value.split(whereSeparator: { "/.:?&=$#".contains($0) }).max { $0.count < $1.count } ?? ""
        guard run.count >= 16 else { return false }
        var counts: [Character: Int] = [:]
        for character in run { counts[character, default: 0] += 1 }
        let length = Double(run.count)
        let entropy = counts.values.reduce(0.0) { total, count in
            let p = Double(count) / length
            return total - p * log2(p)
        }
        // Hex has 16 symbols: a random 32-digit token often stays under 3.5 bits per character.
        let hex = run.allSatisfy(\.isHexDigit) && run.contains(where: \.isLetter) && run.contains(where: \.isNumber)
        return entropy >= (hex ? 3.0 : 3.5)
    }
}
