import Snapmask

/// Values of byte columns (BLOB, BINARY, BIT, spatial) as the leak check samples and compares
/// them: read as HEX() and held one character per byte (U+0000–U+00FF). Decoded as UTF-8, bytes
/// that are not UTF-8 would all become U+FFFD, and the server's CONVERT turns them into `?`: an
/// original put back into such a column would not be recognised.
enum MySQLBytes {
    static func isBytes(_ column: String, plan: TablePlan) -> Bool {
        plan.columns.first { $0.name == column }.map { MySQLValueTransport.of($0, masked: false) == .hex } ?? false
    }

    /// What to select for `column`: its HEX() for a byte column.
    static func expression(_ column: String, plan: TablePlan) -> String {
        isBytes(column, plan: plan) ? "HEX(\(MySQLIdentifier.quoted(column)))" : MySQLIdentifier.quoted(column)
    }

    /// A BIT column: HEX() shows its number without leading zeros, so it is compared as a number.
    static func isBit(_ column: String, plan: TablePlan) -> Bool {
        plan.columns.first { $0.name == column }?.typeName.lowercased().hasPrefix("bit") ?? false
    }

    /// The number a BIT column's value (one character per byte) stands for.
    static func number(_ text: String) -> UInt64? {
        guard text.unicodeScalars.count <= 8, text.unicodeScalars.allSatisfy({ $0.value <= 0xFF }) else { return nil }
        return text.unicodeScalars.reduce(UInt64(0)) { $0 << 8 | UInt64($1.value) }
    }

    /// A selected value as text: a byte column's hex as one character per byte.
    static func value(_ selected: String?, _ column: String, plan: TablePlan) -> String? {
        guard let selected, isBytes(column, plan: plan) else { return selected }
        var text = String.UnicodeScalarView()
        var digits = (selected.utf8.count % 2 == 1 ? "0" + selected : selected).utf8.makeIterator()
        while let high = digits.next(), let low = digits.next() {
            guard let byte = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return selected }
            text.append(Unicode.Scalar(byte))
        }
        return String(text)
    }

    /// The hex of such a text, to compare with HEX(column); nil for text that is not one
    /// character per byte.
    static func hex(_ text: String) -> String? {
        var hex = ""
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xFF else { return nil }
            hex += String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
        }
        return hex
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
