import ArgumentParser
import Foundation
import Snapmask

/// `--config FILE` and `--database NAME`, shared by the commands that work on one database.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The job file (YAML).")
    var config: String

    @Option(name: .shortAndLong, help: "The database of the job file to work on (may be left out when it has only one).")
    var database: String?

    @Option(help: ArgumentHelp("DocumentDB: documents sampled per collection to find its field paths (0 reads all).",
                               valueName: "n"))
    var sampleDocuments: Int = SchemaSampling.defaultDocuments

    var sampling: SchemaSampling { SchemaSampling(documents: sampleDocuments) }

    /// `masking`: whether the command masks rows (and so needs the masking key). A restore from a
    /// sanitized snapshot does not: its rows were masked where the snapshot was made.
    func load(masking: Bool = true) throws -> (job: JobFile, database: DatabaseJob, rules: CompiledRules) {
        let job = try JobFile.load(path: config, environment: ProcessInfo.processInfo.environment)
        let selected = try self.selected(in: job)
        let rules = masking ? try CompiledRules.compile(selected.rules, key: job.maskingKey)
                            : CompiledRules.forMaskedSnapshot(selected.rules)
        return (job, selected, rules)
    }

    /// The database `--database` names, or the job file's only one.
    func selected(in job: JobFile) throws -> DatabaseJob {
        if let database { return try job.database(named: database) }
        guard job.databases.count == 1 else {
            throw ValidationError("--database is needed: \(config) has \(job.databases.map(\.name).joined(separator: ", "))")
        }
        return job.databases[0]
    }
}

/// Help shared by the commands that copy tables.
enum JobOptions {
    static let splitFromRowsHelp = ArgumentHelp(
        "Read and load tables of at least this many (estimated) rows in --jobs slices at once (PostgreSQL 14+, MySQL "
            + "tables with a one-column integer key where the loads can run side by side, DocumentDB collections with "
            + "ObjectId _ids), for a table that dominates the data when the databases have cores to spare; 0 (the "
            + "default) never splits.",
        valueName: "rows")
}
