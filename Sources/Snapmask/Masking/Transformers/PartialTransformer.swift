/// `partial`: keeps the first and last few characters and masks the rest (`j*******@acme.io`-style
/// displays). A value too short to hide anything is masked whole, never shown.
struct PartialTransformer: Transformer {
    let keepFirst: Int
    let keepLast: Int
    let maskCharacter: Unicode.Scalar

    func mask(_ value: String) -> String? {
        let scalars = Array(value.unicodeScalars)
        var output = String.UnicodeScalarView()
        if scalars.count <= keepFirst + keepLast {
            output.append(contentsOf: repeatElement(maskCharacter, count: scalars.count))
        } else {
            output.append(contentsOf: scalars[..<keepFirst])
            output.append(contentsOf: repeatElement(maskCharacter, count: scalars.count - keepFirst - keepLast))
            output.append(contentsOf: scalars[(scalars.count - keepLast)...])
        }
        return String(output)
    }

    static let descriptor = TransformerDescriptor(
        name: "partial", summary: "keeps the first/last characters and replaces the middle with a mask character",
        options: [
            OptionInfo("keep_first", .integer, default: "0", "leading characters to keep"),
            OptionInfo("keep_last", .integer, default: "4", "trailing characters to keep"),
            OptionInfo("mask_char", .text, default: "*", "the single character that replaces the others"),
        ],
        example: ("4111111111111111", [:]), acceptsMaxLength: false
    ) { options, _ throws in
        let mask = try options.string("mask_char").unicodeScalars
        guard mask.count == 1, let character = mask.first else {
            throw ConfigError("option 'mask_char' of 'partial' must be one character", at: options.spec.location(of: "mask_char"))
        }
        return .init(PartialTransformer(keepFirst: try options.int("keep_first", in: 0...1000),
                                        keepLast: try options.int("keep_last", in: 0...1000), maskCharacter: character),
                     unique: false)
    }
}
