import SnapmaskKeyedHash

/// Names from the embedded dictionaries: `first_name`, `last_name`, `full_name`, `username`, `company`.
/// `full_name` masks each word with the `first_name`/`last_name` mappings, so a table with both a
/// full name and its parts stays consistent.
enum NameTransformers {
    struct Pick: Transformer {
        let hasher: KeyedHash
        let words: [String]

        func mask(_ value: String) -> String? {
            words[Int(hasher.digest(value).word(0) % UInt64(words.count))]
        }
    }

    struct FullName: Transformer {
        let first: Pick
        let last: Pick

        func mask(_ value: String) -> String? {
            let parts = value.split(whereSeparator: { $0.isWhitespace })
            guard let lastPart = parts.last else { return value }
            guard parts.count > 1 else { return first.mask(String(lastPart)) }
            var names = parts.dropLast().map { first.mask(String($0))! }
            names.append(last.mask(String(lastPart))!)
            return names.joined(separator: " ")
        }
    }

    struct Username: Transformer {
        static let suffixLength = 10
        let hasher: KeyedHash

        func mask(_ value: String) -> String? {
            let digest = hasher.digest(value)
            let first = EmailTransformer.firstNames[Int(digest.word(1) % UInt64(EmailTransformer.firstNames.count))]
            let last = EmailTransformer.lastNames[Int(digest.word(2) % UInt64(EmailTransformer.lastNames.count))]
            return first + last + "_" + TextEncoding.base32(digest, length: Self.suffixLength)
        }
    }

    struct Company: Transformer {
        let hasher: KeyedHash

        func mask(_ value: String) -> String? {
            var choices = hasher.digest(value).stream()
            var name = choices.pick(Dictionaries.companyWords)
            if choices.next(below: 2) == 0 {
                var second = choices.pick(Dictionaries.companyWords)
                if second == name { second = choices.pick(Dictionaries.companyWords) }
                name += " " + second
            }
            return name + " " + choices.pick(Dictionaries.companySuffixes)
        }
    }

    private static func longest(_ words: [String]) -> Int { words.map(\.count).max() ?? 0 }

    static let firstName = TransformerDescriptor(
        name: "first_name", summary: "a given name from the embedded dictionary",
        example: ("Margaret", [:])
    ) { _, key throws in
        .init(Pick(hasher: key.hasher("first_name"), words: Dictionaries.firstNames), unique: false,
              maxOutputLength: longest(Dictionaries.firstNames))
    }

    static let lastName = TransformerDescriptor(
        name: "last_name", summary: "a family name from the embedded dictionary",
        example: ("Okonkwo", [:])
    ) { _, key throws in
        .init(Pick(hasher: key.hasher("last_name"), words: Dictionaries.lastNames), unique: false,
              maxOutputLength: longest(Dictionaries.lastNames))
    }

    static let fullName = TransformerDescriptor(
        name: "full_name",
        summary: "one fake name per word: given names for all but the last word, a family name for the last",
        example: ("Mary Ann Smith", [:])
    ) { _, key throws in
        .init(FullName(first: Pick(hasher: key.hasher("first_name"), words: Dictionaries.firstNames),
                       last: Pick(hasher: key.hasher("last_name"), words: Dictionaries.lastNames)),
              unique: false)
    }

    static let username = TransformerDescriptor(
        name: "username", summary: "a login name firstlast_xxxxxxxxxx (lowercase letters, digits, _)",
        uniqueness: .always("60+ bits of the HMAC in every name"), searchableByValue: true,
        example: ("mike_the_dev", [:])
    ) { _, key throws in
        .init(Username(hasher: key.hasher("username")), unique: true,
              maxOutputLength: EmailTransformer.longestLocalPart)
    }

    static let company = TransformerDescriptor(
        name: "company", summary: "a plausible company name: one or two words and a suffix",
        example: ("Initech Corporation", [:])
    ) { _, key throws in
        .init(Company(hasher: key.hasher("company")), unique: false,
              maxOutputLength: longest(Dictionaries.companyWords) * 2 + longest(Dictionaries.companySuffixes) + 2)
    }
}
