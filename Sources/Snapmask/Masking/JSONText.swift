/// JSON string escaping, shared by the JSON masker and the report writers.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var output = [UInt8]()
        output.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func appendQuoted(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendQuoted($0, to: &output) }
    }

    static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Most values need no escape: copied in one piece, up to the first byte that does.
        var plainFrom = 0
        for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainFrom..<index]))
            appendEscape(byte, to: &output)
            plainFrom = index + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainFrom...]))
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [92, 34])
        case UInt8(ascii: "\\"): output.append(contentsOf: [92, 92])
        case 0x0a: output.append(contentsOf: [92, UInt8(ascii: "n")])
        case 0x0d: output.append(contentsOf: [92, UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [92, UInt8(ascii: "t")])
        case 0x08: output.append(contentsOf: [92, UInt8(ascii: "b")])
        case 0x0c: output.append(contentsOf: [92, UInt8(ascii: "f")])
        default:
            output.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xf)]])
        }
    }
}
