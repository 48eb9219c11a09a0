import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// A `where:` condition runs on the source inside one SELECT, in a session that cannot write: a
/// second statement smuggled into it never runs, and a function it calls cannot write. Checked on
/// every path that evaluates it: parallel readers, the one-connection fallback, the leak check's
/// sample and preview.
@Suite struct MySQLReadOnlySourceTests {
    static let sourceSQL = """
        CREATE TABLE people (id int PRIMARY KEY, email varchar(100));
        INSERT INTO people VALUES (1, 'a@corp.example.org'), (2, 'b@corp.example.org');
        CREATE TABLE victim (id int PRIMARY KEY);
        INSERT INTO victim VALUES (1);
        CREATE TABLE written (v int);
        CREATE TABLE written_myisam (v int) ENGINE=MyISAM;
        DELIMITER //
        CREATE FUNCTION note_row() RETURNS int MODIFIES SQL DATA
        BEGIN
          INSERT INTO written VALUES (1);
          RETURN 1;
        END//
        -- Tries to make its own transaction writable first, and writes where no transaction is.
        CREATE FUNCTION note_row_myisam() RETURNS int MODIFIES SQL DATA
        BEGIN
          SET SESSION TRANSACTION READ WRITE;
          INSERT INTO written_myisam VALUES (1);
          RETURN 1;
        END//
        DELIMITER ;
        """

    static let rules = """
        tables:
          people: { where: "id > 0", columns: { id: keep, email: { transform: email, unique: true } } }
          victim: { columns: { id: keep } }
          written: { columns: { v: keep } }
          written_myisam: { columns: { v: keep } }
        """

    /// The job's rules with `condition` as the where: of `table`, compiled without going through
    /// the rule file's reader: the driver has to be safe by itself.
    static func rules(_ job: TestJob, where condition: String, table: String = "people") throws -> (DatabaseJob, CompiledRules) {
        let file = try job.load()
        let database = try file.database(named: "app")
        var rules = database.rules
        let index = try #require(rules.tables.firstIndex { $0.name == table })
        rules.tables[index].whereClause = condition
        return (database, try CompiledRules.compile(rules, key: file.maskingKey))
    }

    /// What each path that evaluates people's where: said (its error, or "succeeded").
    static func everyPath(_ scratch: MySQLScratch, writer: ConnectionString, where condition: String) throws -> [String: String] {
        var outcomes: [String: String] = [:]
        func attempt(_ path: String, _ body: () throws -> Void) {
            do {
                try body()
                outcomes[path] = "succeeded"
            } catch {
                outcomes[path] = "\(error)"
            }
        }
        func restore(_ job: TestJob, jobs: Int, expecting notice: String) throws {
            let (database, rules) = try Self.rules(job, where: condition)
            let observer = RecordingObserver()
            defer {
                #expect(observer.phases.contains { $0.contains(notice) }, "\(observer.phases)")
            }
            _ = try RestoreRunner(database: database, engine: MySQLEngine(job: database), rules: rules,
                                  options: RestoreOptions(jobs: jobs), observer: observer).run()
        }

        let job = try MySQLRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }
        attempt("parallel readers") { try restore(job, jobs: 3, expecting: "sharing one snapshot") }

        let fallback = try MySQLRestoreTests.job(scratch, rules: Self.rules, source: writer)
        defer { fallback.remove() }
        attempt("one connection") { try restore(fallback, jobs: 3, expecting: "ONE connection") }

        let (database, rules) = try Self.rules(job, where: condition)
        let source = try MySQLSource(url: database.source, readers: 1)
        defer { source.close() }
        let plan = try #require(RestorePlan.make(rules: rules, schema: source.schema).table(named: "people"))
        attempt("leak-check sample") { _ = try source.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 10) }
        attempt("preview") { _ = try MySQLEngine(job: database).previewRows(plan, limit: 10) }
        return outcomes
    }

    /// May write and drop, but neither LOCK TABLES nor RELOAD: tables are read on one connection.
    static func writer(_ scratch: MySQLScratch) throws -> ConnectionString {
        let admin = try MySQLConnection(url: scratch.server, database: .none)
        return try scratch.account("rw", suffix: "src", grants: [
            "SELECT, INSERT, UPDATE, DELETE, DROP, SHOW VIEW, EXECUTE ON `\(scratch.name("src"))`.*",
            admin.isMariaDB ? "SELECT ON mysql.proc" : "SHOW_ROUTINE ON *.*",
        ])
    }

    @Test func aSecondStatementInAWhereNeverRuns() throws {
        let scratch = try MySQLScratch("myinject")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let outcomes = try Self.everyPath(scratch, writer: try Self.writer(scratch), where: "id > 0); DROP TABLE victim; SELECT (1")
        #expect(outcomes.count == 4)
        for (path, outcome) in outcomes {
            #expect(outcome != "succeeded", "\(path)")
        }
        #expect(try scratch.rows("src", "SELECT id FROM victim") == [["1"]])
        #expect(try scratch.databases() == [scratch.name("src")], "no shadow copy, nothing in staging")
    }

    @Test func aWhereThatWritesFailsAsReadOnly() throws {
        let scratch = try MySQLScratch("mywrite")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let writer = try Self.writer(scratch)
        for function in ["note_row", "note_row_myisam"] {
            let outcomes = try Self.everyPath(scratch, writer: writer, where: "\(function)() = 1")
            #expect(outcomes.count == 4)
            for (path, outcome) in outcomes {
                #expect(outcome.contains("READ ONLY transaction") && outcome.contains("1792"), "\(function), \(path): \(outcome)")
            }
        }
        #expect(try scratch.rows("src", "SELECT (SELECT COUNT(*) FROM written), (SELECT COUNT(*) FROM written_myisam)")
                    == [["0", "0"]])
        #expect(try scratch.databases() == [scratch.name("src")])
    }

    /// A where: that closes the SELECT's parenthesis could append rows of another table (UNION) to a
    /// table whose columns are kept, past that table's own rules: it is refused before it runs.
    @Test func aWhereCannotAddRowsFromAnotherTable() throws {
        let scratch = try MySQLScratch("myunion")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE notes (id int PRIMARY KEY, note varchar(200));
            INSERT INTO notes VALUES (1, 'a public note');
            CREATE TABLE accounts (id int PRIMARY KEY, ssn varchar(20));
            INSERT INTO accounts VALUES (7, '078-05-1120');
            """)
        let rules = """
            tables:
              notes: { where: "id > 0", columns: { id: keep, note: keep } }
              accounts: { columns: { id: keep, ssn: ssn } }
            """
        let job = try MySQLRestoreTests.job(scratch, rules: rules)
        defer { job.remove() }
        let attempts = [
            "id > 0) UNION ALL SELECT id, ssn FROM accounts WHERE (1",
            "id > 0) UNION ALL SELECT id, ssn FROM accounts -- the closing parenthesis is commented out",
            "id > 0) UNION ALL SELECT id, ssn FROM accounts #",
            "id > 0 /*!) UNION ALL SELECT id, ssn FROM accounts WHERE (1 */",
            "id > 0 /*M!) UNION ALL SELECT id, ssn FROM accounts WHERE (1 */",
        ]
        for condition in attempts {
            let (database, compiled) = try Self.rules(job, where: condition, table: "notes")
            #expect {
                try RestoreRunner(database: database, engine: MySQLEngine(job: database), rules: compiled,
                                  options: RestoreOptions(jobs: 2), observer: RecordingObserver()).run()
            } throws: { error in
                "\(error)".contains("the where: condition of notes is not one condition")
            }
            let source = try MySQLSource(url: database.source, readers: 1)
            defer { source.close() }
            let plan = try #require(RestorePlan.make(rules: compiled, schema: source.schema).table(named: "notes"))
            #expect(throws: MySQLError.self) { try source.sampleRows(plan, keyColumns: ["id"], column: "note", limit: 5) }
            #expect(throws: MySQLError.self) { try MySQLEngine(job: database).previewRows(plan, limit: 5) }
            #expect(try scratch.databases() == [scratch.name("src")], "nothing reached staging")
        }
        // Parentheses that balance, subqueries, strings and comments holding parentheses are one condition.
        let (database, fine) = try Self.rules(job, where: """
            (id > 0 AND note <> ')') OR id IN (SELECT a.id FROM accounts a WHERE a.ssn LIKE '%(%') -- (
            """, table: "notes")
        let report = try RestoreRunner(database: database, engine: MySQLEngine(job: database), rules: fine,
                                       options: RestoreOptions(jobs: 2), observer: RecordingObserver()).run()
        #expect(report.outcome == "swapped")
        #expect(try scratch.rows("stage", "SELECT id, note FROM notes") == [["1", "a public note"]])
    }

    /// Multi-statement mode is off on every connection, and running an SQL file does not turn it on.
    @Test func noConnectionRunsTwoStatementsAtOnce() throws {
        let scratch = try MySQLScratch("mymulti")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let source = try MySQLSource.connect(url, purpose: "test")
        #expect(throws: MySQLError.self) { try source.query("SELECT 1; DROP TABLE victim") }
        let target = try MySQLConnection(url: url)
        try target.executeScript("UPDATE written SET v = 2; SELECT 1; UPDATE written SET v = 3")
        #expect(throws: MySQLError.self) { try target.query("SELECT 1; DROP TABLE victim") }
        #expect(try scratch.rows("src", "SELECT id FROM victim") == [["1"]])
    }
}
