import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

@Suite struct MySQLConnectionTests {
    @Test func connectsAndQueriesThroughLibmysqlclient() throws {
        let connection = try MySQLConnection(url: try TestServers.mysql())
        #expect(!connection.serverVersion.isEmpty)
        #expect(try connection.scalar("SELECT 40 + 2") == "42")
        #expect(try connection.query("SELECT NULL, 'x'") == [[nil, "x"]])
    }

    @Test func literalsRoundTripEveryAwkwardCharacter() throws {
        let connection = try MySQLConnection(url: try TestServers.mysql())
        let awkward = "it's a \"test\"\\ with\ttab\nnewline and 😀"
        #expect(try connection.scalar("SELECT \(connection.literal(awkward))") == awkward)
        // A session where backslashes are plain characters (a server default, or an object's sql_mode).
        try connection.query("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
        #expect(try connection.scalar("SELECT \(connection.literal(awkward))") == awkward)
    }

    /// SQL files run statement by statement, split as the mysql client splits them.
    @Test func scriptsRunStatementByStatement() throws {
        let scratch = try MySQLScratch("myscript")
        defer { scratch.drop() }
        let connection = try MySQLConnection(url: try scratch.url("db", create: true))
        let changed = try connection.executeScript("""
            -- a comment; not a statement
            CREATE TABLE t (id int PRIMARY KEY, note text);  # another; comment
            INSERT INTO t VALUES (1, 'semi;colon'), (2, "it's -- not a comment"), (3, 'back\\\\'' ; quote');
            /* a block; comment */
            DELIMITER //
            CREATE PROCEDURE grow(n int)
            BEGIN
              INSERT INTO t VALUES (n, 'grown; once');
              UPDATE t SET note = CONCAT(note, '!') WHERE id = n;
            END//
            DELIMITER ;
            SELECT * FROM t;
            UPDATE t SET note = CONCAT(note, '.') WHERE id < 3
            """)
        #expect(changed == 3 + 2)
        try connection.executeScript("CALL grow(4)")
        #expect(try connection.query("SELECT id, note FROM t ORDER BY id")
                    == [["1", "semi;colon."], ["2", "it's -- not a comment."], ["3", "back\\' ; quote"], ["4", "grown; once!"]])
        // A failing statement is named by number and line; the ones before it ran.
        #expect {
            try connection.executeScript("UPDATE t SET note = 'x' WHERE id = 1;\n\nUPDATE t SET missing = 1;\nDELETE FROM t")
        } throws: { error in
            "\(error)".hasPrefix("statement 2 (line 3): Unknown column 'missing'")
        }
        #expect(try connection.query("SELECT COUNT(*), SUM(note = 'x') FROM t") == [["4", "1"]])
    }

    @Test func refusedConnectionDoesNotShowThePassword() throws {
        let url = try ConnectionString("mysql://reader:Sup3rSecretPw@127.0.0.1:1/app")
        do {
            _ = try MySQLConnection(url: url, connectTimeout: 2)
            Issue.record("connecting to a closed port succeeded")
        } catch {
            #expect(!"\(error)".contains("Sup3rSecretPw"))
            #expect("\(error)".contains("127.0.0.1"))
        }
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() throws {
        let scratch = try MySQLScratch("mypw")
        defer { scratch.drop() }
        _ = try scratch.url("db", create: true)
        let account = try scratch.account("pw", suffix: "db", grants: ["SELECT ON `\(scratch.name("db"))`.*"])
        let wrong = try ConnectionString(account.raw.replacingOccurrences(of: "Scr4tch-pw", with: "Wr0ngS3cret"))
        do {
            _ = try MySQLConnection(url: wrong)
            Issue.record("a wrong password was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("Access denied") && text.contains("cannot connect to mysql://"))
            #expect(!text.contains("Wr0ngS3cret") && !text.contains("Scr4tch-pw"), "\(text)")
        }
    }

    @Test func previewShowsTheFirstRowsAsText() throws {
        let scratch = try MySQLScratch("mypreview")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: """
            CREATE TABLE t (id int PRIMARY KEY, email varchar(100), raw varbinary(4), f float);
            INSERT INTO t VALUES (1, 'a@corp.example.org', UNHEX('00FF'), 0.1), (2, NULL, NULL, NULL), (3, 'c', '', 1);
            """)
        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              t: { where: "id < 3", columns: { id: keep, email: email, raw: keep, f: keep } }
            """, source: source)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let engine = MySQLEngine(job: database)
        let schema = try engine.inspectSource()
        let plan = TablePlan(table: try #require(schema.table(named: "t")), rule: schema.rule(for: try #require(schema.table(named: "t")), in: rules))
        #expect(try engine.previewRows(plan, limit: 5) == [["1", "a@corp.example.org", "0x00FF", "0.1"],
                                                          ["2", nil, nil, nil]])
    }
}
