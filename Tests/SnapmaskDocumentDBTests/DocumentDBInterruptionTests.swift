import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// A restore killed (SIGKILL) or stopped (SIGTERM) at every step; locks left by killed runs;
/// a swap cut off half-way. Staging always answers, each collection holds its previous or its
/// new data whole, the run (or the next one) says which, and the next run never waits for a
/// dead run's lock.
@Suite struct DocumentDBInterruptionTests {
    static let rules = """
        collections:
          people:
            fields: { _id: keep, email: { transform: email, unique: true }, generation: keep }
          notes:
            fields: { _id: keep, person: keep, body: lorem }
        """

    static let overrides = """
        - collection: people
          filter: { _id: 1 }
          set: { email: first@staging.test }
        """

    static let oldPerson = #"{ "_id" : { "$numberInt" : "1" }, "email" : "old@staging.test", "generation" : "old" }"#

    /// The source: 40 people (swapped first: the larger collection) and 20 notes, indexed.
    static func seed(_ scratch: DocumentDBScratch) throws {
        try scratch.insert("src", "people", (1...40).map {
            #"{"_id": \#($0), "email": "person\#($0)@corp.example.org", "generation": "new"}"#
        })
        try scratch.insert("src", "notes", (1...20).map { #"{"_id": \#($0), "person": \#($0), "body": "note \#($0)"}"# })
        try scratch.command("src", #"{"createIndexes": "notes", "indexes": [{"key": {"person": 1}, "name": "by_person"}]}"#)
        // Staging before the run: marker and users (which the source lacks), and one old person.
        try scratch.markStaging()
        try scratch.insert("stage", "people", [#"{"_id": 1, "email": "old@staging.test", "generation": "old"}"#])
    }

    enum Generation: Equatable { case old, new, partly }

    /// Which data staging holds, collection by collection; each must be whole (all old or all new).
    static func generation(_ scratch: DocumentDBScratch, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Generation? {
        let names = try scratch.collections("stage")
        let people = try scratch.documents("stage", "people")
        var states: [String: Generation?] = [:]
        states["people"] = people == [oldPerson] ? .old
            : people.count == 40 && people.allSatisfy({ $0.contains(#""generation" : "new""#) }) ? .new : nil
        let notes = names.contains("notes") ? try scratch.documents("stage", "notes").count : 0
        states["notes"] = notes == 0 ? .old : notes == 20 ? .new : nil
        let hasOld = names.contains("marker") && names.contains("users")
        states["marker, users"] = hasOld ? .old : (!names.contains("marker") && !names.contains("users")) ? .new : nil
        if states.values.contains(where: { $0 == nil }) {
            Issue.record("a collection holds neither its old nor its new data whole: \(states), \(names)",
                         sourceLocation: sourceLocation)
            return nil
        }
        let values = Set(states.values.compactMap { $0 })
        return values.count == 1 ? values.first : .partly
    }

    static func restoreArguments(_ job: TestJob) -> [String] {
        ["restore", "--config", job.path, "--database", "messages", "--jobs", "2"]
    }

    /// The next run succeeds at once (a dead run's lock is taken over, its leftovers dealt with).
    static func expectNextRunSucceeds(_ scratch: DocumentDBScratch, _ job: TestJob,
                                      sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let started = Date()
        let next = try CommandRunner.run(restoreArguments(job))
        #expect(next.status == 0, "\(next.stderr)", sourceLocation: sourceLocation)
        #expect(Date().timeIntervalSince(started) < 20, "the next run waited for nothing", sourceLocation: sourceLocation)
        #expect(try generation(scratch, sourceLocation: sourceLocation) == .new, sourceLocation: sourceLocation)
        let names = try scratch.collections("stage")
        #expect(!names.contains { $0.hasPrefix(DocumentDBTarget.shadowPrefix) }, "\(names)", sourceLocation: sourceLocation)
        #expect(try scratch.documents("stage", DocumentDBTarget.lockCollection).isEmpty, "lock and journal gone",
                sourceLocation: sourceLocation)
    }

    enum Phase: String, CaseIterable, CustomTestStringConvertible {
        case shadow = "creating the shadow copy"
        case copy = "copying 2 tables"
        case schema = "creating indexes, constraints"
        case overrides = "applying 1 overrides"
        case leakCheck = "checking for original values"
        case swap = "swapping the shadow copy in"

        var testDescription: String { rawValue }
    }

    @Test(.timeLimit(.minutes(1)), arguments: Phase.allCases)
    func killedAtEachStepLeavesEveryCollectionWhole(_ phase: Phase) throws {
        let scratch = try DocumentDBScratch("dsigkill")
        defer { scratch.drop() }
        try Self.seed(scratch)
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules, overrides: Self.overrides)
        defer { job.remove() }
        let run = try RunningCommand(Self.restoreArguments(job))
        #expect(run.waitForStderr(containing: phase.rawValue))
        run.signal(SIGKILL)
        #expect(run.wait().status == SIGKILL, "ended by the signal")
        // Killed inside the swap, collections may be new and old side by side, each whole.
        let found = try Self.generation(scratch)
        #expect(found != nil && (phase == .swap || found != .partly), "\(String(describing: found))")
        try Self.expectNextRunSucceeds(scratch, job)
    }

    @Test(.timeLimit(.minutes(1)), arguments: Phase.allCases)
    func stoppedAtEachStepSaysWhatStagingHolds(_ phase: Phase) throws {
        let scratch = try DocumentDBScratch("dsigterm")
        defer { scratch.drop() }
        try Self.seed(scratch)
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules, overrides: Self.overrides)
        defer { job.remove() }
        let run = try RunningCommand(Self.restoreArguments(job))
        #expect(run.waitForStderr(containing: phase.rawValue))
        run.signal(SIGTERM)
        let result = run.wait()
        switch try Self.generation(scratch) {
        case .old?:
            #expect(result.status == 128 + SIGTERM, "\(result.stderr)")
            #expect(result.stderr.contains("staging is unchanged (it holds the data from before this run); the shadow "
                                               + "copy was removed"), "\(result.stderr)")
        case .new?:
            // Past the last moment to stop: the swap ran to its end, and the run says it succeeded.
            #expect(phase == .swap || phase == .leakCheck)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("messages (documentdb): swapped"), "\(result.stdout)\n\(result.stderr)")
        case .partly?:
            Issue.record("a signal left staging partly replaced: \(result.stderr)")
        case nil:
            break
        }
        let names = try scratch.collections("stage")
        #expect(!names.contains { $0.hasPrefix(DocumentDBTarget.shadowPrefix) }, "shadows removed: \(names)")
        #expect(try scratch.documents("stage", DocumentDBTarget.lockCollection).isEmpty, "lock released")
        try Self.expectNextRunSucceeds(scratch, job)
    }

    /// A lock document as another run writes it.
    static func lockDocument(_ scratch: DocumentDBScratch, host: String, pid: Int32, run: String, renewed: Date) -> String {
        let database = scratch.database("stage")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return """
            {"_id": "\(database)", "holder": "snapmask restore \(database) from \(host) pid \(pid)", "host": "\(host)",
             "pid": {"$numberLong": "\(pid)"}, "run": "\(run)", "since": {"$date": "\(formatter.string(from: renewed))"},
             "renewed": {"$date": "\(formatter.string(from: renewed))"}, "lease_seconds": {"$numberLong": "60"}}
            """
    }

    /// The pid of a process that has ended.
    static func deadPid() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    static func serverNow(_ scratch: DocumentDBScratch) throws -> Date {
        DocumentDBLock.serverTime(try scratch.client())
    }

    @Test func aLiveHolderOnAnotherHostIsRefusedNamingIt() throws {
        let scratch = try DocumentDBScratch("dlocklive")
        defer { scratch.drop() }
        try Self.seed(scratch)
        try scratch.insert("stage", DocumentDBTarget.lockCollection,
                           [Self.lockDocument(scratch, host: "pod-7f9c", pid: 4242, run: "run-alive", renewed: try Self.serverNow(scratch))])
        let target = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        #expect {
            try target.lock()
        } throws: { error in
            let text = "\(error)"
            return error is TargetLocked && text.contains("another snapmask run is restoring \(scratch.database("stage"))")
                && text.contains("host pod-7f9c, pid 4242, run run-alive") && text.contains("lease last renewed")
                && text.contains("snapmask_locks.deleteOne")
        }
        #expect(try Self.generation(scratch) == .old)
    }

    @Test func aLockWhoseProcessIsGoneIsTakenOverAtOnceAndItsShadowsRemoved() throws {
        let scratch = try DocumentDBScratch("dlockdead")
        defer { scratch.drop() }
        try Self.seed(scratch)
        let host = ProcessInfo.processInfo.hostName
        try scratch.insert("stage", DocumentDBTarget.lockCollection,
                           [Self.lockDocument(scratch, host: host, pid: try Self.deadPid(), run: "run-dead",
                                              renewed: try Self.serverNow(scratch))])
        try scratch.insert("stage", "snapmask_shadow.people", [#"{"_id": 99}"#])
        let target = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        try target.lock()
        defer { target.unlock() }
        #expect(target.recovered?.contains("took over the lock of snapmask restore") == true, "\(target.recovered ?? "")")
        #expect(target.recovered?.contains("(run run-dead), its process") == true, "\(target.recovered ?? "")")
        #expect(target.recovered?.contains("removed the shadow collections an earlier run left (snapmask_shadow.people)") == true)
        #expect(!(try scratch.collections("stage")).contains("snapmask_shadow.people"))
        #expect(try Self.generation(scratch) == .old)
    }

    @Test func aLockWhoseLeaseRanOutIsTakenOver() throws {
        let scratch = try DocumentDBScratch("dlocklease")
        defer { scratch.drop() }
        try Self.seed(scratch)
        try scratch.insert("stage", DocumentDBTarget.lockCollection,
                           [Self.lockDocument(scratch, host: "pod-gone", pid: 7, run: "run-silent",
                                              renewed: try Self.serverNow(scratch).addingTimeInterval(-90))])
        let target = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        try target.lock()
        defer { target.unlock() }
        #expect(target.recovered?.contains("its lease was not renewed for") == true, "\(target.recovered ?? "")")
    }

    /// A run killed half-way through its swap left its journal, one collection renamed and the
    /// shadow of the other: the next run finishes that swap when it takes the lock.
    @Test func aSwapLeftHalfDoneIsFinishedByTheNextRun() throws {
        let scratch = try DocumentDBScratch("dhalf")
        defer { scratch.drop() }
        try Self.seed(scratch)
        let database = scratch.database("stage")
        try scratch.insert("stage", "snapmask_shadow.notes", [#"{"_id": 1, "person": 1, "body": "new note"}"#])
        try scratch.insert("stage", DocumentDBTarget.lockCollection, [
            Self.lockDocument(scratch, host: ProcessInfo.processInfo.hostName, pid: try Self.deadPid(), run: "run-half",
                              renewed: try Self.serverNow(scratch)),
            #"{"_id": "\#(database):swap", "run": "run-half", "collections": ["people", "notes"], "drop": ["marker", "users"]}"#,
        ])
        let target = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        try target.lock()
        defer { target.unlock() }
        #expect(target.recovered?.contains("finished the swap that an earlier run (run run-half) had left half-done by "
                                               + "swapping in notes") == true, "\(target.recovered ?? "")")
        #expect(try scratch.documents("stage", "notes").count == 1)
        let names = try scratch.collections("stage")
        #expect(!names.contains("marker") && !names.contains("users") && !names.contains("snapmask_shadow.notes"), "\(names)")
        #expect(try scratch.documents("stage", DocumentDBTarget.lockCollection).count == 1, "only this run's lock")
    }

    /// A swap cut off after its first collection: the failure says which collection holds the
    /// new copy and which its previous data, the shadow of the other is kept with the journal,
    /// and the next run finishes the swap, then restores.
    @Test func aSwapCutOffHalfWaySaysWhichCollectionsAreNew() throws {
        let scratch = try DocumentDBScratch("dcutoff")
        defer { scratch.drop() }
        try Self.seed(scratch)
        let job = try DocumentDBJobs.job(scratch, rules: Self.rules)
        defer { job.remove() }
        // At the swap, notes' shadow is renamed away: the swap renames people, then cannot find it.
        let database = scratch.database("stage"), server = scratch.server
        let saboteur = PhaseHook(when: "swapping the shadow copy in") {
            _ = try? DocumentDBClient(url: server).command("""
                {"renameCollection": "\(database).snapmask_shadow.notes", "to": "\(database).snapmask_shadow.notes_moved"}
                """, database: database)
        }
        do {
            _ = try DocumentDBJobs.restore(job, observer: saboteur)
            Issue.record("the swap succeeded without notes' shadow")
        } catch let failure as RestoreFailed {
            #expect(failure.step == "swapping the shadow copy in")
            #expect(failure.staging.data == .partlyReplaced, "\(failure.staging)")
            #expect(failure.staging.detail?.contains("the new copy is in people; the previous data is still in notes") == true,
                    "\(failure.staging)")
            #expect("\(failure)".contains("staging was partly replaced"), "\(failure)")
        }
        #expect(try scratch.documents("stage", "people").count == 40)
        #expect(try scratch.documents("stage", DocumentDBTarget.lockCollection).map { $0.contains(":swap") } == [true],
                "the journal is kept, the lock released")
        try scratch.command("stage", """
            {"renameCollection": "\(database).snapmask_shadow.notes_moved", "to": "\(database).snapmask_shadow.notes"}
            """)
        try Self.expectNextRunSucceeds(scratch, job)
    }

    /// interrupt() returns at once; writers then refuse further batches.
    @Test func interruptReturnsAtOnceAndStopsTheWriters() throws {
        let scratch = try DocumentDBScratch("dinterrupt")
        defer { scratch.drop() }
        try scratch.insert("stage", "marker", [#"{"_id": 1}"#])
        let target = try DocumentDBTarget(url: try scratch.url("stage"), tuning: DocumentDBTuning())
        let writer = try target.makeWriter(for: TablePlan(table: TableShape(name: "people", columns: [], primaryKey: ["_id"],
                                                                            estimatedRows: 1), rule: nil))
        let started = Date()
        target.interrupt()
        #expect(Date().timeIntervalSince(started) < 0.5)
        let batch = RowBatch(data: try BSONDocument(json: #"{"_id": 1}"#).bytes, rowCount: 1, firstRow: 0)
        #expect(throws: RunInterrupted.self) { try writer.write(batch) }
    }
}
