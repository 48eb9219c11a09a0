import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// Whatever goes wrong before the swap, staging stays exactly as it was, no shadow is left and
/// the lock is released: the scenarios every engine shares, run against each. What only one
/// engine can go through stays with its driver's tests (MySQLFailureTests, DocumentDBFailureTests).
@Suite struct EngineFailureTests {
    /// Scratch databases of `engine` with the source filled and staging marked.
    func prepared(_ engine: FailureEngine, _ label: String) throws -> any EngineFixture {
        let fixture = try engine.fixture(label)
        try fixture.createSource(killable: false)
        try fixture.markStaging()
        return fixture
    }

    @Test(arguments: FailureEngine.allCases)
    func sourceKilledMidStreamLeavesStagingUntouched(_ engine: FailureEngine) throws {
        let fixture = try engine.fixture("kill")
        defer { fixture.drop() }
        try fixture.createSource(killable: true)
        try fixture.markStaging()
        let outcome = try fixture.startRestoreOfTheKillableSource()
        #expect(try fixture.killSourceSession())
        guard case let .failure(error) = outcome.wait() else {
            Issue.record("the restore succeeded although its source was killed")
            return
        }
        let failure = try #require(error as? RestoreFailed, "\(error)")
        #expect(failure.step == "copying tables")
        #expect("\(failure)".contains(fixture.brokenStreamText), "\(failure)")
        try fixture.expectStagingUntouched()
    }

    @Test(arguments: FailureEngine.allCases)
    func secondConcurrentRestoreIsRefusedNamingTheHolder(_ engine: FailureEngine) throws {
        let fixture = try prepared(engine, "lock")
        defer { fixture.drop() }
        let job = try fixture.job()
        defer { job.remove() }
        let (refusal, release) = try fixture.holdStagingLock()
        #expect {
            try job.restore()
        } throws: { error in
            refusal.allSatisfy { "\(error)".contains($0) }
        }
        release()
        try fixture.expectStagingUntouched()
    }

    @Test(arguments: FailureEngine.allCases)
    func targetThatIsTheSourceIsRefused(_ engine: FailureEngine) throws {
        let fixture = try engine.fixture("same")
        defer { fixture.drop() }
        let source = try fixture.createSource(killable: false)
        // Another spelling of the same address is refused when the job file is read...
        let spelled = try fixture.job(target: source.raw.replacingOccurrences(of: "127.0.0.1", with: fixture.sameHostSpelling))
        defer { spelled.remove() }
        #expect(throws: ConfigErrors.self) { try spelled.load() }
        // ...and an address the file cannot tell apart is refused by asking the servers.
        let aliased = try fixture.job(target: source.raw.replacingOccurrences(of: "127.0.0.1", with: "127.1"))
        defer { aliased.remove() }
        #expect {
            try aliased.restore()
        } throws: { error in
            "\(error)".contains("is the source database under another name")
        }
        try fixture.expectSourceAloneAndUntouched()
    }

    @Test(arguments: FailureEngine.allCases)
    func unreachableSourceIsAClearErrorWithoutThePassword(_ engine: FailureEngine) throws {
        let job = try engine.unreachableJob()
        defer { job.remove() }
        do {
            _ = try job.restore()
            Issue.record("restore from an unreachable source succeeded")
        } catch {
            let text = "\(error)"
            #expect(text.contains("opening the source") && text.contains("127.0.0.1"), "\(text)")
            #expect(!text.contains("Pr0dSecret") && !text.contains("St4geSecret"))
        }
    }

    @Test(arguments: FailureEngine.allCases)
    func overrideThatReintroducesAnOriginalIsCaughtByTheLeakCheck(_ engine: FailureEngine) throws {
        let fixture = try prepared(engine, "leak")
        defer { fixture.drop() }
        let job = try fixture.job(overrides: fixture.leakingOverride)
        defer { job.remove() }
        #expect {
            try job.restore()
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            return failure.step == "checking for leaked values" && failure.underlying.contains(fixture.maskedColumn)
        }
        try fixture.expectStagingUntouched()
    }

    @Test(arguments: FailureEngine.allCases)
    func failingOverrideRollsBackAndLeavesStagingUntouched(_ engine: FailureEngine) throws {
        let fixture = try prepared(engine, "override")
        defer { fixture.drop() }
        let job = try fixture.job(overrides: fixture.failingOverrides)
        defer { job.remove() }
        #expect {
            try job.restore()
        } throws: { error in
            fixture.isFailingOverrideError(error)
        }
        try fixture.expectStagingUntouched()
    }

    /// Rows that go missing between the load and the swap (a TTL index, a cleanup job that
    /// reached the shadow, a server that dropped them) stop the run: the count check compares
    /// every table with what was read from the source.
    @Test(arguments: FailureEngine.allCases)
    func aRowLostFromTheShadowStopsTheRunBeforeTheSwap(_ engine: FailureEngine) throws {
        let fixture = try prepared(engine, "lost")
        defer { fixture.drop() }
        let job = try fixture.job()
        defer { job.remove() }
        let deleted = OutcomeBox<Void>()
        let deleteOneRow = try fixture.shadowRowDeletion()
        let hook = PhaseHook(when: "creating indexes") { deleted.set(Result { try deleteOneRow() }) }
        #expect {
            try job.restore(observer: hook)
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            let (table, rows) = fixture.countedTable
            return failure.step == "verifying row counts" && !failure.stagingChanged
                && failure.underlying == "row counts differ between source and shadow copy: "
                    + "\(table) read \(rows), shadow has \(rows - 1)"
        }
        try deleted.wait().get()
        try fixture.expectStagingUntouched()
    }

    // MARK: Engines with tables

    @Test(arguments: FailureEngine.relational)
    func unruledNewColumnFailsTheCheckAndWritesNothing(_ engine: FailureEngine) throws {
        let fixture = try engine.relationalFixture("unruled")
        defer { fixture.drop() }
        try fixture.createSource(then: "ALTER TABLE big ADD COLUMN ssn text;")
        try fixture.markStaging()
        let job = try fixture.job()
        defer { job.remove() }
        do {
            _ = try job.restore()
            Issue.record("a column without a rule was restored")
        } catch let failed as CheckFailed {
            #expect(failed.problems.map(\.description) == [
                "\(fixture.table).ssn: column has no rule (text); add `ssn: keep` if it holds no personal data, or a transformer"])
        }
        try fixture.expectStagingUntouched()
    }

    @Test(arguments: FailureEngine.relational)
    func failingWhereClauseIsReportedAndWritesNothing(_ engine: FailureEngine) throws {
        let fixture = try engine.relationalFixture("where")
        defer { fixture.drop() }
        try fixture.createSource(killable: false)
        try fixture.markStaging()
        let job = try fixture.job(where: "no_such_column > 3")
        defer { job.remove() }
        #expect {
            try job.restore()
        } throws: { error in
            "\(error)".contains("no_such_column") && "\(error)".contains("where: condition")
        }
        try fixture.expectStagingUntouched()
    }
}
