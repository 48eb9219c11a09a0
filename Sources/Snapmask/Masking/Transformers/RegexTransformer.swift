import Foundation

/// `regex`: masks only the parts of a value that match a pattern, either with a replacement
/// template (`$1` refers to groups) or by running each match through another transformer.
struct RegexTransformer: Transformer {
    /// NSRegularExpression is immutable once built and safe to share across threads.
    struct Pattern: @unchecked Sendable { let expression: NSRegularExpression }

    let pattern: Pattern
    let replacement: String?
    let inner: CompiledTransformer?

    func mask(_ value: String) throws(MaskingError) -> String? {
        let whole = NSRange(value.startIndex..., in: value)
        if let replacement {
            return pattern.expression.stringByReplacingMatches(in: value, range: whole, withTemplate: replacement)
        }
        guard let inner else { return value }
        var output = ""
        var cursor = value.startIndex
        for match in pattern.expression.matches(in: value, range: whole) {
            guard let range = Range(match.range, in: value) else { continue }
            output += value[cursor..<range.lowerBound]
            output += try inner.mask(String(value[range])) ?? ""
            cursor = range.upperBound
        }
        output += value[cursor...]
        return output
    }

    static let descriptor = TransformerDescriptor(
        name: "regex", summary: "masks the parts of the value matching a pattern, by a template or another transformer",
        options: [
            OptionInfo("pattern", .text, required: true, "an ICU regular expression"),
            OptionInfo("replacement", .text, "a template replacing each match ($1 for the first group)"),
            OptionInfo("with", .transformer, "a transformer each match goes through (e.g. email)"),
        ],
        example: ("call 555-0132 or mail bob@corp.com", ["pattern": "[0-9]{3}-[0-9]{4}", "with": "phone"])
    ) { options, key throws in
        let source = try options.string("pattern")
        let expression: NSRegularExpression
        do {
            expression = try NSRegularExpression(pattern: source)
        } catch {
            throw ConfigError("option 'pattern' of 'regex' is not a valid regular expression", at: options.spec.location(of: "pattern"))
        }
        let replacement = try options.optionalString("replacement")
        let inner = try options.transformerSpec("with").map { spec throws in
            try TransformerCatalog.compile(spec, key: key)
        }
        guard (replacement == nil) != (inner == nil) else {
            throw ConfigError("transformer 'regex' needs exactly one of 'replacement' or 'with'", at: options.spec.location)
        }
        return .init(RegexTransformer(pattern: Pattern(expression: expression), replacement: replacement, inner: inner),
                     unique: false)
    }
}
