import SnapmaskKeyedHash

/// `uuid`: a version-4-shaped UUID from 122 bits of the HMAC, in the input's style (case,
/// hyphens, braces).
struct UUIDTransformer: Transformer {
    let hasher: KeyedHash
    private static let lower = Array("0123456789abcdef".utf8)
    private static let upper = Array("0123456789ABCDEF".utf8)

    func mask(_ value: String) -> String? {
        var bytes = Array(hasher.digest(value).bytes.prefix(16))
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        let uppercase = value.utf8.contains { $0 >= 65 && $0 <= 70 } && !value.utf8.contains { $0 >= 97 && $0 <= 102 }
        let hyphens = value.utf8.count != 32
        let braces = value.hasPrefix("{")
        let digits = uppercase ? Self.upper : Self.lower
        var output: [UInt8] = []
        output.reserveCapacity(38)
        if braces { output.append(UInt8(ascii: "{")) }
        for (index, byte) in bytes.enumerated() {
            if hyphens && (index == 4 || index == 6 || index == 8 || index == 10) { output.append(UInt8(ascii: "-")) }
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0xf)])
        }
        if braces { output.append(UInt8(ascii: "}")) }
        return String(decoding: output, as: UTF8.self)
    }

    static let descriptor = TransformerDescriptor(
        name: "uuid", summary: "a valid UUID (version 4 layout) derived from the value",
        accepts: [.text, .uuid], uniqueness: .always("122 bits of the HMAC"), searchableByValue: true,
        example: ("6f1c2a8e-1b7d-4c55-9d1e-3f0a2b4c6d8e", [:]), acceptsMaxLength: false
    ) { _, key throws in .init(UUIDTransformer(hasher: key.hasher("uuid")), unique: true) }
}
