import SnapmaskKeyedHash
import Foundation

/// `coordinate`: a latitude or a longitude moved by a keyed offset of up to `max_meters`: a home
/// on a map becomes a point in its neighbourhood, and the same place moves the same way in every
/// table, collection and run. `number_noise` cannot do this: its change is a share of the value,
/// so a longitude near 0 barely moves and a latitude of 51 moves by degrees.
///
/// A value within ±90 (a latitude, or a longitude that looks like one) stays within ±90, a
/// longitude within ±180, by moving the other way at the bound. The input's decimals are kept, with at
/// least enough of them to show the offset (a whole-degree value would otherwise stay put), and
/// every value moves by at least one last digit: no place is left exactly where it was.
struct CoordinateTransformer: Transformer {
    /// Metres per degree of latitude (and of longitude at the equator; fewer towards the poles,
    /// so an east-west move there is at most `max_meters`).
    static let metersPerDegree = 111_320.0

    let hasher: KeyedHash
    let maxDegrees: Double
    /// Decimals that show an offset of `maxDegrees` to about a tenth of it.
    let minimumScale: Int

    init(hasher: KeyedHash, maxMeters: Int) {
        self.hasher = hasher
        maxDegrees = Double(maxMeters) / Self.metersPerDegree
        minimumScale = max(0, Int((-log10(maxDegrees)).rounded(.up)) + 1)
    }

    func mask(_ value: String) throws(MaskingError) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard let scale = NumberNoiseTransformer.scale(of: trimmed),
              let number = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")) else {
            throw MaskingError("coordinate", "\(shape(of: value)) is not a decimal number (degrees)")
        }
        let bound: Decimal = abs(number) <= 90 ? 90 : 180
        guard abs(number) <= 180 else {
            throw MaskingError("coordinate", "\(shape(of: value)) is beyond ±180, not a latitude or longitude in degrees")
        }
        // An offset in [-max, max] from 20 bits of the HMAC of the number itself, so 40.7 in a
        // document and 40.700000 in a numeric(9,6) column move by the same offset (each rounded
        // to its own decimals).
        let draw = Double(hasher.digest(NSDecimalNumber(decimal: number).stringValue).word(0) >> 44) / Double(1 << 20)
        let decimals = max(scale, minimumScale)
        var offset = Decimal(maxDegrees * (draw * 2 - 1)), rounded = Decimal()
        NSDecimalRound(&rounded, &offset, decimals, .plain)
        // An offset that rounds to nothing would leave the exact place: it moves by one last digit.
        if rounded.isZero {
            var step = Decimal(sign: draw < 0.5 ? .minus : .plus, exponent: -decimals, significand: 1)
            NSDecimalRound(&rounded, &step, decimals, .plain)
        }
        // Past a pole or the antimeridian it moves the other way (a reflection could land on the
        // place itself).
        let moved = abs(number + rounded) > bound ? number - rounded : number + rounded
        return NumberNoiseTransformer.format(moved, scale: decimals)
    }

    static let descriptor = TransformerDescriptor(
        name: "coordinate", summary: "moves a latitude or longitude by a keyed offset of up to max_meters",
        options: [OptionInfo("max_meters", .integer, default: "1000", "largest move, in metres (10–100000)")],
        accepts: [.text, .number], example: ("51.507351", ["max_meters": "1000"]), acceptsMaxLength: false
    ) { options, key throws in
        .init(CoordinateTransformer(hasher: key.hasher("coordinate"), maxMeters: try options.int("max_meters", in: 10...100_000)),
              unique: false)
    }
}
