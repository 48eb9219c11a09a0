import Foundation
@testable import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// A `where:` is exactly one SQL condition: refused at parse time when it could end the
/// statement, sent with the extended protocol (one statement per call) anyway, and run in
/// read-only transactions on every source session.
@Suite struct PostgresWhereTests {
    static let sourceSQL = """
        CREATE TABLE big (id int PRIMARY KEY, email text);
        INSERT INTO big SELECT g, 'person' || g || '@corp.example.org' FROM generate_series(1, 300) g;
        CREATE TABLE audit (at timestamptz DEFAULT now());
        CREATE SEQUENCE tickets;
        CREATE FUNCTION bump() RETURNS boolean LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO audit DEFAULT VALUES; RETURN true; END $$;
        """

    /// The condition as a YAML block, so it reaches the rules exactly as written here.
    static func rules(where condition: String) -> String {
        """
        tables:
          public.big:
            where: |-
              \(condition)
            columns: { id: keep, email: { transform: email, unique: true } }
          public.audit: { data: skip }
        """
    }

    static let injected = "true)) TO STDOUT; SELECT pg_sleep(0) --"
    /// Conditions that close the reading statement and open a valid second one, for the COPY of
    /// a table and for the leak check's sample.
    static let secondCopy = "true)) TO STDOUT; COPY (SELECT 1 WHERE (true"
    static let secondSelect = "true) ORDER BY 1 LIMIT 1; SELECT 1, 'x' WHERE (true"

    @Test func aSemicolonOutsideQuotesIsRefusedWhenTheRulesAreRead() throws {
        do {
            _ = try RuleSet.parse(Self.rules(where: Self.injected), file: "rules.yaml")
            Issue.record("a where: holding a second statement was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("rules.yaml:3:"), "\(text)")
            #expect(text.contains("the where: of table 'public.big' holds a ';' outside a quoted string"), "\(text)")
        }
        // Each way to hide a ';' from a scanner that knows only '…' is refused too.
        for hidden in [#"email = 'a\'; SELECT 1; --'"#, "email = $q$x$q$; SELECT 1", "x$$y$ ; $y$ = 1",
                       "a = 1 /* nested /* */ ; */ ; SELECT 1", #""quoted" = 1; SELECT 1"#] {
            #expect("\(hidden)") {
                try RuleSet.parse(Self.rules(where: hidden), file: "rules.yaml")
            } throws: { error in
                "\(error)".contains("holds a ';' outside a quoted string")
            }
        }
        // A ';' inside a literal, a quoted name, a dollar quote or a comment is part of the condition.
        for fine in ["email <> 'a;b'", #"email <> E'it\'s; fine'"#, "email <> $$x;y$$", "email <> $t$;$t$",
                     "id > 0 -- no; statement here", "id > 0 /* ; */", #""semi;colon" IS NULL"#] {
            let parsed = try RuleSet.parse(Self.rules(where: fine), file: "rules.yaml")
            #expect(parsed.table(named: "public.big")?.whereClause?.contains(";") == true, "\(fine)")
        }
    }

    /// A plan whose where: never went through the rule file parser.
    static func plan(_ scratch: PostgresScratch, where condition: String) throws -> (PostgresEngine, TablePlan) {
        let job = try PostgresRestoreTests.job(scratch, rules: rules(where: "true"))
        defer { job.remove() }
        let (database, compiled) = try job.database("app")
        let engine = PostgresEngine(job: database)
        let table = try #require(try engine.inspectSource().table(named: "public.big"))
        var rule = try #require(compiled.table(named: "public.big")).rule
        rule.whereClause = condition
        let compiledTable = CompiledTable(rule: rule, columns: try #require(compiled.table(named: "public.big")).columns,
                                          kind: .tables)
        return (engine, TablePlan(table: table, rule: compiledTable))
    }

    @Test func theServerRunsOneStatementPerCallWhateverTheConditionHolds() throws {
        let scratch = try PostgresScratch("pgonestatement")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let (engine, plan) = try Self.plan(scratch, where: Self.secondCopy)
        let (_, samplePlan) = try Self.plan(scratch, where: Self.secondSelect)
        func refusedAsSecondStatement(_ error: any Error) -> Bool {
            (error as? PostgresError)?.sqlState == "42601" && "\(error)".contains("cannot insert multiple commands")
        }
        #expect { try engine.previewRows(plan, limit: 5) } throws: { refusedAsSecondStatement($0) }
        let snapshot = try PostgresSource(url: source)
        defer { snapshot.close() }
        #expect { try snapshot.makeReader(for: plan).next() } throws: { refusedAsSecondStatement($0) }
        #expect {
            try snapshot.sampleRows(samplePlan, keyColumns: ["id"], column: "email", limit: 10)
        } throws: { refusedAsSecondStatement($0) }
    }

    @Test func aConditionThatWritesFailsAsReadOnlyEverywhere() throws {
        let scratch = try PostgresScratch("pgreadonly")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        _ = try scratch.url("stage")
        func readOnly(_ error: any Error) -> Bool { "\(error)".contains("read-only transaction") }

        for condition in ["bump()", "nextval('tickets') > 0"] {
            let (engine, plan) = try Self.plan(scratch, where: condition)
            #expect { try engine.previewRows(plan, limit: 5) } throws: { readOnly($0) }
            let snapshot = try PostgresSource(url: source)
            #expect { try snapshot.makeReader(for: plan).next() } throws: { readOnly($0) }
            #expect { try snapshot.sampleRows(plan, keyColumns: [], column: "email", limit: 10) } throws: { readOnly($0) }
            snapshot.close()

            let job = try PostgresRestoreTests.job(scratch, rules: Self.rules(where: condition))
            defer { job.remove() }
            #expect { try PostgresRestoreTests.restore(job) } throws: { readOnly($0) }
        }
        #expect(try scratch.rows("src", "SELECT count(*) FROM audit") == [["0"]])
        #expect(try scratch.rows("src", "SELECT last_value::text, is_called::text FROM tickets") == [["1", "false"]])
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])

        // Reading settings inside the condition is no write: it works.
        let (engine, plan) = try Self.plan(scratch, where: "id <= 3 AND (SELECT 1 FROM pg_catalog.set_config('snapmask.probe', 'y', false)) = 1")
        #expect(try engine.previewRows(plan, limit: 5).map { $0[0] } == ["1", "2", "3"])
    }
}
