import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// Whatever goes wrong before the swap, staging stays exactly as it was and no shadow is left:
/// what only MySQL goes through (values the server would cut, foreign keys and checks it enforces
/// on the load, overrides on live staging). The scenarios every engine shares are EngineFailureTests.
@Suite struct MySQLFailureTests {
    @Test func valueTooLongForTheColumnFailsTheLoadInsteadOfBeingCut() throws {
        let scratch = try MySQLScratch("mytrunc")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE short (id int PRIMARY KEY, code varchar(3));
            INSERT INTO short VALUES (1, 'abc'), (2, 'xyz');
            """)
        try MySQLFailureFixture.markStaging(scratch)
        // constant has no length limit the check knows of: the server must not cut it silently.
        let job = try scratch.job(rules: """
            tables:
              short: { columns: { id: keep, code: { transform: constant, value: "much too long" } } }
            """)
        defer { job.remove() }
        #expect {
            try job.restore()
        } throws: { error in
            "\(error)".contains("loading short into the shadow copy") && "\(error)".contains("code")
        }
        try MySQLFailureFixture.expectStagingUntouched(scratch)
    }

    @Test func foreignKeyBrokenByAWhereFailsBeforeTheSwap() throws {
        let scratch = try MySQLScratch("myorphan")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE parent (id int PRIMARY KEY, made date NOT NULL);
            CREATE TABLE child (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id));
            INSERT INTO parent VALUES (1, '2020-01-01'), (2, '2026-01-01');
            INSERT INTO child VALUES (1, 1), (2, 2), (3, NULL);
            """)
        try MySQLFailureFixture.markStaging(scratch)
        let job = try scratch.job(rules: """
            tables:
              parent: { where: "made > '2025-01-01'", columns: { id: keep, made: keep } }
              child: { columns: { id: keep, parent_id: keep } }
            """)
        defer { job.remove() }
        #expect {
            try job.restore()
        } throws: { error in
            guard let failure = error as? RestoreFailed else { return false }
            return failure.step == "creating indexes, constraints and triggers"
                && failure.underlying.contains("child: 1 rows refer to parent rows that were not copied")
        }
        try MySQLFailureFixture.expectStagingUntouched(scratch)
    }

    @Test func maskedValueThatBreaksACheckConstraintFailsTheLoad() throws {
        let scratch = try MySQLScratch("mycheckc")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE coded (id int PRIMARY KEY, code varchar(20) CHECK (code LIKE 'A%'), doc json,
                                CONSTRAINT positive CHECK (id > 0));
            INSERT INTO coded VALUES (1, 'A1', '{"e": "a@corp.example.org"}'), (2, 'A2', NULL);
            """)
        try MySQLFailureFixture.markStaging(scratch)
        // The JSON column's check (MariaDB) and the check on kept id hold by construction: fine.
        let fine = try scratch.job(rules: """
            tables:
              coded: { columns: { id: keep, code: keep, doc: { transform: json, paths: { e: email } } } }
            """)
        defer { fine.remove() }
        _ = try fine.restore()
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM coded") == [["2"]])
        // A masked value the check refuses must not reach staging.
        let broken = try scratch.job(rules: """
            tables:
              coded: { columns: { id: keep, code: { transform: constant, value: "B" }, doc: keep } }
            """)
        defer { broken.remove() }
        #expect {
            try broken.restore()
        } throws: { error in
            "\(error)".contains("loading coded into the shadow copy")
        }
        #expect(try scratch.rows("stage", "SELECT code FROM coded ORDER BY id") == [["A1"], ["A2"]])
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")])
    }

    @Test func overridesRollBackTogetherOnLiveStaging() throws {
        let scratch = try MySQLScratch("myoverlive")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: MySQLFailureFixture.sourceSQL)
        _ = try scratch.url("stage", create: true, sql: MySQLFailureFixture.stagingSQL + """
            CREATE TABLE flags (name varchar(40) PRIMARY KEY, enabled tinyint(1), note text);
            INSERT INTO flags VALUES ('a', 0, NULL), ('b', 0, NULL);
            """)
        let job = try scratch.job(rules: MySQLFailureFixture.rules(), overrides: """
            - table: flags
              set: { enabled: true, note: "it's \\"quoted\\"; DROP TABLE flags; --" }
              where: "name = 'a'"
            - table: flags
              set: { note: { sql: "CONCAT('by ', 'expression')" } }
              where: "name = 'b'"
            """, source: source)
        defer { job.remove() }
        let (database, _) = try job.database("app")
        let outcomes = try MySQLEngine(job: database).applyOverridesToStaging(database.overrides)
        #expect(outcomes.map(\.rowsAffected) == [1, 1])
        #expect(try scratch.rows("stage", "SELECT name, enabled, note FROM flags ORDER BY name")
                    == [["a", "1", "it's \"quoted\"; DROP TABLE flags; --"], ["b", "0", "by expression"]])
        // A failing step takes the earlier ones back.
        let failing = try scratch.job(rules: MySQLFailureFixture.rules(), overrides: """
            - table: flags
              set: { enabled: false }
            - sql: broken.sql
            """, source: source)
        defer { failing.remove() }
        try failing.write("broken.sql", "UPDATE flags SET note = 'sql file'; UPDATE flags SET nothing = 1;")
        let (broken, _) = try failing.database("app")
        #expect(throws: MySQLError.self) { try MySQLEngine(job: broken).applyOverridesToStaging(broken.overrides) }
        #expect(try scratch.rows("stage", "SELECT name, enabled, note FROM flags ORDER BY name")
                    == [["a", "1", "it's \"quoted\"; DROP TABLE flags; --"], ["b", "0", "by expression"]])
    }
}
