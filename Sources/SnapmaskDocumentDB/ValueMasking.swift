import CMongoC
import Foundation
import Snapmask

/// How a masked BSON value keeps its type. Transformers work on text, so a value goes through
/// its text form and back:
///
/// | BSON type | text given to the transformer | written back as |
/// |---|---|---|
/// | string | the string | string |
/// | int, long, double, decimal | decimal text (`5551234`, `12.5`, `1.20E+3` for decimal) | the same type, if the output parses as it |
/// | date | `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC) | date, if the output parses in that form |
/// | binData subtype 4 (UUID) | `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` | binData subtype 4 |
/// | bool | kept (a boolean carries no text to mask) | bool; `constant` must write `true` or `false` |
/// | objectId | 24 hex digits | objectId (only `constant` can produce one) |
/// | null | NULL | null, or a string when the transformer writes a value for NULL (`constant` with `replace_null`) |
///
/// Numbers are masked only by transformers that take numbers (phone, digits, ssn, credit_card,
/// number_noise), dates only by date_shift and year_only, UUIDs by uuid; `keep`, `null` and
/// `constant` take anything. `check` refuses any other pairing, and a value met while streaming
/// that breaks these rules (or an output that does not fit the type) stops the run. A transformer
/// that writes NULL writes BSON null. Non-finite doubles (NaN, ±Infinity) hold no data and are kept.
enum ValueMasking {
    struct TypeFailure: Error {
        var reason: String
    }

    /// `key`: the field name to write (the element's own, or its masked name under a map rule).
    static func mask(_ element: BSONElement, _ reader: BSONReader, _ rule: MaskRule, key: UnsafeRawBufferPointer,
                     into output: inout BSONWriter) throws {
        let type = element.type
        let start = element.valueStart

        func writeNull() {
            output.appendKey(type: BSONType.null, key: key)
        }
        func writeString(_ text: String) {
            output.appendKey(type: BSONType.string, key: key)
            output.appendStringValue(text)
        }
        func refuse(_ what: String) -> TypeFailure {
            TypeFailure(reason: "\(rule.transformer.name) cannot mask \(what) values (it works on "
                            + "\(accepted(rule)) values); use keep, null or constant here, or fix the rule's path")
        }
        func unfit(_ what: String) -> TypeFailure {
            TypeFailure(reason: "\(rule.transformer.name) turned a \(what) into text that is not a \(what); "
                            + "the value must keep its type, so use a transformer that fits \(what) values")
        }

        // `null` fits every type: whatever the value was, it becomes null.
        if rule.isNull { return writeNull() }
        switch type {
        case BSONType.string:
            if rule.transformer.masksASCIIInPlace, try maskASCII(element, reader, rule, key: key, into: &output) { return }
            if let masked = try rule.transformer.mask(reader.stringValue(element)) { writeString(masked) } else { writeNull() }

        case BSONType.null:
            if let masked = try rule.transformer.mask(nil) { writeString(masked) } else { writeNull() }

        case BSONType.int32:
            guard rule.acceptsNumbers else { throw refuse("int") }
            guard let masked = try rule.transformer.mask(String(reader.int32(at: start))) else { return writeNull() }
            guard let number = Int32(masked) else { throw unfit("int") }
            output.appendKey(type: type, key: key)
            output.appendInt32(number)

        case BSONType.int64:
            guard rule.acceptsNumbers else { throw refuse("long") }
            guard let masked = try rule.transformer.mask(String(reader.int64(at: start))) else { return writeNull() }
            guard let number = Int64(masked) else { throw unfit("long") }
            output.appendKey(type: type, key: key)
            output.appendInt64(number)

        case BSONType.double:
            let value = Double(bitPattern: UInt64(bitPattern: reader.int64(at: start)))
            if !value.isFinite {
                output.append(reader.bytes(element.start..<element.end))
                return
            }
            guard rule.acceptsNumbers else { throw refuse("double") }
            guard let masked = try rule.transformer.mask(doubleText(value)) else { return writeNull() }
            guard let number = Double(masked) else { throw unfit("double") }
            output.appendKey(type: type, key: key)
            output.appendDouble(number)

        case BSONType.decimal128:
            guard rule.acceptsNumbers else { throw refuse("decimal") }
            guard let masked = try rule.transformer.mask(decimalText(reader, at: start)) else { return writeNull() }
            guard let bytes = decimalBytes(masked) else { throw unfit("decimal") }
            output.appendKey(type: type, key: key)
            output.bytes.append(contentsOf: bytes)

        case BSONType.dateTime:
            guard rule.acceptsDates else { throw refuse("date") }
            guard let text = ISODate.text(millis: reader.int64(at: start)) else {
                throw TypeFailure(reason: "a date outside the years 0001–9999 cannot be masked; use keep or null")
            }
            guard let masked = try rule.transformer.mask(text) else { return writeNull() }
            guard let millis = ISODate.millis(masked) else { throw unfit("date") }
            output.appendKey(type: type, key: key)
            output.appendInt64(millis)

        case BSONType.binary:
            let subtype = reader.byte(at: start + 4)
            let length = Int(reader.int32(at: start))
            guard subtype == 4 && length == 16 else {
                guard rule.isConstant else { throw refuse("binData") }
                throw unfit("binData")
            }
            guard rule.acceptsUUIDs else { throw refuse("UUID (binData subtype 4)") }
            let bytes = Array(reader.bytes((start + 5)..<(start + 21)))
            guard let masked = try rule.transformer.mask(UUIDText.text(bytes)) else { return writeNull() }
            guard let parsed = UUIDText.bytes(masked) else { throw unfit("UUID") }
            output.appendKey(type: type, key: key)
            output.appendInt32(16)
            output.bytes.append(4)
            output.bytes.append(contentsOf: parsed)

        case BSONType.bool:
            // A masking transformer has nothing to do with true/false: under a rule on an
            // enclosing path a boolean is kept (check refuses a masking rule on the boolean itself).
            guard rule.isConstant else {
                output.appendKey(type: type, key: key)
                output.bytes.append(reader.byte(at: start))
                return
            }
            guard let masked = try rule.transformer.mask(reader.byte(at: start) != 0 ? "true" : "false") else { return writeNull() }
            guard masked == "true" || masked == "false" else { throw unfit("bool") }
            output.appendKey(type: type, key: key)
            output.bytes.append(masked == "true" ? 1 : 0)

        case BSONType.objectId:
            guard rule.isConstant else { throw refuse("objectId") }
            let hex = reader.bytes(start..<(start + 12)).map { String(format: "%02x", $0) }.joined()
            guard let masked = try rule.transformer.mask(hex) else { return writeNull() }
            guard let bytes = hexBytes(masked), bytes.count == 12 else { throw unfit("objectId") }
            output.appendKey(type: type, key: key)
            output.bytes.append(contentsOf: bytes)

        default:
            throw TypeFailure(reason: "\(rule.transformer.name) cannot mask \(BSONType.name(type)) values; use keep or null")
        }
    }

    /// A string that is ASCII (nearly every email, phone and card number in a document), through
    /// a transformer that masks such values from their bytes into a buffer on the stack: no
    /// strings made. The output is the string path's (`ASCIIMaskingTests`, `DocumentMaskerTests`).
    /// False: the string path masks it.
    static func maskASCII(_ element: BSONElement, _ reader: BSONReader, _ rule: MaskRule, key: UnsafeRawBufferPointer,
                          into output: inout BSONWriter) throws -> Bool {
        let value = reader.bytes((element.valueStart + 4)..<(element.end - 1)).assumingMemoryBound(to: UInt8.self)
        guard !value.contains(where: { $0 >= 0x80 || $0 == 0 }) else { return false }
        let transformer = rule.transformer
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, transformer.maskedLength(ofASCII: value.count))) {
            buffer in
            guard let written = try transformer.maskASCII(value, into: buffer) else { return false }
            output.appendKey(type: BSONType.string, key: key)
            output.appendInt32(Int32(written + 1))
            output.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<written]))
            output.bytes.append(0)
            return true
        }
    }

    static func accepted(_ rule: MaskRule) -> String {
        var kinds = ["string"]
        if rule.acceptsNumbers { kinds.append("number") }
        if rule.acceptsDates { kinds.append("date") }
        if rule.acceptsUUIDs { kinds.append("UUID") }
        return kinds.joined(separator: " and ")
    }

    /// The text a double is masked as: integral values without a fraction (`5551234`), others in
    /// Swift's shortest round-trip form.
    static func doubleText(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func decimalText(_ reader: BSONReader, at start: Int) -> String {
        var value = bson_decimal128_t(low: UInt64(bitPattern: reader.int64(at: start)),
                                      high: UInt64(bitPattern: reader.int64(at: start + 8)))
        var buffer = [CChar](repeating: 0, count: 64)
        bson_decimal128_to_string(&value, &buffer)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func decimalBytes(_ text: String) -> [UInt8]? {
        var value = bson_decimal128_t()
        guard bson_decimal128_from_string(text, &value) else { return nil }
        var writer = BSONWriter()
        writer.appendInt64(Int64(bitPattern: value.low))
        writer.appendInt64(Int64(bitPattern: value.high))
        return writer.bytes
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }
}

/// BSON dates as `YYYY-MM-DDTHH:MM:SS.mmmZ` text and back (UTC, milliseconds).
enum ISODate {
    static func text(millis: Int64) -> String? {
        let (days, dayMillis) = floorDivide(millis, 86_400_000)
        let (year, month, day) = CivilCalendar.civil(days: Int(days))
        guard (1...9999).contains(year) else { return nil }
        let seconds = Int(dayMillis / 1000)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(Int(dayMillis % 1000), 3))Z"
    }

    /// Parses exactly the form `text(millis:)` writes.
    static func millis(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
              bytes[19] == 46, bytes[23] == 90 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= 48 && bytes[index] <= 57 else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), let milli = number(20..<23),
              (1...12).contains(month), day >= 1, day <= CivilCalendar.daysInMonth(year, month), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = Int64(CivilCalendar.days(year: year, month: month, day: day))
        return days * 86_400_000 + Int64(((hour * 60 + minute) * 60 + second) * 1000 + milli)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

}

/// UUID bytes as the usual lowercase text and back (with or without hyphens or braces).
enum UUIDText {
    static func text(_ bytes: [UInt8]) -> String {
        var text = ""
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text += "-" }
            text += String(format: "%02x", byte)
        }
        return text
    }

    static func bytes(_ text: String) -> [UInt8]? {
        var hex = text.filter { $0 != "-" }
        if hex.hasPrefix("{") && hex.hasSuffix("}") { hex = String(hex.dropFirst().dropLast()) }
        guard hex.utf8.count == 32, let bytes = ValueMasking.hexBytes(hex) else { return nil }
        return bytes
    }
}

/// The text form of any scalar value at a path, as the masker gives it to a transformer; for
/// the leak check and `preview`. Documents, arrays and types without a text form are rendered as
/// relaxed extended JSON.
enum ValueText {
    static func text(_ element: BSONElement, _ reader: BSONReader) -> String? {
        let start = element.valueStart
        switch element.type {
        case BSONType.string: return reader.stringValue(element)
        case BSONType.null: return nil
        case BSONType.int32: return String(reader.int32(at: start))
        case BSONType.int64: return String(reader.int64(at: start))
        case BSONType.double:
            let value = Double(bitPattern: UInt64(bitPattern: reader.int64(at: start)))
            return value.isFinite ? ValueMasking.doubleText(value) : String(value)
        case BSONType.decimal128: return ValueMasking.decimalText(reader, at: start)
        case BSONType.dateTime: return ISODate.text(millis: reader.int64(at: start)) ?? String(reader.int64(at: start))
        case BSONType.bool: return reader.byte(at: start) != 0 ? "true" : "false"
        case BSONType.objectId: return reader.bytes(start..<(start + 12)).map { String(format: "%02x", $0) }.joined()
        case BSONType.binary where reader.byte(at: start + 4) == 4 && reader.int32(at: start) == 16:
            return UUIDText.text(Array(reader.bytes((start + 5)..<(start + 21))))
        default:
            var writer = BSONWriter()
            let begin = writer.beginDocument()
            writer.append(reader.bytes(element.start..<element.end))
            writer.endDocument(begin)
            guard let json = try? BSONDocument(bytes: writer.bytes).json else { return nil }
            var text = Substring(json)
            if let colon = text.firstIndex(of: ":") { text = text[text.index(after: colon)...] }
            if text.hasSuffix("}") { text = text.dropLast() }
            return text.trimmingCharacters(in: .whitespaces)
        }
    }
}
