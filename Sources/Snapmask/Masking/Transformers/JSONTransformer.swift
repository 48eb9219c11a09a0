/// `json`: masks the values at the given paths inside a JSON document and copies everything
/// else byte for byte. Paths with `[]` reach every element of an array.
struct JSONTransformer: Transformer {
    let masker: JSONMasker

    func mask(_ value: String) throws(MaskingError) -> String? { try masker.mask(value) }

    static let descriptor = TransformerDescriptor(
        name: "json", summary: "masks values at paths inside JSON text; everything else is kept byte for byte",
        options: [OptionInfo("paths", .paths, required: true,
                             "path → transformer, e.g. { contact.email: email, \"contact.phones[]\": phone }")],
        example: (#"{"contact": {"email": "ann@corp.io", "phones": ["555-0100"]}, "theme": "dark"}"#,
                  ["paths": "contact.email=email, contact.phones[]=phone"]),
        acceptsMaxLength: false
    ) { options, key throws in
        var rules: [JSONMasker.Rule] = []
        for (pathText, spec) in try options.paths("paths") {
            let path: FieldPath
            do { path = try FieldPath(pathText) } catch let error as ConfigError { throw ConfigError(error.message, at: spec.location) }
            if let clash = rules.first(where: { $0.path.contains(path) || path.contains($0.path) }) {
                throw ConfigError("path '\(pathText)' overlaps '\(clash.path)': give each value one rule", at: spec.location)
            }
            rules.append(JSONMasker.Rule(path: path, transformer: try TransformerCatalog.compile(spec, key: key)))
        }
        guard !rules.isEmpty else {
            throw ConfigError("transformer 'json' needs at least one path in 'paths'", at: options.spec.location)
        }
        return .init(JSONTransformer(masker: JSONMasker(rules: rules)), unique: false)
    }
}
