import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// Job files and restores for the DocumentDB engine tests, with the driver's tuning.
enum DocumentDBJobs {
    static func shipped(_ relative: String) throws -> String {
        try String(contentsOf: Repository.file(relative), encoding: .utf8)
    }

    static func job(_ scratch: DocumentDBScratch, rules: String, overrides: String? = nil,
                    source: ConnectionString? = nil) throws -> TestJob {
        try scratch.job(rules: rules, overrides: overrides, source: source)
    }

    static func engine(_ job: TestJob, sampling: SchemaSampling = SchemaSampling(),
                       tuning: DocumentDBTuning = DocumentDBTuning()) throws -> (DocumentDBEngine, DatabaseJob, CompiledRules) {
        let (database, rules) = try job.database("messages")
        return (DocumentDBEngine(job: database, sampling: sampling, tuning: tuning), database, rules)
    }

    static func restore(_ job: TestJob, sampling: SchemaSampling = SchemaSampling(), tuning: DocumentDBTuning = DocumentDBTuning(),
                        jobs: Int = 2, observer: any RestoreObserver = RecordingObserver()) throws -> RestoreReport {
        try job.restore("messages", jobs: jobs, observer: observer) { database in
            DocumentDBEngine(job: database, sampling: sampling, tuning: tuning)
        }
    }
}
