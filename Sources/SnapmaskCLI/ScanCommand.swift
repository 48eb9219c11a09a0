import ArgumentParser
import Foundation
import Snapmask

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Suggests rules: classifies every column and path of a source from a random sample of its values.",
        discussion: """
            Reads the source's schema and a random sample of each column's values (JSON keys and document paths \
            included), classifies each (email, phone, person name, address, city, postal code, national id, card \
            number, IBAN, IP address, date of birth, free text holding any of these, secrets, or no personal data) \
            and prints a rule file. Every line says why in a comment (the kind and how many sampled values showed \
            it, never a value). Suggestions that need a decision carry review:, which check refuses until removed.

            A whole rule file, then only what the rules lack:
              snapmask scan -c snapmask.yaml -d app --write rules/postgres/app.yaml
              snapmask scan -c snapmask.yaml -d app --patch

            Needs no masking key. Without --patch the database's rule file is not read: it may not exist yet.
            """)

    @OptionGroup var target: DatabaseOptions

    @Option(help: ArgumentHelp("Write the whole rule file here (refused if it exists, unless --force).", valueName: "file"))
    var write: String?

    @Flag(help: "Print only what the database's current rule file lacks.")
    var patch = false

    @Flag(help: "Overwrite the file given with --write.")
    var force = false

    @Option(help: "Values sampled per column or path.")
    var sample: Int = Scanner.defaultSample

    func validate() throws {
        if write != nil && patch { throw ValidationError("--write and --patch exclude each other") }
        guard sample >= 1 else { throw ValidationError("--sample must be at least 1") }
    }

    func run() throws {
        let job = try JobFile.load(path: target.config, environment: ProcessInfo.processInfo.environment, skippingRules: !patch)
        let selected = try target.selected(in: job)
        let engine = try Engines.engine(for: selected, sampling: target.sampling)
        let (schema, values) = try engine.scanSample(limit: sample)
        let tables = Scanner.scan(schema, kind: selected.rules.kind) { table, column in values[table.name]?[column.name] ?? [] }
        let text = RuleFileWriter.write(tables, kind: selected.rules.kind, database: selected.name,
                                        existing: patch ? selected.rules : nil)
        guard let write else {
            print(text, terminator: "")
            return
        }
        if FileManager.default.fileExists(atPath: write) && !force {
            printError("error: \(write) exists; use --patch to see what it lacks, or --force to overwrite it")
            throw CommandFailed(status: .usage)
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: write))
        let columns = tables.reduce(0) { $0 + $1.columns.count }
        let personal = tables.reduce(0) { $0 + $1.columns.filter(\.classification.isPersonal).count }
        let review = tables.reduce(0) { count, table in
            count + table.columns.reduce(0) { $0 + ([$1] + ($1.paths ?? [])).filter { $0.rule.contains("review:") }.count }
        }
        print("wrote \(write): \(tables.count) \(selected.rules.kind.rawValue), \(columns) rules, \(personal) masked, "
                  + "\(review) to review (check refuses them until review: is removed)")
    }
}
