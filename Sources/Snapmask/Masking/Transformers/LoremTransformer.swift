import SnapmaskKeyedHash

/// `lorem`: free text replaced by lorem ipsum of exactly the same shape. Letters become letters
/// (capitals stay capitals), digits become digits, spaces, punctuation and line breaks stay, so
/// the length and layout of notes and messages survive while no word does.
struct LoremTransformer: Transformer {
    let hasher: KeyedHash

    func mask(_ value: String) -> String? {
        var choices = hasher.digest(value).stream()
        var output = String.UnicodeScalarView()
        var word: [UInt8] = []
        var wordIndex = 0
        for scalar in value.unicodeScalars {
            if DigitTransformers.DigitMasker.digitValue(scalar) != nil {
                output.append(Unicode.Scalar(UInt8(48 + choices.next(below: 10))))
                wordIndex = word.count
            } else if scalar.properties.isAlphabetic {
                if wordIndex >= word.count {
                    word = Array(choices.pick(Dictionaries.loremWords).utf8)
                    wordIndex = 0
                }
                let letter = word[wordIndex]
                wordIndex += 1
                output.append(Unicode.Scalar(scalar.properties.isUppercase ? letter - 32 : letter))
            } else {
                output.append(scalar)
                wordIndex = word.count
            }
        }
        return String(output)
    }

    static let descriptor = TransformerDescriptor(
        name: "lorem", summary: "lorem ipsum text of the same length and layout (letters, digits, punctuation kept in place)",
        searchableByValue: true, example: ("Call me at 5pm, Anna!", [:]), acceptsMaxLength: false
    ) { _, key throws in .init(LoremTransformer(hasher: key.hasher("lorem")), unique: false) }
}
