/// Masks one value. Implementations are pure functions of (masking key, options, input), so the
/// same input gives the same output in every table, engine and run.
public protocol Transformer: Sendable {
    /// Masks a non-NULL value; `nil` writes NULL.
    func mask(_ value: String) throws(MaskingError) -> String?
    /// What NULL becomes. NULL stays NULL unless a transformer (`constant`) says otherwise.
    func maskNull() -> String?
}

extension Transformer {
    public func maskNull() -> String? { nil }
}

/// A transformer whose output for an ASCII value is exactly as long as the value (the digit
/// permutations, card numbers). Row maskers hand it the field's bytes and a buffer of that size,
/// so the values of these columns (nearly always ASCII) are masked without making strings.
/// Both paths give the same output: `mask(_:)` runs this one for ASCII values.
protocol ASCIIMasking: Transformer {
    /// Writes the masked form of ASCII `value` into `output` (`value.count` bytes); false (with
    /// `output` left undefined) when only `mask(_:)` can mask this value.
    func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) throws(MaskingError)
        -> Bool
}

/// A value a transformer cannot mask (a date column holding text, malformed JSON). The run stops
/// rather than copy it unmasked. The message never repeats the value: it may be personal data.
public struct MaskingError: Error, Sendable, CustomStringConvertible, Equatable {
    public var transformer: String
    public var reason: String

    public init(_ transformer: String, _ reason: String) {
        self.transformer = transformer
        self.reason = reason
    }

    public var description: String { "\(transformer) cannot mask this value: \(reason)" }
}

/// Describes a value's shape without its content, for error messages.
func shape(of value: String) -> String {
    let count = value.unicodeScalars.count
    return "a \(count)-character value"
}
