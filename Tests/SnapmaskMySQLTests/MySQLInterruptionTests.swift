import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// A restore killed (SIGKILL) or stopped (SIGTERM) at every step, and a swap held up by an
/// application session: staging always answers and holds one whole generation — the previous
/// tables with the previous triggers and views, or the new ones with the new — the message says
/// which, and the next run succeeds at once.
@Suite struct MySQLInterruptionTests {
    /// The new generation: two tables (a foreign key between them), a trigger that adds 1, a view.
    static let sourceSQL: String = {
        var sql = """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(200), touched int NOT NULL DEFAULT 0, KEY people_email (email));
            CREATE TABLE notes (id int PRIMARY KEY, person_id int, body text,
                                CONSTRAINT notes_person FOREIGN KEY (person_id) REFERENCES people (id));
            CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW SET NEW.touched = NEW.touched + 1;
            CREATE VIEW people_emails AS SELECT id, email FROM people;

            """
        sql += "INSERT INTO people (id, email) VALUES "
            + (1...300).map { "(\($0), 'person\($0)@corp.example.org')" }.joined(separator: ", ") + ";\n"
        sql += "INSERT INTO notes VALUES " + (1...300).map { "(\($0), \($0), 'note \($0)')" }.joined(separator: ", ") + ";\n"
        return sql
    }()

    /// The previous generation: the same trigger, view and foreign key names (so the swap must
    /// move the old ones out of the way), a trigger that adds 100, and a table the source lacks.
    static let stagingSQL = """
        CREATE TABLE people (id int PRIMARY KEY, email varchar(200), touched int NOT NULL DEFAULT 0, old_marker int);
        CREATE TABLE notes (id int PRIMARY KEY, person_id int, body text,
                            CONSTRAINT notes_person FOREIGN KEY (person_id) REFERENCES people (id));
        CREATE TABLE only_old (v int);
        CREATE TRIGGER people_touch BEFORE UPDATE ON people FOR EACH ROW SET NEW.touched = NEW.touched + 100;
        CREATE VIEW people_emails AS SELECT id, email, 'old' AS generation FROM people;
        INSERT INTO people VALUES (1, 'old@staging.test', 0, 1);
        """

    /// Reading people is slowed to about 0.6 s, so a kill during the copy lands in it.
    static func rules(slow: Bool = true) -> String {
        """
        tables:
          people:
        \(slow ? "    where: \"SLEEP(0.002) = 0\"\n" : "")    columns: { id: keep, email: { transform: email, unique: true }, touched: keep }
          notes:
            columns: { id: keep, person_id: keep, body: lorem }
        """
    }

    static let overrides = """
        - table: people
          set: { email: "first@staging.test" }
          where: "id = 1"
        """

    enum Generation: String { case old, new }

    /// The steps a run logs, in order, each a moment to kill it.
    enum Phase: String, CaseIterable, CustomTestStringConvertible {
        case shadow = "creating the shadow copy"
        case copy = "copying 2 tables"
        case schema = "creating indexes, constraints"
        case overrides = "applying 1 overrides"
        case leakCheck = "checking for original values"
        case swap = "swapping the shadow copy in"

        var testDescription: String { rawValue }
    }

    struct Setup {
        let scratch: MySQLScratch
        let job: TestJob

        var restore: [String] { ["restore", "--config", job.path, "--database", "app", "--jobs", "2"] }

        func cleanup() {
            scratch.drop()
            job.remove()
        }
    }

    static func setup(_ label: String, slow: Bool = true) throws -> Setup {
        let scratch = try MySQLScratch(label)
        _ = try scratch.url("src", create: true, sql: sourceSQL)
        _ = try scratch.url("stage", create: true, sql: stagingSQL)
        let job = try MySQLRestoreTests.job(scratch, rules: rules(slow: slow), overrides: overrides)
        return Setup(scratch: scratch, job: job)
    }

    /// Which whole generation staging holds, checked through a new session: its tables, views and
    /// triggers, and that the trigger fires. Records an issue (and returns nil) for anything else.
    static func generation(_ scratch: MySQLScratch, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Generation? {
        let staging = try scratch.connect("stage")
        let objects = try staging.query("SHOW FULL TABLES").map { "\($0[0] ?? "") \($0[1] ?? "")" }.sorted()
        let triggers = try staging.query("""
            SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS
             WHERE TRIGGER_SCHEMA = DATABASE()
            """).map { $0.map { $0 ?? "" } }
        let viewColumns = try staging.query("SELECT * FROM people_emails LIMIT 1").first?.count
        try staging.query("START TRANSACTION")
        let before = Int(try staging.scalar("SELECT touched FROM people WHERE id = 1") ?? "") ?? -1
        try staging.query("UPDATE people SET email = email WHERE id = 1")
        let fired = (Int(try staging.scalar("SELECT touched FROM people WHERE id = 1") ?? "") ?? -1) - before
        try staging.query("ROLLBACK")
        let rows = try staging.scalar("SELECT COUNT(*) FROM people")
        if objects == ["notes BASE TABLE", "only_old BASE TABLE", "people BASE TABLE", "people_emails VIEW"],
           triggers == [["people_touch", "people", "SET NEW.touched = NEW.touched + 100"]], viewColumns == 3, fired == 100,
           rows == "1" {
            return .old
        }
        if objects == ["notes BASE TABLE", "people BASE TABLE", "people_emails VIEW"],
           triggers == [["people_touch", "people", "SET NEW.touched = NEW.touched + 1"]], viewColumns == 2, fired == 1,
           rows == "300" {
            return .new
        }
        let found = "\(objects), triggers \(triggers), view columns \(viewColumns ?? 0), the trigger added \(fired), "
            + "\(rows ?? "?") people"
        Issue.record("staging holds neither whole generation: \(found)", sourceLocation: sourceLocation)
        return nil
    }

    /// The next run succeeds at once and leaves only the source and staging databases.
    static func expectNextRunSucceeds(_ setup: Setup, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let started = Date()
        let next = try CommandRunner.run(setup.restore)
        #expect(next.status == 0, "\(next.stderr)", sourceLocation: sourceLocation)
        #expect(Date().timeIntervalSince(started) < 15, "the next run did not wait for anything", sourceLocation: sourceLocation)
        #expect(try generation(setup.scratch, sourceLocation: sourceLocation) == .new, sourceLocation: sourceLocation)
        #expect(try setup.scratch.databases() == [setup.scratch.name("src"), setup.scratch.name("stage")],
                sourceLocation: sourceLocation)
    }

    @Test(.timeLimit(.minutes(1)), arguments: Phase.allCases)
    func killedAtEachStepLeavesStagingWhole(_ phase: Phase) throws {
        let setup = try Self.setup("mysigkill")
        defer { setup.cleanup() }
        let run = try RunningCommand(setup.restore)
        #expect(run.waitForStderr(containing: phase.rawValue))
        run.signal(SIGKILL)
        #expect(run.wait().status == SIGKILL, "ended by the signal")
        #expect(try Self.generation(setup.scratch) != nil)
        try Self.expectNextRunSucceeds(setup)
    }

    @Test(.timeLimit(.minutes(1)), arguments: Phase.allCases)
    func stoppedAtEachStepSaysWhatStagingHolds(_ phase: Phase) throws {
        let setup = try Self.setup("mysigterm")
        defer { setup.cleanup() }
        let run = try RunningCommand(setup.restore)
        #expect(run.waitForStderr(containing: phase.rawValue))
        run.signal(SIGTERM)
        let result = run.wait()
        switch try Self.generation(setup.scratch) {
        case .old?:
            #expect(result.status == 128 + SIGTERM, "\(result.stderr)")
            #expect(result.stderr.contains("staging is unchanged (it holds the data from before this run); the shadow "
                                               + "copy was removed"), "\(result.stderr)")
        case .new?:
            // Past the last moment to stop: the swap ran to its end, and the run says it succeeded.
            #expect(phase == .swap || phase == .leakCheck)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("app (mysql): swapped"), "\(result.stdout)\n\(result.stderr)")
        case nil:
            break
        }
        #expect(try setup.scratch.databases() == [setup.scratch.name("src"), setup.scratch.name("stage")], "shadow removed")
        try Self.expectNextRunSucceeds(setup)
    }

    /// A session that holds a staging table (in a transaction, without `USE`, so the swap does
    /// not end it) keeps the rename waiting; a kill then aborts the waiting rename on the server:
    /// nothing changed, the session goes on, the next run succeeds once the session is done.
    @Test(.timeLimit(.minutes(1))) func killedWhileTheSwapWaitsForAnApplicationSession() throws {
        let setup = try Self.setup("myswapkill", slow: false)
        defer { setup.cleanup() }
        let application = try MySQLConnection(url: setup.scratch.server, database: .none)
        try application.query("START TRANSACTION")
        try application.query("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(setup.scratch.name("stage"), "people"))")
        let run = try RunningCommand(setup.restore)
        #expect(run.waitForStderr(containing: Phase.swap.rawValue))
        let monitor = try MySQLConnection(url: setup.scratch.server, database: .none)
        #expect(try Self.waitFor(renameWaiting: true, monitor, setup.scratch), "the rename waits for the session")
        run.signal(SIGKILL)
        _ = run.wait()
        #expect(try Self.waitFor(renameWaiting: false, monitor, setup.scratch), "the server gave the rename up")
        #expect(try application.scalar("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(setup.scratch.name("stage"), "people"))")
                    == "1", "the application's session goes on")
        try application.query("COMMIT")
        #expect(try Self.generation(setup.scratch) == .old)
        try Self.expectNextRunSucceeds(setup)
    }

    /// Killed while the rename waits, and the session commits at once: the server either gave the
    /// rename up or ran the whole swap; staging is one whole generation either way.
    @Test(.timeLimit(.minutes(1))) func killedWhileTheSwapWaitsAndTheSessionCommitsRightAfter() throws {
        let setup = try Self.setup("myswaprace", slow: false)
        defer { setup.cleanup() }
        let application = try MySQLConnection(url: setup.scratch.server, database: .none)
        try application.query("START TRANSACTION")
        try application.query("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(setup.scratch.name("stage"), "notes"))")
        let run = try RunningCommand(setup.restore)
        #expect(run.waitForStderr(containing: Phase.swap.rawValue))
        let monitor = try MySQLConnection(url: setup.scratch.server, database: .none)
        #expect(try Self.waitFor(renameWaiting: true, monitor, setup.scratch))
        run.signal(SIGKILL)
        try application.query("COMMIT")
        _ = run.wait()
        #expect(try Self.waitFor(renameWaiting: false, monitor, setup.scratch))
        #expect(try Self.generation(setup.scratch) != nil)
        try Self.expectNextRunSucceeds(setup)
    }

    /// SIGTERM while the rename waits: the swap is not broken off; once the session commits, it
    /// completes, and the run says so.
    @Test(.timeLimit(.minutes(1))) func stoppedWhileTheSwapWaitsCompletesTheSwap() throws {
        let setup = try Self.setup("myswapterm", slow: false)
        defer { setup.cleanup() }
        let application = try MySQLConnection(url: setup.scratch.server, database: .none)
        try application.query("START TRANSACTION")
        try application.query("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(setup.scratch.name("stage"), "people"))")
        let run = try RunningCommand(setup.restore)
        #expect(run.waitForStderr(containing: Phase.swap.rawValue))
        let monitor = try MySQLConnection(url: setup.scratch.server, database: .none)
        #expect(try Self.waitFor(renameWaiting: true, monitor, setup.scratch))
        run.signal(SIGTERM)
        Thread.sleep(forTimeInterval: 1)
        try application.query("COMMIT")
        let result = run.wait()
        #expect(result.status == 0, "the swap ran to its end: the run succeeded")
        #expect(result.stdout.contains("app (mysql): swapped"), "\(result.stdout)\n\(result.stderr)")
        #expect(try Self.generation(setup.scratch) == .new)
        #expect(try setup.scratch.databases() == [setup.scratch.name("src"), setup.scratch.name("stage")])
    }

    /// A session holding a staging table past the bound (a long query on it): the swap gives up
    /// after its attempts, names the session (id, account, client, what it runs — never the
    /// values in its statement), and staging is as it was and answers.
    @Test(.timeLimit(.minutes(1))) func swapGivesUpWithinItsBoundNamingTheBlocker() throws {
        let setup = try Self.setup("myswapwait", slow: false)
        defer { setup.cleanup() }
        let application = try MySQLConnection(url: setup.scratch.server, database: .none)
        let applicationID = application.connectionID
        let people = MySQLIdentifier.qualified(setup.scratch.name("stage"), "people")
        let query = HandOffBox(application)
        let running = Thread {
            _ = try? query.connection.query("SELECT SLEEP(30) FROM \(people) WHERE email <> 'Secr3t-value@example.org' LIMIT 1")
        }
        running.start()
        let monitor = try MySQLConnection(url: setup.scratch.server, database: .none)
        defer { _ = try? monitor.query("KILL QUERY \(applicationID)") }
        let (database, rules) = try setup.job.database("app")
        let target = try MySQLTarget(url: database.target, tuning: MySQLSwapTuning(lockWaitSeconds: 2, attempts: 2))
        try target.lock()
        defer {
            target.unlock()
            target.close()
        }
        let started = Date()
        do {
            _ = try RestoreRunner(database: database, engine: MySQLEngine(job: database), rules: rules,
                                  options: RestoreOptions(jobs: 2), observer: RecordingObserver()).run(lockedTarget: target)
            Issue.record("the swap did not wait for the session")
        } catch let failure as RestoreFailed {
            let elapsed = Date().timeIntervalSince(started)
            #expect(elapsed < 12, "gave up within 2 attempts of 2 s (and the copy), took \(elapsed) s")
            #expect(failure.step == "swapping the shadow copy in")
            #expect(failure.staging == StagingState(data: .previous, shadow: .removed), "\(failure.staging)")
            let text = "\(failure)"
            #expect(text.contains("the swap waited 2 times 2 s for staging's tables, which are in use by"), "\(text)")
            #expect(text.contains("connection \(applicationID) (user root, client "), "\(text)")
            #expect(text.contains("s: SELECT SLEEP(?) FROM `\(setup.scratch.name("stage"))`.`people` WHERE email <> ? LIMIT ?"),
                    "\(text)")
            #expect(text.contains("Nothing was changed: commit or end that session"), "\(text)")
            #expect(text.contains("staging is unchanged"), "\(text)")
            #expect(!text.contains("Secr3t"), "no value of the session's statement is shown")
        }
        #expect(try Self.generation(setup.scratch) == .old)
        #expect(try setup.scratch.databases() == [setup.scratch.name("src"), setup.scratch.name("stage")])
    }

    /// SIGTERM while an index build waits (here for a session reading a shadow table): the run
    /// has the server stop the statement, stops within seconds, and says staging is unchanged.
    @Test(.timeLimit(.minutes(1))) func stoppedDuringAnIndexBuildStopsWithinSeconds() throws {
        let setup = try Self.setup("myinterrupt")
        defer { setup.cleanup() }
        let run = try RunningCommand(setup.restore)
        #expect(run.waitForStderr(containing: Phase.copy.rawValue))
        let reader = try MySQLConnection(url: setup.scratch.server, database: .none)
        try reader.query("START TRANSACTION")
        try reader.query("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(setup.scratch.name("stage_snapmask_shadow"), "people"))")
        #expect(run.waitForStderr(containing: Phase.schema.rawValue))
        let monitor = try MySQLConnection(url: setup.scratch.server, database: .none)
        var waiting = false
        for _ in 0..<100 where !waiting {
            Thread.sleep(forTimeInterval: 0.05)
            waiting = try monitor.scalar("""
                SELECT COUNT(*) FROM information_schema.PROCESSLIST
                 WHERE INFO LIKE 'ALTER TABLE `people`%' AND STATE LIKE 'Waiting for table metadata lock%'
                   AND DB = \(monitor.literal(setup.scratch.name("stage_snapmask_shadow")))
                """) != "0"
        }
        #expect(waiting, "the index build waits for the reading session")
        let signalled = Date()
        run.signal(SIGTERM)
        #expect(run.waitForStderr(containing: "failed while creating indexes", timeout: 10))
        #expect(Date().timeIntervalSince(signalled) < 3, "stopped within seconds, not at the end of the wait")
        try reader.query("COMMIT")
        let result = run.wait()
        #expect(result.status == 128 + SIGTERM)
        #expect(result.stderr.contains("staging is unchanged (it holds the data from before this run); the shadow copy was "
                                           + "removed"), "\(result.stderr)")
        #expect(try Self.generation(setup.scratch) == .old)
        #expect(try setup.scratch.databases() == [setup.scratch.name("src"), setup.scratch.name("stage")])
    }

    /// The swap's connection lost while the rename waits (here ended from the server side): the
    /// run asks the server what happened, and says that staging is unchanged.
    @Test(.timeLimit(.minutes(1))) func aConnectionLostDuringTheSwapIsInspected() throws {
        let setup = try Self.setup("myswaplost", slow: false)
        defer { setup.cleanup() }
        let application = try MySQLConnection(url: setup.scratch.server, database: .none)
        try application.query("START TRANSACTION")
        try application.query("SELECT COUNT(*) FROM \(MySQLIdentifier.qualified(setup.scratch.name("stage"), "people"))")
        let outcome = ResultBox()
        let job = setup.job
        let thread = Thread { outcome.set(Result { try MySQLRestoreTests.restore(job) }) }
        thread.start()
        let monitor = try MySQLConnection(url: setup.scratch.server, database: .none)
        #expect(try Self.waitFor(renameWaiting: true, monitor, setup.scratch, timeout: 15))
        for id in try monitor.query(Self.renames(monitor, setup.scratch)) {
            try monitor.query("KILL CONNECTION \(id[0] ?? "0")")
        }
        guard case let .failure(error) = outcome.wait() else {
            Issue.record("the restore succeeded although its swap connection was lost")
            return
        }
        let failure = try #require(error as? RestoreFailed, "\(error)")
        #expect(failure.step == "swapping the shadow copy in")
        #expect(failure.staging.data == .previous && failure.staging.shadow == .removed, "\(failure.staging)")
        #expect(failure.staging.detail?.contains("the connection was lost") == true, "\(failure.staging)")
        #expect(failure.staging.detail?.contains("the server did not run the swap") == true, "\(failure.staging)")
        try application.query("COMMIT")
        #expect(try Self.generation(setup.scratch) == .old)
        #expect(try setup.scratch.databases() == [setup.scratch.name("src"), setup.scratch.name("stage")])
    }

    /// The swap batch stopped after any of its statements that changes staging is put back by
    /// its undo: the previous tables, triggers and views, the shadow's tables in the shadow.
    @Test(.timeLimit(.minutes(1))) func aBatchStoppedHalfWayIsPutBack() throws {
        let scratch = try MySQLScratch("myundo")
        defer { scratch.drop() }
        let stagingURL = try scratch.url("stage", create: true, sql: Self.stagingSQL)
        _ = try scratch.url("stage_snapmask_shadow", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(200), touched int NOT NULL DEFAULT 0);
            CREATE TABLE notes (id int PRIMARY KEY, person_id int, body text,
                                CONSTRAINT notes_person FOREIGN KEY (person_id) REFERENCES people (id));
            INSERT INTO people (id, email) SELECT seq, CONCAT('p', seq) FROM seq_1_to_300;
            """)
        _ = try scratch.url("stage_snapmask_old", create: true)
        let connection = try MySQLConnection(url: stagingURL)
        try connection.query("SET SESSION foreign_key_checks = 0")
        let trigger = MySQLTrigger(name: "people_touch", timing: "BEFORE", event: "UPDATE", table: "people",
                                   body: "SET NEW.touched = NEW.touched + 1", sqlMode: nil)
        let view = MySQLStoredObject(kind: .view, name: "people_emails", sql: "CREATE VIEW people_emails AS SELECT id, email FROM people")
        let batch = MySQLSwapBatch(database: scratch.name("stage"), shadow: scratch.name("stage_snapmask_shadow"),
                                   old: scratch.name("stage_snapmask_old"),
                                   current: try MySQLStagingCatalog.read(connection, database: scratch.name("stage")),
                                   newTables: ["notes", "people"], triggers: [trigger], routines: [], views: [view],
                                   loadSQLMode: MySQLTarget.loadSQLMode, literal: connection.literal)
        let gap = batch.statements.indices.filter { [.dropOldTriggers, .move, .createTriggers, .name].contains(batch.step(at: $0)) }
        #expect(gap.count >= 5)
        for stop in gap {
            let ran = connection.runBatch(batch.statements.prefix(stop + 1).map(\.sql))
            #expect(ran.error == nil && ran.completed == stop + 1, "\(String(describing: ran.error))")
            let undo = connection.runBatch(batch.undo(completed: stop + 1))
            #expect(undo.error == nil, "undo after statement \(stop): \(String(describing: undo.error))")
            #expect(try Self.generation(scratch) == .old, "put back after statement \(stop)")
            #expect(try scratch.rows("stage_snapmask_shadow", "SELECT COUNT(*) FROM people") == [["300"]])
        }
        let whole = connection.runBatch(batch.statements.map(\.sql))
        #expect(whole.error == nil, "\(String(describing: whole.error))")
        #expect(try scratch.rows("stage", "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")
                    == [["SET NEW.touched = NEW.touched + 1"]])
        #expect(try scratch.rows("stage_snapmask_old", "SHOW TABLES") == [["notes"], ["only_old"], ["people"]])
        #expect(try scratch.rows("stage", "SHOW FULL TABLES") == [["notes", "BASE TABLE"], ["people", "BASE TABLE"],
                                                                  ["people_emails", "VIEW"]])
    }

    /// A statement's shape keeps names and drops every literal and comment.
    @Test func statementShapesShowNoValues() {
        #expect(MySQLBlockers.statementShape("SELECT * FROM `t` WHERE email = 'a@b.c' AND n > 42 -- secret\n AND x = \"q\"")
                    == "SELECT * FROM `t` WHERE email = ? AND n > ? AND x = ?")
        #expect(MySQLBlockers.statementShape("SET PASSWORD = PASSWORD('pw'); /* 0x1F */ SELECT 0x1F, 1.5e3")
                    == "SET PASSWORD = PASSWORD(?); SELECT ?, ?")
    }

    /// The swap's RENAME of this test's staging tables in the process list (other tests swap too).
    static func renames(_ monitor: MySQLConnection, _ scratch: MySQLScratch) -> String {
        "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'RENAME TABLE%' AND INFO LIKE "
            + monitor.literal("%`\(scratch.name("stage"))`.%")
    }

    /// Polls the process list until the swap's RENAME is (or is no longer) waiting for a lock.
    static func waitFor(renameWaiting: Bool, _ monitor: MySQLConnection, _ scratch: MySQLScratch,
                        timeout: TimeInterval = 8) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            let waiting = try !monitor.query(renames(monitor, scratch)).isEmpty
            if waiting == renameWaiting { return true }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        return false
    }
}

/// Moves a connection to the thread that uses it from then on.
final class HandOffBox: @unchecked Sendable {
    let connection: MySQLConnection

    init(_ connection: MySQLConnection) {
        self.connection = connection
    }
}
