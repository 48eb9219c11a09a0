import Snapmask

/// PostgreSQL's array text form, `{a,"b c",NULL,"x\"y"}`, for per-element masking of
/// one-dimensional array columns.
struct PostgresArrayCodec: ArrayLiteralCodec {
    func elements(of literal: String) throws(MaskingError) -> [String?] {
        let bytes = Array(literal.utf8)
        guard bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else {
            throw MaskingError("array", "value is not an array literal {…} (arrays with bounds are not supported)")
        }
        var elements: [String?] = []
        var index = 1
        let end = bytes.count - 1
        if index == end { return [] }
        while index <= end {
            var element: [UInt8] = []
            var quoted = false
            if bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < end, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    element.append(bytes[index])
                    index += 1
                }
                index += 1
            } else {
                while index < end, bytes[index] != UInt8(ascii: ",") {
                    if bytes[index] == UInt8(ascii: "{") {
                        throw MaskingError("array", "multidimensional arrays cannot be masked per element; use keep, null or constant")
                    }
                    element.append(bytes[index])
                    index += 1
                }
            }
            let text = String(decoding: element, as: UTF8.self)
            elements.append(!quoted && text.uppercased() == "NULL" ? nil : text)
            index += 1
        }
        return elements
    }

    func literal(of elements: [String?]) -> String {
        "{" + elements.map { element in
            guard let element else { return "NULL" }
            let escaped = element.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"" + escaped + "\""
        }.joined(separator: ",") + "}"
    }
}
