/// `keep`, `null` and `constant`: the transformers that need no key.
enum BasicTransformers {
    struct Keep: Transformer {
        func mask(_ value: String) -> String? { value }
    }

    struct Null: Transformer {
        func mask(_ value: String) -> String? { nil }
    }

    struct Constant: Transformer {
        let value: String?
        let replaceNull: Bool

        func mask(_ input: String) -> String? { value }
        func maskNull() -> String? { replaceNull ? value : nil }
    }

    static let keep = TransformerDescriptor(
        name: "keep", summary: "copies the value unchanged (for columns that hold no personal data)",
        role: .keep, uniqueness: .always("the value itself"), example: ("order-1042", [:]),
        acceptsMaxLength: false
    ) { _, _ throws in .init(Keep(), unique: true) }

    static let null = TransformerDescriptor(
        name: "null", summary: "writes NULL whatever the value (the column must allow NULL)",
        role: .null, example: ("123-45-6789", [:]), acceptsMaxLength: false, masksEmptyValues: true
    ) { _, _ throws in .init(Null(), unique: false, uniqueProblem: "every value becomes NULL") }

    static let constant = TransformerDescriptor(
        name: "constant", summary: "writes the same value for every row",
        options: [
            OptionInfo("value", .text, required: true, "the value to write (null writes NULL)"),
            OptionInfo("replace_null", .boolean, default: "false", "also replace NULLs with the value"),
        ],
        role: .constant,
        example: ("s3cr3t-hash", ["value": "$2b$12$staging"]), acceptsMaxLength: false, masksEmptyValues: true
    ) { options, _ throws in
        .init(Constant(value: try options.optionalString("value"), replaceNull: try options.bool("replace_null")),
              unique: false, uniqueProblem: "every value becomes the same constant")
    }
}
