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

    @Test func uniqueExpressionIndexesGuardTheColumnsTheyRead() throws {
        let scratch = try PostgresScratch("pgcheckexpr")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, "LastName" text, email text, status text, tenant int, code text,
                                 nickname text);
            CREATE UNIQUE INDEX people_last_name_ci ON people (lower("LastName"));
            -- Partial: the predicate's column (status) is not part of the key.
            CREATE UNIQUE INDEX people_email_ci ON people (lower(email)) WHERE status <> 'gone';
            CREATE UNIQUE INDEX people_tenant_code ON people (tenant, upper(code));
            -- INCLUDE columns take no part in uniqueness.
            CREATE UNIQUE INDEX people_id_with_nickname ON people (id) INCLUDE (nickname);
            INSERT INTO people VALUES (1, 'Smith', 'a@corp.example.org', 'active', 1, 'x', 'Smitty'),
                                      (2, 'Jones', 'b@corp.example.org', 'active', 1, 'y', 'Smitty');
            """)
        let job = try PostgresRestoreTests.job(scratch, rules: """
            tables:
              people:
                columns:
                  id: keep
                  LastName: last_name
                  email: { transform: email, unique: true }
                  status: lorem
                  tenant: { transform: number_noise, percent: 10 }
                  code: keep
                  nickname: first_name
            """)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let problems = SchemaCheck.problems(rules: rules, schema: try PostgresEngine(job: database).inspectSource())
            .map(\.description)
        #expect(problems == [
            #"public.people.LastName: column is read by unique index people_last_name_ci on (lower("LastName")) but "#
                + "last_name cannot promise distinct outputs, so the index would fail after the copy; use a transformer "
                + "that can (email, hash, uuid, username, phone, digits, ...)",
            "public.people.tenant: column is read by unique index people_tenant_code on (tenant, upper(code)) but "
                + "number_noise cannot promise distinct outputs, so the index would fail after the copy; use a transformer "
                + "that can (email, hash, uuid, username, phone, digits, ...)",
        ])
        // The restore refuses up front: nothing is copied only to fail on the index.
        #expect {
            try PostgresRestoreTests.restore(job)
        } throws: { error in
            error is CheckFailed && "\(error)".contains("people_last_name_ci")
        }
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])
    }
}
