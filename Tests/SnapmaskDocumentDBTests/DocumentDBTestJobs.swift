import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// Job files and restores for the DocumentDB engine tests.
enum DocumentDBJobs {
    static let repository = DocumentDBScratch.fixtureDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func shipped(_ relative: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(relative), encoding: .utf8)
    }

    static func job(_ scratch: DocumentDBScratch, rules: String, overrides: String? = nil,
                    source: ConnectionString? = nil) throws -> TestJob {
        let sourceURL = try source ?? scratch.url("src")
        var database = """
            messages:
              engine: documentdb
              source: "\(sourceURL.raw)"
              target: "\(try scratch.url("stage").raw)"
              rules: rules.yaml
            """
        var files = ["rules.yaml": rules]
        if let overrides {
            database += "\n  overrides: overrides.yaml"
            files["overrides.yaml"] = overrides
        }
        return try TestJob(databases: database, files: files)
    }

    static func engine(_ job: TestJob, sampling: SchemaSampling = SchemaSampling(),
                       tuning: DocumentDBTuning = DocumentDBTuning()) throws -> (DocumentDBEngine, DatabaseJob, CompiledRules) {
        let (database, rules) = try job.database("messages")
        return (DocumentDBEngine(job: database, sampling: sampling, tuning: tuning), database, rules)
    }

    static func restore(_ job: TestJob, sampling: SchemaSampling = SchemaSampling(), tuning: DocumentDBTuning = DocumentDBTuning(),
                        jobs: Int = 2, observer: any RestoreObserver = RecordingObserver()) throws -> RestoreReport {
        let (engine, database, rules) = try engine(job, sampling: sampling, tuning: tuning)
        return try RestoreRunner(database: database, engine: engine, rules: rules, options: RestoreOptions(jobs: jobs),
                                 observer: observer).run()
    }

    /// Staging as a test leaves it before a restore: one collection with one document.
    static func markStaging(_ scratch: DocumentDBScratch) throws {
        try scratch.insert("stage", "marker", [#"{"_id": 1, "v": "previous staging"}"#])
        try scratch.insert("stage", "users", [#"{"_id": "old", "email": "old@staging.test"}"#])
    }

    static func expectStagingUntouched(_ scratch: DocumentDBScratch, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try scratch.documents("stage", "marker") == [#"{ "_id" : { "$numberInt" : "1" }, "v" : "previous staging" }"#],
                sourceLocation: sourceLocation)
        #expect(try scratch.documents("stage", "users") == [#"{ "_id" : "old", "email" : "old@staging.test" }"#],
                sourceLocation: sourceLocation)
        let names = try scratch.collections("stage")
        #expect(!names.contains { $0.hasPrefix("snapmask_shadow.") }, "no shadow collection left: \(names)",
                sourceLocation: sourceLocation)
        #expect(try scratch.documents("stage", "snapmask_locks").isEmpty, "the lock was released", sourceLocation: sourceLocation)
    }
}
