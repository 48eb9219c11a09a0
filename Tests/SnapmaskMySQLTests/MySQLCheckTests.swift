import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// `check` compares the rules with the real schema and fails closed.
@Suite struct MySQLCheckTests {
    @Test func everyKindOfMismatchIsListedWithTableAndColumn() throws {
        let scratch = try MySQLScratch("mycheck")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(20) UNIQUE, age int, born date NOT NULL,
                                 nick varchar(40) UNIQUE, photo blob, code text, doc json, active tinyint(1),
                                 label varchar(80) AS (CONCAT(nick, '!')) VIRTUAL);
            CREATE TABLE unruled (id int);
            CREATE VIEW people_view AS SELECT id FROM people;
            """)
        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              people:
                columns:
                  id: keep
                  email: email
                  age: email
                  born: null
                  nick: first_name
                  photo: lorem
                  doc: { transform: json, paths: { a: email } }
                  active: keep
                  label: lorem
                  gone: keep
              missing: { data: skip }
            """)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let schema = try MySQLEngine(job: database).inspectSource()
        let problems = SchemaCheck.problems(rules: rules, schema: schema).map(\.description)
        let expected = [
            "unruled: table has no rule",
            "missing: the rule names a table the source does not have",
            "people.gone: the rule names a column the table does not have",
            "people.email: email can write up to",
            "people.age: email writes text values and cannot fill a int",
            "people.born: the null transformer cannot write NOT NULL column",
            "people.nick: column is under a unique index on (nick) but first_name cannot promise distinct outputs",
            "people.photo: lorem writes text values and cannot fill a blob column",
            "people.label: a generated column is computed by the database",
            "people.code: column has no rule (text)",
        ]
        for prefix in expected {
            #expect(problems.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nfound: \(problems)")
        }
        #expect(problems.count == expected.count, "\(problems)")
        // Views are not tables to rule; JSON is JSON on MariaDB too; tinyint(1) is a boolean.
        let people = try #require(schema.table(named: "people"))
        #expect(schema.tables.map(\.name) == ["people", "unruled"])
        #expect(people.column(named: "doc")?.category == .json)
        #expect(people.column(named: "active")?.category == .boolean)
        #expect(people.column(named: "email")?.maxLength == 20)
        #expect(people.uniqueKeys.sorted { $0[0] < $1[0] } == [["email"], ["id"], ["nick"]])
        #expect(people.primaryKey == ["id"])
    }

    /// The server takes geometries only as geometry objects: a transformer's text (or a constant)
    /// would fail the load, so check refuses it naming table, column, type and what fits.
    @Test func spatialColumnsTakeOnlyKeepOrNull() throws {
        let scratch = try MySQLScratch("myspatial")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE places (id int PRIMARY KEY, spot point NOT NULL, area polygon, route linestring, home geometry,
                                 SPATIAL INDEX (spot));
            INSERT INTO places VALUES
              (1, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))'),
               ST_GeomFromText('LINESTRING(0 0,2 2)'), ST_GeomFromText('POINT(3 4)')),
              (2, ST_GeomFromText('POINT(5 6)'), NULL, NULL, NULL);
            """)
        _ = try scratch.url("stage", create: true)
        let refused = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              places:
                columns:
                  id: keep
                  spot: null
                  area: lorem
                  route: { transform: constant, value: "LINESTRING(0 0, 1 1)" }
                  home: hash
            """)
        defer { refused.remove() }
        let (database, rules) = try refused.database("app")
        let schema = try MySQLEngine(job: database).inspectSource()
        #expect(schema.table(named: "places")?.columns.map(\.category) == [.number, .spatial, .spatial, .spatial, .spatial])
        #expect(SchemaCheck.problems(rules: rules, schema: schema).map(\.description) == [
            "places.spot: the null transformer cannot write NOT NULL column (point); use keep (a spatial column takes only "
                + "keep or null)",
            "places.area: lorem writes text, which a spatial column (polygon) does not accept; use keep or null",
            "places.route: constant writes text, which a spatial column (linestring) does not accept; use keep or null",
            "places.home: hash writes text, which a spatial column (geometry) does not accept; use keep or null",
        ])
        // A restore stops at the check: nothing is created on the staging server.
        #expect(throws: CheckFailed.self) { try MySQLRestoreTests.restore(refused) }
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
                    == [["0"]])

        // keep and null fit: kept geometries arrive byte for byte, nulled ones are NULL.
        let fitting = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              places: { columns: { id: keep, spot: keep, area: null, route: keep, home: null } }
            """)
        defer { fitting.remove() }
        #expect(try MySQLRestoreTests.restore(fitting).outcome == "swapped")
        #expect(try scratch.rows("stage", "SELECT id, HEX(spot), area, HEX(route), home FROM places ORDER BY id")
                    == scratch.rows("src", "SELECT id, HEX(spot), NULL, HEX(route), NULL FROM places ORDER BY id"))
    }

    /// An invisible column (left out of SELECT *) is a column like any other: it needs a rule,
    /// and its masked values are what staging gets.
    @Test func invisibleColumnsNeedARuleAndAreMasked() throws {
        let scratch = try MySQLScratch("myinvisible")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE accounts (id int PRIMARY KEY, ssn varchar(20) INVISIBLE);
            INSERT INTO accounts (id, ssn) VALUES (1, '078-05-1120'), (2, '219-09-9999');
            """)
        _ = try scratch.url("stage", create: true)
        let unruled = try MySQLRestoreTests.job(scratch, rules: "tables:\n  accounts: { columns: { id: keep } }\n")
        defer { unruled.remove() }
        #expect {
            try MySQLRestoreTests.restore(unruled)
        } throws: { error in
            (error as? CheckFailed)?.problems.map(\.description) == [
                "accounts.ssn: column has no rule (varchar(20)); add `ssn: keep` if it holds no personal data, or a transformer"]
        }
        let ruled = try MySQLRestoreTests.job(scratch, rules: "tables:\n  accounts: { columns: { id: keep, ssn: ssn } }\n")
        defer { ruled.remove() }
        #expect(try MySQLRestoreTests.restore(ruled).outcome == "swapped")
        let staged = try scratch.rows("stage", "SELECT id, ssn FROM accounts ORDER BY id")
        #expect(staged.count == 2 && staged.allSatisfy { $0[1] != nil && $0[1] != "078-05-1120" && $0[1] != "219-09-9999" })
        #expect(try scratch.rows("stage", "SELECT EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                                     + "AND COLUMN_NAME = 'ssn'") == [["INVISIBLE"]])
    }

    @Test func tablesItCannotRestoreAreNamedNotLeftOut() throws {
        let scratch = try MySQLScratch("myseq")
        defer { scratch.drop() }
        let connection = try MySQLConnection(url: try scratch.url("src", create: true))
        guard connection.isMariaDB else { return }  // sequences are MariaDB's
        try connection.executeScript("CREATE TABLE t (id int PRIMARY KEY); CREATE SEQUENCE invoice_numbers;")
        let job = try MySQLRestoreTests.job(scratch, rules: "tables:\n  t: { columns: { id: keep } }\n")
        defer { job.remove() }
        let (database, _) = try job.database("app")
        #expect {
            try MySQLEngine(job: database).inspectSource()
        } throws: { error in
            "\(error)".contains("cannot restore yet: invoice_numbers (sequence)")
        }
    }
}
