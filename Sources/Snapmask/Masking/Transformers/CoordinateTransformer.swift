import SnapmaskKeyedHash
import Foundation

/// `coordinate`: a latitude or a longitude moved by a keyed offset of up to `max_meters`: a home
/// on a map becomes a point in its neighbourhood, and the same place moves the same way in every
/// table, collection and run. `number_noise` cannot do this: its change is a share of the value,
/// so a longitude near 0 barely moves and a latitude of 51 moves by degrees.
///
/// A value within ±90 (a latitude, or a longitude that looks like one) stays within ±90, a
/// longitude within ±180, by moving the other way at the bound. The input's decimals are kept,
/// with at least enough of them to show the offset (a whole-degree value would otherwise stay
/// put), and every value moves by at least one last digit: no place is left exactly where it was.
/// The arithmetic is on whole units of the last decimal, so nothing is lost to binary fractions.
struct CoordinateTransformer: Transformer {
    /// Metres per degree of latitude (and of longitude at the equator; fewer towards the poles,
    /// so an east-west move there is at most `max_meters`).
    static let metersPerDegree = 111_320.0
    /// Decimals beyond these are not a place any more (a nanometre) and are written as zeros;
    /// 180 × 10^15 fits 64 bits.
    static let maxDecimals = 15

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
        guard let number = Degrees(value) else {
            throw MaskingError("coordinate", "\(shape(of: value)) is not a decimal number of degrees")
        }
        let decimals = max(number.decimals, minimumScale)
        let unit = Self.powersOfTen[decimals]
        let units = number.units * Self.powersOfTen[decimals - number.decimals]
        guard units.magnitude <= 180 * unit else {
            throw MaskingError("coordinate", "\(shape(of: value)) is beyond ±180, not a latitude or longitude in degrees")
        }
        let bound: Int64 = units.magnitude <= 90 * unit ? 90 * unit : 180 * unit
        // An offset in [-max, max] from 20 bits of the HMAC of the number itself, so 40.7 in a
        // document and 40.700000 in a numeric(9,6) column move by the same offset (each rounded
        // to its own decimals).
        let draw = Double(hasher.digest(number.canonical).word(0) >> 44) / Double(1 << 20)
        var offset = Int64((maxDegrees * (draw * 2 - 1) * Double(unit)).rounded())
        // An offset that rounds to nothing would leave the exact place: it moves by one last digit.
        if offset == 0 { offset = draw < 0.5 ? -1 : 1 }
        // Past a pole or the antimeridian it moves the other way (a reflection could land on the
        // place itself).
        let moved = abs(units + offset) > bound ? units - offset : units + offset
        // Decimals past `maxDecimals` (a numeric's text form) are shown, as zeros.
        return Degrees.format(moved, decimals: decimals) + String(repeating: "0", count: max(0, number.shownDecimals - decimals))
    }

    private static let powersOfTen: [Int64] = (0...18).map { exponent in
        (0..<exponent).reduce(Int64(1)) { value, _ in value * 10 }
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

/// A plain decimal number of degrees (`-73.9857`, `+40.7`, `52`, blanks around), read as whole
/// units of its last decimal up to `maxDecimals`; no exponents. Read as bytes: it is on the path
/// of every masked value.
private struct Degrees {
    var units: Int64
    /// The decimals `units` counts in (at most `maxDecimals`).
    var decimals: Int
    /// The decimals written (numeric(30,24)'s text form has 24).
    var shownDecimals: Int
    /// Without sign noise, leading or trailing zeros (`40.700` → `40.7`, `-0.0` → `0`): the same
    /// number always hashes alike.
    var canonical: String

    init?(_ text: String) {
        let zero = UInt8(ascii: "0"), dot = UInt8(ascii: ".")
        var bytes = Array(text.utf8)[...]
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        let negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        let point = bytes.firstIndex(of: dot)
        let whole = (point.map { bytes[..<$0] } ?? bytes).drop { $0 == zero }
        let fraction = point.map { bytes[bytes.index(after: $0)...] } ?? []
        guard !bytes.isEmpty, bytes != [dot], whole.count <= 3,
              whole.allSatisfy({ $0 &- zero < 10 }), fraction.allSatisfy({ $0 &- zero < 10 }) else { return nil }
        var units: Int64 = 0
        for byte in whole { units = units * 10 + Int64(byte - zero) }
        for byte in fraction.prefix(CoordinateTransformer.maxDecimals) { units = units * 10 + Int64(byte - zero) }
        self.units = negative ? -units : units
        decimals = min(fraction.count, CoordinateTransformer.maxDecimals)
        shownDecimals = fraction.count
        var significant = fraction
        while significant.last == zero { significant = significant.dropLast() }
        var canonical: [UInt8] = negative && units != 0 ? [UInt8(ascii: "-")] : []
        canonical += whole.isEmpty ? [zero] : Array(whole)
        if !significant.isEmpty { canonical += [dot] + significant }
        self.canonical = String(decoding: canonical, as: UTF8.self)
    }

    static func format(_ units: Int64, decimals: Int) -> String {
        let digits = String(units.magnitude)
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        let whole = padded.dropLast(decimals), fraction = padded.suffix(decimals)
        return (units < 0 ? "-" : "") + whole + (decimals > 0 ? "." + fraction : "")
    }
}
