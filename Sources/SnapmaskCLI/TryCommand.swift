import ArgumentParser
import Foundation
import Snapmask

struct TryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "try",
        abstract: "Masks values with one transformer and your masking key, to see what a rule will do.",
        discussion: """
            Uses SNAPMASK_MASKING_KEY, so the output is exactly what a restore with that key writes. \
            Values come from the arguments, or one per line from standard input when there are none. \
            \\N stands for NULL.

              snapmask try email jane@corp.io bob@corp.io
              snapmask try phone --option keep_last=2 "+1 (415) 555-0132"
              snapmask try json --option paths=contact.email=email \\
                '{"contact":{"email":"a@b.io"}}'
              snapmask try coordinate -- 51.507351 -0.127758   (values after -- may start with -)
            """)

    @Argument(help: "The transformer (see `snapmask transformers`).")
    var transformer: String

    @Option(name: .customLong("option"), help: ArgumentHelp("A transformer option as key=value; repeat for more.",
                                                             valueName: "key=value"))
    var options: [String] = []

    @Flag(help: "Fail if the transformer cannot promise distinct outputs with these options (as unique: true does).")
    var unique = false

    @Flag(help: "Print only the masked values, one per line (the default when output is not a terminal).")
    var plain = false

    @Argument(help: "Values to mask.")
    var values: [String] = []

    func run() throws {
        guard let secret = ProcessInfo.processInfo.environment["SNAPMASK_MASKING_KEY"], !secret.isEmpty else {
            throw ConfigError("SNAPMASK_MASKING_KEY is not set; export the masking key your job file uses "
                                  + "(for a quick look any 16+ characters do: export SNAPMASK_MASKING_KEY=$(openssl rand -base64 32))")
        }
        let key = try MaskingKey(secret)
        let spec = try TransformSpec.fromCommandLine(name: transformer, options: options, unique: unique)
        let compiled = try TransformerCatalog.compile(spec, key: key)
        let sideBySide = !plain && Terminal.isInteractiveOutput
        var failed = false
        func show(_ value: String) {
            let input: String? = value == "\\N" ? nil : value
            do {
                let output = try compiled.mask(input)
                if sideBySide {
                    print("\(input ?? "NULL")  →  \(output ?? "NULL")")
                } else {
                    print(output ?? "\\N")
                }
            } catch {
                printError("error: \(error)")
                failed = true
            }
        }
        if values.isEmpty {
            while let line = readLine(strippingNewline: true) { show(line) }
        } else {
            values.forEach(show)
        }
        if failed { throw CommandFailed(status: .failed) }
    }
}
