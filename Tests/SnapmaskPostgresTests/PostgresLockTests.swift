import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// The tables are locked before the catalog that decides what is masked is read, so a column
/// rename cannot slip between `check` and the copy and send SSNs into a `keep` column.
@Suite struct PostgresLockTests {
    static let sourceSQL = """
        CREATE TABLE people (id int PRIMARY KEY, notes text NOT NULL, ssn text NOT NULL);
        INSERT INTO people SELECT g, 'note about visit ' || g,
               (100 + g % 800)::text || '-' || lpad((g % 99 + 1)::text, 2, '0') || '-' || lpad(g::text, 4, '0')
          FROM generate_series(1, 2000) g;
        """

    static func rules(where condition: String? = nil) -> String {
        """
        tables:
          public.people:
        \(condition.map { "    where: \"\($0)\"\n" } ?? "")    columns: { id: keep, notes: keep, ssn: ssn }
        """
    }

    /// Swaps the contents of `notes` and `ssn` by renaming, as a careless migration could.
    static let swapColumns = """
        BEGIN;
        ALTER TABLE people RENAME COLUMN notes TO swapping;
        ALTER TABLE people RENAME COLUMN ssn TO notes;
        ALTER TABLE people RENAME COLUMN swapping TO ssn;
        COMMIT;
        """

    /// Staging's `notes` are the source's notes and no SSN of the source is anywhere in staging.
    func expectMaskedCorrectly(_ scratch: PostgresScratch, originalNotes: [[String?]], ssns: Set<String>) throws {
        #expect(try scratch.rows("stage", "SELECT id::text, notes FROM people ORDER BY id") == originalNotes)
        let staged = try scratch.rows("stage", "SELECT notes FROM people UNION ALL SELECT ssn FROM people").compactMap { $0[0] }
        #expect(staged.count == 4000)
        #expect(ssns.isDisjoint(with: staged), "an original SSN reached staging")
    }

    @Test func aRenameBetweenCheckAndCopyIsHeldOffByTheSnapshotsLocks() throws {
        let scratch = try PostgresScratch("pglockrename")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let notes = try scratch.rows("src", "SELECT id::text, notes FROM people ORDER BY id")
        let ssns = Set(try scratch.rows("src", "SELECT ssn FROM people").compactMap { $0[0] })
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules())
        defer { job.remove() }

        // The rules have been checked against the snapshot's catalog; now the columns are swapped.
        let rename = OutcomeBox<Void>()
        let hook = PhaseHook(when: "creating the shadow copy") {
            rename.set(Result {
                let migration = try PostgresConnection(url: source, applicationName: "column swap")
                try migration.execute("SET lock_timeout = '2s'")
                try migration.execute(Self.swapColumns)
            })
        }
        let report = try job.restore(observer: hook)
        #expect(report.outcome == "swapped")
        guard case let .failure(error) = rename.wait() else {
            Issue.record("the columns were renamed while the source snapshot was open")
            return
        }
        #expect((error as? PostgresError)?.sqlState == "55P03", "\(error)")
        try expectMaskedCorrectly(scratch, originalNotes: notes, ssns: ssns)

        // Once the run is over the locks are gone and the migration goes through.
        try PostgresConnection(url: source).execute(Self.swapColumns)
        #expect(try scratch.rows("src", "SELECT ssn FROM people WHERE id = 1") == [["note about visit 1"]])
    }

    @Test func aRenameDuringTheCopyWaitsUntilTheRunEnds() throws {
        let scratch = try PostgresScratch("pglockwait")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let notes = try scratch.rows("src", "SELECT id::text, notes FROM people ORDER BY id")
        let ssns = Set(try scratch.rows("src", "SELECT ssn FROM people").compactMap { $0[0] })
        // pg_sleep slows the copy (and the leak sample) to a few seconds.
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules(where: "pg_sleep(0.001) IS NOT NULL"))
        defer { job.remove() }

        let watch = SessionWatch(scratch)
        let restore = OutcomeBox.start { try PostgresRestoreTests.restore(job) }
        #expect(try eventually { try watch.isActive("snapmask read public.people") })
        let rename = OutcomeBox<Void>.start {
            let migration = try PostgresConnection(url: source, applicationName: "column swap")
            try migration.execute("SET lock_timeout = '60s'")
            try migration.execute(Self.swapColumns)
        }
        #expect(try eventually { try watch.waitsForLock("column swap") }, "the rename must wait for the copy")
        #expect(!restore.isFinished && !rename.isFinished)

        let report = try restore.wait().get()
        #expect(report.outcome == "swapped")
        try rename.wait().get()
        try expectMaskedCorrectly(scratch, originalNotes: notes, ssns: ssns)
        #expect(try scratch.rows("src", "SELECT ssn FROM people WHERE id = 1") == [["note about visit 1"]])
    }

    @Test func aTableLockedByAnotherSessionStopsTheSnapshotNamingTableAndHolder() throws {
        let scratch = try PostgresScratch("pglockheld")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let migration = try PostgresConnection(url: source, applicationName: "nightly migration")
        try migration.execute("BEGIN; LOCK TABLE people IN ACCESS EXCLUSIVE MODE")

        let started = Date()
        #expect {
            try PostgresSource(url: source, lockTimeout: 0.5)
        } throws: { error in
            let text = "\(error)"
            return text.contains("could not lock the source's tables within 500 ms")
                && text.contains("public.people: session \(migration.backendPID) (nightly migration, user ")
                && text.contains("holds an exclusive lock on it")
        }
        #expect(Date().timeIntervalSince(started) < 10)
        try migration.execute("ROLLBACK")
        // With the lock gone, the snapshot opens and holds ACCESS SHARE on the table.
        let opened = try PostgresSource(url: source, lockTimeout: 0.5)
        defer { opened.close() }
        #expect(try scratch.rows("src", """
            SELECT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE a.application_name = 'snapmask snapshot' AND l.relation = 'people'::regclass
            """) == [["AccessShareLock"]])
    }

    @Test func anExclusiveLockQueuedBeforeTheCopyStopsTheRunInsteadOfHanging() throws {
        let scratch = try PostgresScratch("pglockqueue")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules())
        defer { job.remove() }

        // The migration queues behind the snapshot's lock just before the tables are read. A
        // reader waiting behind it would wait for ever: the snapshot ends only after the readers.
        let watch = SessionWatch(scratch)
        let rename = OutcomeBox<OutcomeBox<Void>>()
        let hook = PhaseHook(when: "copying ") {
            let started = OutcomeBox<Void>.start {
                let migration = try PostgresConnection(url: source, applicationName: "column swap")
                try migration.execute("SET lock_timeout = '60s'")
                try migration.execute(Self.swapColumns)
            }
            _ = try? eventually { try watch.waitsForLock("column swap") }
            rename.set(.success(started))
        }
        #expect {
            try job.restore(observer: hook)
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            return failure.step == "copying tables"
                && failure.underlying.contains("another session is queued for an exclusive lock on public.people")
                && failure.underlying.contains("column swap") && failure.underlying.contains("Run again")
        }
        // The run has ended: the migration was granted its lock and staging was never created.
        let migration = try rename.wait().get()
        try migration.wait().get()
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])
    }

    @Test func pgDumpDoesNotWaitForeverBehindAQueuedExclusiveLock() throws {
        let scratch = try PostgresScratch("pglockdump")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let snapshot = try PostgresSource(url: source, lockTimeout: 1)
        let watch = SessionWatch(scratch)
        let rename = OutcomeBox<Void>.start {
            let migration = try PostgresConnection(url: source, applicationName: "column swap")
            try migration.execute("SET lock_timeout = '60s'")
            try migration.execute(Self.swapColumns)
        }
        #expect(try eventually { try watch.waitsForLock("column swap") })
        let started = Date()
        #expect {
            try snapshot.schemaDefinition()
        } throws: { error in
            let text = "\(error)"
            return text.contains("reading the source's schema with pg_dump") && text.contains("LOCK TABLE public.people")
                && text.contains("public.people: session ") && text.contains("(column swap, user ")
                && text.contains("waits for an exclusive lock on it") && text.contains("Run again")
        }
        #expect(Date().timeIntervalSince(started) < 30)
        snapshot.close()
        try rename.wait().get()
    }
}
