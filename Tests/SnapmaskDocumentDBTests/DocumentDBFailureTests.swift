import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// Whatever goes wrong before the swap, staging stays exactly as it was, no shadow collection is
/// left and the lock is released: what only DocumentDB goes through (a field path the schema
/// sample missed, a lock left by a dead run). The scenarios every engine shares are
/// EngineFailureTests.
@Suite struct DocumentDBFailureTests {
    @Test func aPathTheSampleMissedStopsTheRunWhileStreaming() throws {
        let scratch = try DocumentDBScratch("docrare")
        defer { scratch.drop() }
        var documents = DocumentDBFailureFixture.people(120)
        documents[4] = #"{"_id": 5, "email": "person5@corp.example.org", "note": "row 5", "legacy": {"ssn": "078-05-1120"}}"#
        try scratch.insert("src", "people", documents)
        try scratch.markStaging()
        let job = try scratch.job(rules: DocumentDBFailureFixture.rules)
        defer { job.remove() }
        // The sample (the newest document only) does not show `legacy.ssn`: the check passes...
        let (engine, _, compiled) = try DocumentDBJobs.engine(job, sampling: SchemaSampling(documents: 1))
        #expect(SchemaCheck.problems(rules: compiled, schema: try engine.inspectSource()).isEmpty)
        // ...and the masker refuses the document while streaming.
        do {
            _ = try DocumentDBJobs.restore(job, sampling: SchemaSampling(documents: 1))
            Issue.record("a document with an unruled path was copied")
        } catch let failure as RestoreFailed {
            #expect(failure.step == "copying tables")
            #expect(failure.underlying.contains("people, document 5 of the copy (_id digest ")
                        && failure.underlying.contains("path legacy"), "\(failure.underlying)")
            #expect(!failure.underlying.contains("_id 5"), "the _id itself is never printed")
            #expect(!failure.underlying.contains("078-05-1120"))
        }
        try scratch.expectStagingUntouched()
    }

    /// A lock left by a run that died (not renewed for longer than the expiry) is taken over.
    @Test func aStaleLockIsTakenOver() throws {
        let scratch = try DocumentDBScratch("docstale")
        defer { scratch.drop() }
        try scratch.insert("src", "people", DocumentDBFailureFixture.people(20))
        try scratch.markStaging()
        let job = try scratch.job(rules: DocumentDBFailureFixture.rules)
        defer { job.remove() }
        try scratch.insert("stage", "snapmask_locks", ["""
            {"_id": "\(scratch.database("stage"))", "holder": "snapmask restore from a pod that is gone", "run": "dead",
             "since": {"$date": "2020-01-01T00:00:00Z"}, "renewed": {"$date": "2020-01-01T00:10:00Z"}}
            """])
        let report = try job.restore()
        #expect(report.outcome == "swapped")
        #expect(try scratch.documents("stage", "snapmask_locks").isEmpty)
    }
}
