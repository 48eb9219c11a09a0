import ArgumentParser
import Snapmask

struct TransformersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transformers",
        abstract: "Lists every transformer: what it does, its options, whether it can be unique, an example.",
        discussion: """
            Examples are computed with a fixed demonstration key, not yours; run `snapmask try` to see your key's \
            output. "unique" says whether the transformer can promise distinct outputs for distinct inputs, which \
            `unique: true` in a rule requires (columns under a primary key or unique index).
            """)

    @Argument(help: "Show only these transformers.")
    var names: [String] = []

    func run() throws {
        let key = try MaskingKey("snapmask-demonstration-key")
        let selected = try names.isEmpty ? TransformerCatalog.all : names.map { name in
            guard let descriptor = TransformerCatalog.descriptor(named: name) else {
                throw ConfigError("unknown transformer '\(name)'; known: \(TransformerCatalog.names.joined(separator: ", "))")
            }
            return descriptor
        }
        for (index, descriptor) in selected.enumerated() {
            if index > 0 { print("") }
            print("\(descriptor.name) — \(descriptor.summary)")
            print("  unique: \(descriptor.uniqueness.text)")
            if descriptor.allOptions.isEmpty {
                print("  options: none")
            } else {
                print("  options:")
                for option in descriptor.allOptions {
                    let value = option.required ? "required" : option.defaultValue.map { "default \($0)" } ?? "optional"
                    print("    \(option.name) (\(option.kind.rawValue), \(value)): \(option.summary)")
                }
            }
            let spec = try TransformSpec.fromCommandLine(
                name: descriptor.name, options: descriptor.example.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            let example = try TransformerCatalog.compile(spec, key: key)
            let options = descriptor.example.options.isEmpty ? ""
                : " with " + descriptor.example.options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let output = try example.mask(descriptor.example.input) ?? "NULL"
            print("  example\(options): \(descriptor.example.input) → \(output)")
        }
    }
}
