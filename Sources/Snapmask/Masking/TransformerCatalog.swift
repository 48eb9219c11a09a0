/// One option a transformer accepts, documented where it is read.
public struct OptionInfo: Sendable {
    public enum Kind: String, Sendable {
        case text, integer, boolean, transformer, paths
    }

    public let name: String
    public let kind: Kind
    /// The value used when the option is not given; nil for options without one.
    public let defaultValue: String?
    public let required: Bool
    public let summary: String

    public init(_ name: String, _ kind: Kind, default defaultValue: String? = nil, required: Bool = false,
                _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.required = required
        self.summary = summary
    }
}

/// What a transformer does with a value, as far as the rest of snapmask cares: `keep` copies,
/// `null` and `constant` replace whatever they are given, the others mask.
public enum TransformerRole: Sendable {
    case keep, null, constant, masking
}

/// Whether a transformer can promise distinct outputs for distinct inputs (`unique: true`).
public enum Uniqueness: Sendable {
    case never
    /// Always, for this reason.
    case always(String)
    /// Only with some options (the build decides); says which.
    case withOptions(String)

    public var canPromise: Bool {
        if case .never = self { return false }
        return true
    }

    /// As `snapmask transformers` prints it.
    public var text: String {
        switch self {
        case .never: return "no"
        case let .always(why): return "yes (\(why))"
        case let .withOptions(when): return "yes, \(when)"
        }
    }
}

/// A transformer as the catalog knows it: documentation, options, what it accepts, uniqueness,
/// and how to build it. Everything the rest of snapmask asks about a transformer is here, so a
/// new transformer touches one file.
public struct TransformerDescriptor: Sendable {
    public let name: String
    public let summary: String
    public let options: [OptionInfo]
    public let role: TransformerRole
    /// The kinds of values it can mask and write back as the same kind (`keep`, `null` and
    /// `constant`: every kind).
    public let accepts: Set<ValueCategory>
    public let uniqueness: Uniqueness
    /// Whether finding an original value anywhere in a masked column proves a leak: true when
    /// outputs cannot coincide with real values (60+ bits of HMAC, free text, NULL, one
    /// constant); false for dictionaries and format-preserving transformers, where another
    /// row's fake may be this row's original.
    public let searchableByValue: Bool
    /// An input and options that show what the transformer does.
    public let example: (input: String, options: [String: String])
    /// Whether the generic `max_length` option applies (truncating the output).
    let acceptsMaxLength: Bool
    /// Empty strings hold no personal data and stay empty, except for transformers that
    /// replace every value (`null`, `constant`).
    let masksEmptyValues: Bool
    let build: @Sendable (OptionReader, MaskingKey) throws -> Built

    /// A built transformer and whether, with these options, it maps distinct inputs to distinct outputs.
    struct Built {
        var transformer: any Transformer
        var unique: Bool
        /// Why `unique` cannot be promised with these options, when it cannot.
        var uniqueProblem: String?
        /// The longest output in characters, when bounded (checked against varchar(n)).
        var maxOutputLength: Int?

        init(_ transformer: any Transformer, unique: Bool, uniqueProblem: String? = nil, maxOutputLength: Int? = nil) {
            self.transformer = transformer
            self.unique = unique
            self.uniqueProblem = uniqueProblem
            self.maxOutputLength = maxOutputLength
        }
    }

    init(name: String, summary: String, options: [OptionInfo] = [], role: TransformerRole = .masking,
         accepts: Set<ValueCategory> = [.text], uniqueness: Uniqueness = .never, searchableByValue: Bool = false,
         example: (String, [String: String]), acceptsMaxLength: Bool = true, masksEmptyValues: Bool = false,
         build: @escaping @Sendable (OptionReader, MaskingKey) throws -> Built) {
        self.name = name
        self.summary = summary
        self.options = options
        self.role = role
        // A constant is text, which a spatial column does not take; keep and null fit anything.
        switch role {
        case .masking: self.accepts = accepts
        case .constant: self.accepts = Set(ValueCategory.allCases).subtracting([.spatial])
        case .keep, .null: self.accepts = Set(ValueCategory.allCases)
        }
        self.uniqueness = uniqueness
        // NULL and a constant can never be mistaken for an original value.
        self.searchableByValue = searchableByValue || role == .null || role == .constant
        self.example = example
        self.acceptsMaxLength = acceptsMaxLength
        self.masksEmptyValues = masksEmptyValues
        self.build = build
    }

    /// Every option the transformer reads, with the generic ones.
    public var allOptions: [OptionInfo] {
        options + (acceptsMaxLength ? [TransformerCatalog.maxLengthOption] : [])
    }

    /// Whether it can mask values of `category` and write them back as that kind.
    public func accepts(_ category: ValueCategory) -> Bool { accepts.contains(category) }
}

/// A rule's transformer, compiled once per column and shared by every batch. A class: it is
/// reached for every masked value, and a reference is cheaper to pass than its many members.
public final class CompiledTransformer: Sendable {
    public let spec: TransformSpec
    public let transformer: any Transformer
    public let descriptor: TransformerDescriptor
    /// Distinct inputs give distinct outputs (the transformer can promise `unique: true`).
    public let isUnique: Bool
    /// The longest output in characters, when the transformer bounds it.
    public let maxOutputLength: Int?
    let masksEmptyValues: Bool
    /// The transformer again when it masks ASCII values in place (`ASCIIMasking`).
    private let asciiMasking: (any ASCIIMasking)?

    init(spec: TransformSpec, transformer: any Transformer, descriptor: TransformerDescriptor, isUnique: Bool,
         maxOutputLength: Int?, masksEmptyValues: Bool) {
        self.spec = spec
        self.transformer = transformer
        self.descriptor = descriptor
        self.isUnique = isUnique
        self.maxOutputLength = maxOutputLength
        self.masksEmptyValues = masksEmptyValues
        asciiMasking = transformer as? any ASCIIMasking
        masksASCIIInPlace = asciiMasking != nil
    }

    /// Whether `maskASCII` can mask values (else it always returns nil). Stored: asking the
    /// optional existential each time copies it, once per masked value.
    public let masksASCIIInPlace: Bool

    /// The room `maskASCII` needs for an ASCII value of `length` bytes.
    public func maskedLength(ofASCII length: Int) -> Int { asciiMasking?.maskedLength(ofASCII: length) ?? 0 }

    /// `mask(_:)` of a non-NULL ASCII value given as bytes, written into `output`
    /// (`maskedLength(ofASCII:)` bytes of room); the count written, or nil when only `mask(_:)`
    /// can mask it.
    @inline(__always)
    public func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>)
        throws(MaskingError) -> Int? {
        guard let asciiMasking else { return nil }
        if value.isEmpty && !masksEmptyValues { return 0 }
        return try asciiMasking.maskASCII(value, into: output)
    }

    public var name: String { spec.name }
    public var role: TransformerRole { descriptor.role }
    public var isKeep: Bool { descriptor.role == .keep }
    public var isNull: Bool { descriptor.role == .null }

    @inline(__always)
    public func mask(_ value: String?) throws(MaskingError) -> String? {
        guard let value else { return transformer.maskNull() }
        if value.isEmpty && !masksEmptyValues { return value }
        return try transformer.mask(value)
    }
}

/// Every transformer snapmask ships, by name.
public enum TransformerCatalog {
    static let maxLengthOption = OptionInfo(
        "max_length", .integer,
        "cut the output to at most this many characters (to fit varchar(n)); may weaken unique")

    public static let all: [TransformerDescriptor] = [
        BasicTransformers.keep, BasicTransformers.null, BasicTransformers.constant,
        HashTransformer.descriptor, EmailTransformer.descriptor,
        NameTransformers.firstName, NameTransformers.lastName, NameTransformers.fullName,
        NameTransformers.username, DigitTransformers.phone, DigitTransformers.ssn,
        CreditCardTransformer.descriptor, IBANTransformer.descriptor, IPTransformer.descriptor,
        AddressTransformers.street, AddressTransformers.city, AddressTransformers.zip,
        AddressTransformers.address, NameTransformers.company,
        DateTransformers.dateShift, DateTransformers.yearOnly, NumberNoiseTransformer.descriptor,
        CoordinateTransformer.descriptor,
        DigitTransformers.digits, PartialTransformer.descriptor, RegexTransformer.descriptor,
        LoremTransformer.descriptor, UUIDTransformer.descriptor, JSONTransformer.descriptor,
    ]

    private static let byName: [String: TransformerDescriptor] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func descriptor(named name: String) -> TransformerDescriptor? { byName[name] }

    public static var names: [String] { all.map(\.name) }

    /// The most characters `name` writes with its default options, or nil when that has no
    /// bound (or the transformer needs options).
    public static func longestOutput(of name: String) -> Int? {
        (try? compile(TransformSpec(name: name), key: .structural))?.maxOutputLength
    }

    /// Builds a spec's transformer: checks its name and options, then whether `unique` holds.
    public static func compile(_ spec: TransformSpec, key: MaskingKey) throws -> CompiledTransformer {
        guard let descriptor = byName[spec.name] else {
            var message = "unknown transformer '\(spec.name)'"
            if let suggestion = Spelling.closest(to: spec.name, among: names) { message += "; did you mean '\(suggestion)'?" }
            message += " Run `snapmask transformers` to list them."
            throw ConfigError(message, at: spec.location)
        }
        let reader = try OptionReader(spec: spec, descriptor: descriptor)
        var built = try descriptor.build(reader, key)
        if descriptor.acceptsMaxLength, let maxLength = try reader.optionalInt("max_length", in: 1...1_000_000),
           maxLength < built.maxOutputLength ?? Int.max {
            built.transformer = MaxLengthTransformer(inner: built.transformer, maxLength: maxLength)
            built.maxOutputLength = maxLength
            if built.unique {
                built.unique = false
                built.uniqueProblem = "max_length \(maxLength) cuts the output, so distinct inputs may collide"
            }
        }
        if spec.unique && !built.unique {
            let why = built.uniqueProblem ?? "its outputs come from a small set of values"
            throw ConfigError(
                "transformer '\(spec.name)' cannot promise unique: true here: \(why). Use a transformer that can "
                    + "(\(all.filter(\.uniqueness.canPromise).map(\.name).joined(separator: ", "))) or drop unique.",
                at: spec.location)
        }
        return CompiledTransformer(spec: spec, transformer: built.transformer, descriptor: descriptor, isUnique: built.unique,
                                   maxOutputLength: built.maxOutputLength, masksEmptyValues: descriptor.masksEmptyValues)
    }
}

/// Reads a spec's options against its descriptor: unknown options are refused, typed values
/// are checked, defaults come from the descriptor so documentation and behaviour agree.
struct OptionReader {
    let spec: TransformSpec
    let descriptor: TransformerDescriptor

    init(spec: TransformSpec, descriptor: TransformerDescriptor) throws {
        self.spec = spec
        self.descriptor = descriptor
        let known = descriptor.allOptions.map(\.name)
        for name in spec.optionOrder where !known.contains(name) {
            var message = "transformer '\(descriptor.name)' has no option '\(name)'"
            if let suggestion = Spelling.closest(to: name, among: known + ["transform", "unique"]) {
                message += "; did you mean '\(suggestion)'?"
            }
            message += known.isEmpty ? " It takes no options." : " Its options: \(known.joined(separator: ", "))."
            throw ConfigError(message, at: spec.location(of: name))
        }
        for option in descriptor.options where option.required && spec.options[option.name] == nil {
            throw ConfigError("transformer '\(descriptor.name)' needs the option '\(option.name)' (\(option.summary))",
                              at: spec.location)
        }
    }

    private func text(_ name: String) throws -> String? {
        guard let value = spec.options[name] else {
            return descriptor.allOptions.first { $0.name == name }?.defaultValue
        }
        switch value.content {
        case let .text(text): return text
        case .null: return nil
        case .paths: throw ConfigError("option '\(name)' of '\(descriptor.name)' takes a single value, not a mapping",
                                       at: value.location ?? spec.location)
        }
    }

    private func fail(_ name: String, _ expected: String) -> ConfigError {
        ConfigError("option '\(name)' of '\(descriptor.name)' must be \(expected)", at: spec.location(of: name))
    }

    func string(_ name: String) throws -> String {
        guard let value = try text(name) else { throw fail(name, "given") }
        return value
    }

    func optionalString(_ name: String) throws -> String? { try text(name) }

    /// Whether the option was written at all (a `null` value counts).
    func isGiven(_ name: String) -> Bool { spec.options[name] != nil }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = try optionalInt(name, in: range) else { throw fail(name, "given") }
        return value
    }

    func optionalInt(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = try text(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw fail(name, "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool {
        switch try text(name)?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off", nil: return false
        default: throw fail(name, "true or false")
        }
    }

    func choice(_ name: String, _ choices: [String]) throws -> String {
        let value = try string(name)
        guard choices.contains(value) else { throw fail(name, "one of \(choices.joined(separator: ", "))") }
        return value
    }

    func paths(_ name: String) throws -> [(path: String, spec: TransformSpec)] {
        guard let value = spec.options[name] else { return [] }
        guard case let .paths(paths) = value.content else {
            throw fail(name, "a mapping of paths to transformers, e.g. { contact.email: email }")
        }
        return paths
    }

    /// A nested transformer named by an option (`regex`'s `with`).
    func transformerSpec(_ name: String) throws -> TransformSpec? {
        guard let text = try text(name) else { return nil }
        return TransformSpec(name: text, location: spec.location(of: name))
    }
}

/// Cuts output to a column's length. Counted in Unicode scalars, as varchar(n) counts characters.
struct MaxLengthTransformer: Transformer {
    let inner: any Transformer
    let maxLength: Int

    func mask(_ value: String) throws(MaskingError) -> String? {
        try inner.mask(value).map(cut)
    }

    func maskNull() -> String? { inner.maskNull().map(cut) }

    private func cut(_ text: String) -> String {
        guard text.utf8.count > maxLength, text.unicodeScalars.count > maxLength else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(maxLength))
        return String(scalars)
    }
}
