import SnapmaskKeyedHash

/// `date_shift` and `year_only` on text dates and timestamps. The date at the start of the value
/// is found in one of the common layouts; everything after it (time, fraction, zone) is kept,
/// so the output has exactly the input's format.
enum DateTransformers {
    /// A calendar date inside a value, with where its fields are.
    struct DateText {
        enum Layout { case isoDash, isoSlash, compact, dayDotMonth, monthSlashDay }

        var year: Int, month: Int, day: Int
        var layout: Layout
        var yearDigits: Int
        /// The characters after the date (time, zone, era).
        var rest: Substring

        static func parse(_ value: String) -> DateText? {
            let scalars = Array(value.utf8.prefix(10))
            func number(_ range: Range<Int>) -> Int? {
                guard range.upperBound <= scalars.count else { return nil }
                var result = 0
                for index in range {
                    let byte = scalars[index]
                    guard byte >= 48 && byte <= 57 else { return nil }
                    result = result * 10 + Int(byte - 48)
                }
                return result
            }
            func separator(_ index: Int, _ byte: UInt8) -> Bool { index < scalars.count && scalars[index] == byte }
            let utf8 = value.utf8
            func rest(after count: Int) -> Substring { Substring(value.utf8.dropFirst(count)) }
            var parsed: DateText?
            if let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) {
                if separator(4, 45) && separator(7, 45) { parsed = DateText(year: y, month: m, day: d, layout: .isoDash, yearDigits: 4, rest: rest(after: 10)) }
                if separator(4, 47) && separator(7, 47) { parsed = DateText(year: y, month: m, day: d, layout: .isoSlash, yearDigits: 4, rest: rest(after: 10)) }
            }
            if parsed == nil, let d = number(0..<2), let m = number(3..<5), let y = number(6..<10) {
                if separator(2, 46) && separator(5, 46) { parsed = DateText(year: y, month: m, day: d, layout: .dayDotMonth, yearDigits: 4, rest: rest(after: 10)) }
                if separator(2, 47) && separator(5, 47) { parsed = DateText(year: y, month: d, day: m, layout: .monthSlashDay, yearDigits: 4, rest: rest(after: 10)) }
            }
            if parsed == nil, let y = number(0..<4), let m = number(4..<6), let d = number(6..<8),
               utf8.count == 8 || utf8.dropFirst(8).first == UInt8(ascii: "T") {
                parsed = DateText(year: y, month: m, day: d, layout: .compact, yearDigits: 4, rest: rest(after: 8))
            }
            guard let parsed, (1...12).contains(parsed.month),
                  (1...daysInMonth(parsed.year, parsed.month)).contains(parsed.day) else { return nil }
            return parsed
        }

        var text: String {
            func pad(_ value: Int, _ width: Int) -> String {
                let digits = String(value)
                return String(repeating: "0", count: max(0, width - digits.count)) + digits
            }
            let y = pad(year, yearDigits), m = pad(month, 2), d = pad(day, 2)
            switch layout {
            case .isoDash: return "\(y)-\(m)-\(d)\(rest)"
            case .isoSlash: return "\(y)/\(m)/\(d)\(rest)"
            case .compact: return "\(y)\(m)\(d)\(rest)"
            case .dayDotMonth: return "\(d).\(m).\(y)\(rest)"
            case .monthSlashDay: return "\(m)/\(d)/\(y)\(rest)"
            }
        }

        static func daysInMonth(_ year: Int, _ month: Int) -> Int { CivilCalendar.daysInMonth(year, month) }
    }

    /// Values that are dates in name only: kept as they are.
    static func isSpecial(_ value: String) -> Bool {
        value == "infinity" || value == "-infinity" || value.hasPrefix("0000-00-00")
    }

    static func notADate(_ name: String, _ value: String) -> MaskingError {
        MaskingError(name, "\(shape(of: value)) does not start with a date (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, "
                         + "DD.MM.YYYY or MM/DD/YYYY)")
    }

    struct Shift: Transformer {
        let hasher: KeyedHash
        let maxDays: Int

        func mask(_ value: String) throws(MaskingError) -> String? {
            if isSpecial(value) { return value }
            guard var date = DateText.parse(value) else { throw notADate("date_shift", value) }
            // A non-zero offset in ±maxDays fixed by the calendar date alone: the same day moves
            // the same way in a date column and a timestamp column, and events of one day keep
            // their order.
            let word = hasher.digest("\(date.year)-\(date.month)-\(date.day)").word(0)
            let magnitude = 1 + Int((word >> 1) % UInt64(maxDays))
            let offset = word & 1 == 0 ? magnitude : -magnitude
            let shifted = CivilCalendar.civil(days: CivilCalendar.days(year: date.year, month: date.month, day: date.day) + offset)
            guard (1...9999).contains(shifted.year) else {
                throw MaskingError("date_shift", "shifting \(shape(of: value)) leaves the years 1–9999")
            }
            (date.year, date.month, date.day) = shifted
            return date.text
        }
    }

    struct YearOnly: Transformer {
        func mask(_ value: String) throws(MaskingError) -> String? {
            if isSpecial(value) { return value }
            guard var date = DateText.parse(value) else { throw notADate("year_only", value) }
            date.month = 1
            date.day = 1
            date.rest = Self.midnight(date.rest)
            return date.text
        }

        /// `T14:22:01.123+02` → `T00:00:00.000+02`: the clock digits go to zero, the zone stays.
        static func midnight(_ rest: Substring) -> Substring {
            var bytes = Array(rest.utf8)
            guard let first = bytes.first, first == UInt8(ascii: "T") || first == UInt8(ascii: " ") else { return rest }
            var index = 1
            while index < bytes.count {
                let byte = bytes[index]
                if byte >= 48 && byte <= 57 {
                    bytes[index] = 48
                } else if byte != UInt8(ascii: ":") && byte != UInt8(ascii: ".") {
                    break
                }
                index += 1
            }
            return Substring(String(decoding: bytes, as: UTF8.self))
        }
    }

    static let dateShift = TransformerDescriptor(
        name: "date_shift", summary: "moves a date or timestamp by a fixed-per-value number of days, keeping its format",
        options: [OptionInfo("max_days", .integer, default: "30", "largest shift, in days, earlier or later")],
        accepts: [.text, .date, .timestamp], example: ("1984-07-19", ["max_days": "180"]), acceptsMaxLength: false
    ) { options, key throws in
        .init(Shift(hasher: key.hasher("date_shift"), maxDays: try options.int("max_days", in: 1...36_500)), unique: false)
    }

    static let yearOnly = TransformerDescriptor(
        name: "year_only", summary: "keeps the year, sets the date to January 1st and any time to midnight",
        accepts: [.text, .date, .timestamp], example: ("1984-07-19 08:15:00+02", [:]), acceptsMaxLength: false
    ) { _, _ throws in .init(YearOnly(), unique: false) }
}
