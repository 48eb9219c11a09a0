/// Field names are data too (a map keyed by user names, emails or phone numbers), so messages
/// show a field name only when it reads like a name a schema gives; anything else appears as a
/// short digest, which still tells two names apart without revealing them.
public enum FieldName {
    public static func display(_ name: String) -> String {
        looksLikeSchemaName(name) ? name : "<field \(Fingerprint.hex(name))>"
    }

    /// Letters, digits, `_`, `-` and `$`, starting with a letter or `_`, at most 64 characters,
    /// and not mostly digits.
    static func looksLikeSchemaName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 64, first == UInt8(ascii: "_") || isLetter(first) else {
            return false
        }
        var digits = 0
        for byte in bytes {
            if byte >= 48 && byte <= 57 {
                digits += 1
            } else if !(isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "$")) {
                return false
            }
        }
        return digits * 2 <= bytes.count
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }
}
