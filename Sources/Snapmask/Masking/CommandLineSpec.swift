extension TransformSpec {
    /// A spec from `snapmask try NAME --option key=value ...`. `json`'s `paths` is written
    /// `path=transformer,path=transformer`.
    public static func fromCommandLine(name: String, options: [String], unique: Bool = false) throws -> TransformSpec {
        var values: [String: OptionValue] = [:]
        var order: [String] = []
        let descriptor = TransformerCatalog.descriptor(named: name)
        for option in options {
            guard let equals = option.firstIndex(of: "=") else {
                throw ConfigError("--option expects key=value, got '\(option)'")
            }
            let key = String(option[..<equals])
            let value = String(option[option.index(after: equals)...])
            if key == "unique" {
                throw ConfigError("unique is not a transformer option; use --unique (it asks the transformer to promise "
                                      + "distinct outputs, as unique: true does in a rule file)")
            }
            let kind = descriptor?.allOptions.first { $0.name == key }?.kind
            if kind == .paths {
                var paths: [(path: String, spec: TransformSpec)] = []
                for pair in value.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharactersInSpaces() }
                    guard parts.count == 2 else {
                        throw ConfigError("--option \(key) expects path=transformer,path=transformer, got '\(value)'")
                    }
                    paths.append((parts[0], TransformSpec(name: parts[1])))
                }
                values[key] = OptionValue(.paths(paths))
            } else {
                values[key] = value == "null" ? OptionValue(.null) : .text(value)
            }
            order.append(key)
        }
        return TransformSpec(name: name, options: values, optionOrder: order, unique: unique)
    }
}

extension Substring {
    func trimmingCharactersInSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
