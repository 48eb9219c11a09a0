import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// Whatever goes wrong before the swap, staging stays exactly as it was, no shadow collection is
/// left and the lock is released.
@Suite struct DocumentDBFailureTests {
    static let rules = """
        collections:
          people:
            fields: { _id: keep, email: { transform: email, unique: true }, note: lorem }
        """

    static func people(_ count: Int, from: Int = 1) -> [String] {
        (from..<(from + count)).map { #"{"_id": \#($0), "email": "person\#($0)@corp.example.org", "note": "row \#($0)"}"# }
    }

    @Test func sourceKilledMidStreamLeavesStagingUntouched() throws {
        // A second wire server of our own is the source, so it can be killed while it is read.
        let server = try WireServer.start()
        defer { server.stop() }
        let scratch = try DocumentDBScratch("dockill")
        defer { scratch.drop() }
        let source = try DocumentDBScratch("dockill", server: server.url)
        try source.insert("src", "people", Self.people(300))
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules, source: try source.url("src"))
        defer { job.remove() }
        // Small batches: the reader is surely mid-collection when the first batch has been written.
        let killer = PhaseHook(atFirstProgress: { server.kill() })
        let outcome = OutcomeBox<RestoreReport>()
        let thread = Thread {
            outcome.set(Result {
                try DocumentDBJobs.restore(job, tuning: DocumentDBTuning(cursorBatchSize: 10, batchBytes: 1), jobs: 1,
                                           observer: killer)
            })
        }
        thread.start()
        guard case let .failure(error) = outcome.wait() else {
            Issue.record("the restore succeeded although its source was killed")
            return
        }
        #expect(killer.fired)
        let failure = try #require(error as? RestoreFailed, "\(error)")
        #expect(failure.step == "copying tables")
        #expect("\(failure)".contains("reading people after"), "\(failure)")
        try scratch.expectStagingUntouched()
    }

    @Test func aPathTheSampleMissedStopsTheRunWhileStreaming() throws {
        let scratch = try DocumentDBScratch("docrare")
        defer { scratch.drop() }
        var documents = Self.people(120)
        documents[4] = #"{"_id": 5, "email": "person5@corp.example.org", "note": "row 5", "legacy": {"ssn": "078-05-1120"}}"#
        try scratch.insert("src", "people", documents)
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
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

    @Test func aSecondConcurrentRunIsRefusedNamingTheHolderAndAStaleLockIsTakenOver() throws {
        let scratch = try DocumentDBScratch("doclock")
        defer { scratch.drop() }
        try scratch.insert("src", "people", Self.people(20))
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let holder = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        try holder.lock()
        #expect {
            try DocumentDBJobs.restore(job)
        } throws: { error in
            let text = "\(error)"
            return text.contains("another snapmask run is restoring \(scratch.database("stage"))")
                && text.contains("snapmask restore \(scratch.database("stage")) from \(ProcessInfo.processInfo.hostName) pid")
                && text.contains("since") && text.contains("snapmask_locks.deleteOne")
        }
        holder.unlock()
        #expect(try scratch.documents("stage", "marker").count == 1)

        // A lock left by a run that died (not renewed for longer than the expiry) is taken over.
        try scratch.insert("stage", "snapmask_locks", ["""
            {"_id": "\(scratch.database("stage"))", "holder": "snapmask restore from a pod that is gone", "run": "dead",
             "since": {"$date": "2020-01-01T00:00:00Z"}, "renewed": {"$date": "2020-01-01T00:10:00Z"}}
            """])
        let report = try DocumentDBJobs.restore(job)
        #expect(report.outcome == "swapped")
        #expect(try scratch.documents("stage", "snapmask_locks").isEmpty)
    }

    @Test func anOverrideThatBringsBackAnOriginalIsCaughtByTheLeakCheck() throws {
        let scratch = try DocumentDBScratch("docleak")
        defer { scratch.drop() }
        try scratch.insert("src", "people", Self.people(30))
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules, overrides: """
            - collection: people
              filter: { _id: 3 }
              set: { email: person3@corp.example.org }
            """)
        defer { job.remove() }
        #expect {
            try DocumentDBJobs.restore(job)
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            return failure.step == "checking for leaked values" && failure.underlying.contains("people.email")
        }
        try scratch.expectStagingUntouched()
    }

    @Test func aFailingOverrideLeavesStagingUntouched() throws {
        let scratch = try DocumentDBScratch("docoverride")
        defer { scratch.drop() }
        try scratch.insert("src", "people", Self.people(10))
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules, overrides: """
            - collection: people
              set: { note: fine }
            - collection: people
              filter: { note: { $noSuchOperator: 1 } }
              set: { note: never }
            """)
        defer { job.remove() }
        #expect {
            try DocumentDBJobs.restore(job)
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            return failure.step == "applying overrides" && failure.underlying.contains("overrides.yaml:3:3")
        }
        try scratch.expectStagingUntouched()
    }

    @Test func aTargetThatIsTheSourceIsRefused() throws {
        let scratch = try DocumentDBScratch("docsame")
        defer { scratch.drop() }
        try scratch.insert("src", "people", Self.people(5))
        let source = try scratch.url("src")
        func job(target: String) throws -> TestJob {
            try TestJob(databases: """
                messages:
                  engine: documentdb
                  source: "\(source.raw)"
                  target: "\(target)"
                  rules: rules.yaml
                """, files: ["rules.yaml": Self.rules])
        }
        // Another spelling of the same address is refused when the job file is read...
        let spelled = try job(target: source.raw.replacingOccurrences(of: "127.0.0.1", with: "localhost"))
        defer { spelled.remove() }
        #expect(throws: ConfigErrors.self) { try spelled.load() }
        // ...and an address the file cannot tell apart is refused by asking the server who it is.
        let aliased = try job(target: source.raw.replacingOccurrences(of: "127.0.0.1", with: "127.1"))
        defer { aliased.remove() }
        #expect {
            try DocumentDBJobs.restore(aliased)
        } throws: { error in
            "\(error)".contains("is the source database under another name")
        }
        #expect(try scratch.documents("src", "people").count == 5)
        #expect(try scratch.collections("src") == ["people"])
    }

    @Test func anUnreachableSourceIsAClearErrorWithoutThePassword() throws {
        let job = try TestJob(databases: """
            messages:
              engine: documentdb
              source: "mongodb://reader:Pr0dSecret@127.0.0.1:1/messages?serverSelectionTimeoutMS=1000"
              target: "mongodb://writer:St4geSecret@127.0.0.1:2/messages?serverSelectionTimeoutMS=1000"
              rules: rules.yaml
            """, files: ["rules.yaml": Self.rules])
        defer { job.remove() }
        do {
            _ = try DocumentDBJobs.restore(job)
            Issue.record("restore from an unreachable source succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("opening the source") && text.contains("127.0.0.1"), "\(text)")
            #expect(!text.contains("Pr0dSecret") && !text.contains("St4geSecret"))
        }
    }
}
