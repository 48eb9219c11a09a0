/// `json`: masks JSON text along path rules, with the semantics of document collections
/// (`FieldPathRules`): a rule covers its path and everything below it, the most specific rule
/// wins, `keep` keeps a subtree byte for byte, a masking transformer masks every leaf under its
/// path in place, `null` replaces the value there. Every key must be covered by a rule: a value
/// no rule names stops the run, unless `unlisted: keep`.
struct JSONTransformer: Transformer {
    let masker: JSONMasker

    func mask(_ value: String) throws(MaskingError) -> String? { try masker.mask(value) }

    static let descriptor = TransformerDescriptor(
        name: "json", summary: "masks JSON text along path rules; every value needs a rule (a path, or an enclosing one)",
        options: [
            OptionInfo("paths", .paths, required: true,
                       "path → transformer, e.g. { contact.email: email, \"contact.phones[]\": phone, settings: keep }; "
                           + "a map keyed by data: { read_by: { keys: hash, values: keep } }"),
            OptionInfo("unlisted", .text, default: "fail",
                       "fail: a value no path covers stops the run; keep: it is copied as it is"),
            OptionInfo("keys", .transformer,
                       "when the top-level field names are data (a map): the transformer for them (hash, keep); "
                           + "their values are then named by paths starting with *"),
        ],
        accepts: [.text, .json], searchableByValue: true,
        example: (#"{"contact": {"email": "ann@corp.io", "phones": ["555-0100"]}, "theme": "dark"}"#,
                  ["paths": "contact.email=email, contact.phones[]=phone, theme=keep"]),
        acceptsMaxLength: false
    ) { options, key throws in
        var columns: [CompiledColumn] = []
        var errors = ConfigErrors()
        for (pathText, spec) in try options.paths("paths") {
            errors.collect {
                let path: FieldPath
                do { path = try FieldPath(pathText) } catch let error as ConfigError { throw ConfigError(error.message, at: spec.location) }
                let rule = ColumnRule(name: path.text, spec: spec, perElement: false,
                                      location: spec.location ?? options.spec.location ?? SourceLocation(file: "", line: 0, column: 0))
                columns.append(CompiledColumn(rule: rule, transformer: try TransformerCatalog.compile(spec, key: key)))
            }
        }
        if var keys = try options.transformerSpec("keys") {
            keys.appliesToKeys = true
            let rule = ColumnRule(name: "", spec: keys, perElement: false,
                                  location: keys.location ?? SourceLocation(file: "", line: 0, column: 0))
            errors.collect { columns.append(CompiledColumn(rule: rule, transformer: try TransformerCatalog.compile(keys, key: key))) }
        }
        try errors.throwIfAny()
        guard !columns.isEmpty else {
            throw ConfigError("transformer 'json' needs at least one path in 'paths'", at: options.spec.location)
        }
        let problems = PathRuleCheck.problems(columns.map { PathRuleCheck.Entry(path: FieldPath.of(rule: $0.name), column: $0) },
                                              owner: "this json rule")
        if !problems.isEmpty { throw ConfigErrors(problems) }
        let keepUnruled = try options.choice("unlisted", ["fail", "keep"]) == "keep"
        return .init(JSONTransformer(masker: JSONMasker(tree: FieldPathRules(rules: columns), keepUnruled: keepUnruled)),
                     unique: false)
    }
}

extension CompiledTransformer {
    /// The path rules of a `json` transformer (nil for any other).
    public var jsonRules: FieldPathRules? { (transformer as? JSONTransformer)?.masker.tree }

    /// Whether a `json` transformer copies values no path covers (`unlisted: keep`).
    public var jsonKeepsUnruled: Bool { (transformer as? JSONTransformer)?.masker.keepUnruled ?? false }
}
