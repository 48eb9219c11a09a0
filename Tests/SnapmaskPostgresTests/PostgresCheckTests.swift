import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// `check` compares the rules with the real schema and fails closed.
@Suite struct PostgresCheckTests {
    @Test func everyKindOfMismatchIsListedWithTableAndColumn() throws {
        let scratch = try PostgresScratch("pgcheck")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(20) UNIQUE, age int, born date NOT NULL,
                                 nick text UNIQUE, tags text[], code text);
            CREATE TABLE unruled (id int);
            """)
        let job = try PostgresRestoreTests.job(scratch, rules: """
            tables:
              people:
                columns:
                  id: keep
                  email: email
                  age: email
                  born: null
                  nick: first_name
                  tags: lorem
                  gone: keep
              public.missing: { data: skip }
            """)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let problems = SchemaCheck.problems(rules: rules, schema: try PostgresEngine(job: database).inspectSource())
            .map(\.description)
        let expected = [
            "public.unruled: table has no rule",
            "public.missing: the rule names a table the source does not have",
            "public.people.gone: the rule names a column the table does not have",
            "public.people.email: email can write up to",
            "public.people.age: email writes text values and cannot fill a integer column",
            "public.people.born: the null transformer cannot write NOT NULL column",
            "public.people.nick: column is under a unique index on (nick) but first_name cannot promise distinct outputs",
            "public.people.tags: column is an array (text[]); add array: true",
            "public.people.code: column has no rule (text)",
        ]
        for prefix in expected {
            #expect(problems.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nfound: \(problems)")
        }
        #expect(problems.count == expected.count, "\(problems)")
    }
}
