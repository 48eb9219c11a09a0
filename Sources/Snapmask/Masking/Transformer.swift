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

/// A transformer that can mask an ASCII value from its bytes into a buffer (the digit
/// permutations, card numbers, emails, addresses, hashes). Row and document maskers hand it a
/// value's bytes and a buffer on the stack, so these values (nearly always ASCII) are masked
/// without making strings. Both paths give the same output: `ASCIIMaskingTests` holds them to it.
protocol ASCIIMasking: Transformer {
    /// The most bytes `maskASCII` writes for an ASCII value of `length` bytes.
    func maskedLength(ofASCII length: Int) -> Int
    /// Writes the masked form of ASCII `value` into `output` (`maskedLength(ofASCII:)` bytes of
    /// room); the count written, or nil when only `mask(_:)` can mask this value.
    func maskASCII(_ value: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) throws(MaskingError)
        -> Int?
}

extension ASCIIMasking {
    /// Digits and card numbers write as many bytes as they read.
    func maskedLength(ofASCII length: Int) -> Int { length }
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
