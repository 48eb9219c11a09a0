/// A transformer as a rule names it: `email`, or `{ transform: phone, keep_last: 2 }`.
public struct TransformSpec: Sendable, Hashable {
    public var name: String
    public var options: [String: OptionValue]
    /// Keys in the order written, for messages and for the option pass.
    public var optionOrder: [String]
    public var unique: Bool
    /// For a document or JSON path: the transformer masks the field names of the object there
    /// (`keys:` of a map rule), not the values.
    public var appliesToKeys: Bool
    public var location: SourceLocation?

    public init(name: String, options: [String: OptionValue] = [:], optionOrder: [String]? = nil,
                unique: Bool = false, appliesToKeys: Bool = false, location: SourceLocation? = nil) {
        self.name = name
        self.options = options
        self.optionOrder = optionOrder ?? options.keys.sorted()
        self.unique = unique
        self.appliesToKeys = appliesToKeys
        self.location = location
    }

    /// Where an option was written, falling back to the rule itself.
    func location(of option: String) -> SourceLocation? {
        options[option]?.location ?? location
    }
}

/// An option's value: text as written (typed by the transformer that reads it), or, for `json`,
/// the transformers of its paths.
public struct OptionValue: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case text(String)
        case null
        case paths([(path: String, spec: TransformSpec)])

        public static func == (lhs: Content, rhs: Content) -> Bool {
            switch (lhs, rhs) {
            case let (.text(a), .text(b)): return a == b
            case (.null, .null): return true
            case let (.paths(a), .paths(b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.path == $1.path && $0.spec == $1.spec }
            default: return false
            }
        }

        public func hash(into hasher: inout Hasher) {
            switch self {
            case let .text(text): hasher.combine(text)
            case .null: hasher.combine(0)
            case let .paths(paths):
                for entry in paths {
                    hasher.combine(entry.path)
                    hasher.combine(entry.spec)
                }
            }
        }
    }

    public var content: Content
    public var location: SourceLocation?

    public init(_ content: Content, location: SourceLocation? = nil) {
        self.content = content
        self.location = location
    }

    public static func text(_ text: String, at location: SourceLocation? = nil) -> OptionValue {
        OptionValue(.text(text), location: location)
    }
}
