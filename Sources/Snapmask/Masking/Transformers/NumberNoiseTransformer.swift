import SnapmaskKeyedHash
import Foundation

/// `number_noise`: the value times (1 ± up to `percent`%), rounded to the input's decimals.
/// Sums and averages stay close to production; single values no longer match.
struct NumberNoiseTransformer: Transformer {
    let hasher: KeyedHash
    let percent: Int

    func mask(_ value: String) throws(MaskingError) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard let scale = Self.scale(of: trimmed), let number = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) else {
            throw MaskingError("number_noise", "\(shape(of: value)) is not a decimal number")
        }
        if number.isZero { return value }
        // A factor in [1 - p, 1 + p] from 20 bits of the HMAC: precise to about one millionth.
        let draw = Double(hasher.digest(value).word(0) >> 44) / Double(1 << 20)
        let factor = Decimal(1) + Decimal(Double(percent) / 100 * (draw * 2 - 1))
        var product = number * factor
        var rounded = Decimal()
        NSDecimalRound(&rounded, &product, scale, .plain)
        return Self.format(rounded, scale: scale)
    }

    /// The count of decimals; nil when the text is not a plain decimal (no exponents).
    static func scale(of text: String) -> Int? {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !body.isEmpty,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              !(parts.first!.isEmpty && (parts.count == 1 || parts[1].isEmpty)) else { return nil }
        return parts.count == 2 ? parts[1].count : 0
    }

    static func format(_ value: Decimal, scale: Int) -> String {
        var text = NSDecimalNumber(decimal: value).stringValue
        guard scale > 0 else { return text }
        if !text.contains(".") { text += "." }
        let decimals = text.split(separator: ".", omittingEmptySubsequences: false)[1].count
        return text + String(repeating: "0", count: max(0, scale - decimals))
    }

    static let descriptor = TransformerDescriptor(
        name: "number_noise", summary: "adds deterministic noise of up to ± percent to a number, keeping its decimals",
        options: [OptionInfo("percent", .integer, default: "10", "largest change, in percent (1–99)")],
        accepts: [.text, .number], example: ("1249.90", ["percent": "5"]), acceptsMaxLength: false
    ) { options, key throws in
        .init(NumberNoiseTransformer(hasher: key.hasher("number_noise"), percent: try options.int("percent", in: 1...99)),
              unique: false)
    }
}
