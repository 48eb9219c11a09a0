import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// Foreign servers, user mappings and foreign tables are live links out of production: `check`
/// fails on them, and with `foreign_data: skip` they (and the views on them) never reach staging.
@Suite struct PostgresForeignDataTests {
    static let password = "Fdw-Pr0d-S3cret-Pw"

    /// A server pointing back at the test server itself, so the link is real.
    static func sourceSQL(_ server: ConnectionString, database: String) -> String {
        """
        CREATE EXTENSION postgres_fdw;
        CREATE TABLE people (id int PRIMARY KEY, email text NOT NULL);
        INSERT INTO people SELECT g, 'person' || g || '@corp.example.org' FROM generate_series(1, 50) g;
        CREATE SERVER prod_link FOREIGN DATA WRAPPER postgres_fdw
            OPTIONS (host '\(server.primaryHost.host)', port '\(server.primaryHost.port ?? 5432)', dbname '\(database)');
        COMMENT ON SERVER prod_link IS 'reaches production';
        GRANT USAGE ON FOREIGN SERVER prod_link TO PUBLIC;
        CREATE USER MAPPING FOR CURRENT_USER SERVER prod_link OPTIONS (user 'reader', password '\(password)');
        CREATE USER MAPPING FOR PUBLIC SERVER prod_link OPTIONS (user 'nobody', password '\(password)-public');
        CREATE FOREIGN TABLE remote_people (id int, email text) SERVER prod_link OPTIONS (table_name 'people');
        COMMENT ON FOREIGN TABLE remote_people IS 'people, live';
        CREATE VIEW remote_emails AS SELECT email FROM remote_people;
        CREATE MATERIALIZED VIEW remote_email_count AS SELECT count(*) FROM remote_emails WITH NO DATA;
        CREATE VIEW local_emails AS SELECT email FROM people;
        """
    }

    static func rules(foreignData: String? = nil, extra: String = "") -> String {
        (foreignData.map { "foreign_data: \($0)\n" } ?? "") + """
            tables:
              public.people:
                columns: { id: keep, email: { transform: email, unique: true } }
            \(extra)
            """
    }

    func makeSource(_ scratch: PostgresScratch) throws -> ConnectionString {
        let source = try scratch.url("src", create: true)
        try PostgresConnection(url: source).execute(Self.sourceSQL(scratch.server, database: "\(scratch.prefix)_src"))
        return source
    }

    @Test func checkFailsNamingEveryServerMappingAndForeignTableButNoPassword() throws {
        let scratch = try PostgresScratch("pgfdwcheck")
        defer { scratch.drop() }
        _ = try makeSource(scratch)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules())
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let user = try #require(try scratch.rows("src", "SELECT current_user::text").first?.first ?? nil)
        let problems = SchemaCheck.problems(rules: rules, schema: try PostgresEngine(job: database).inspectSource())
            .map(\.description)
        let expected = [
            "foreign server prod_link: a link from the source to another database",
            "user mapping for \(user) on server prod_link: may hold a password for that server",
            "user mapping for public on server prod_link: may hold a password for that server",
            "public.remote_people: a foreign table on server prod_link",
        ]
        for prefix in expected {
            #expect(problems.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nfound: \(problems)")
        }
        #expect(problems.count == expected.count, "\(problems)")
        #expect(problems.allSatisfy { $0.contains("set `foreign_data: skip` at the top of") })
        #expect(problems.contains { $0.contains("view public.remote_emails") && $0.contains("materialized view public.remote_email_count") })
        #expect(!problems.joined().contains(Self.password) && !problems.joined().contains("reader'"))

        // The restore stops at the same check, before anything is written.
        #expect {
            try PostgresRestoreTests.restore(job)
        } throws: { error in
            error is CheckFailed && !"\(error)".contains(Self.password)
        }
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"])
    }

    @Test func aRuleForAForeignTableIsAnErrorPointingToSkip() throws {
        let scratch = try PostgresScratch("pgfdwrule")
        defer { scratch.drop() }
        _ = try makeSource(scratch)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules(foreignData: "skip", extra: """
              remote_people:
                columns: { id: keep, email: email }
            """))
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let problems = SchemaCheck.problems(rules: rules, schema: try PostgresEngine(job: database).inspectSource())
            .map(\.description)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("remote_people: the rule names a foreign table (on server prod_link)") == true)
        #expect(problems.first?.contains("rules.yaml:5:") == true && problems.first?.contains("foreign_data: skip") == true)
    }

    @Test func foreignDataIsAFailOrSkipChoice() throws {
        #expect(try RuleSet.parse(Self.rules(), file: "rules.yaml").foreignData == .fail)
        #expect(try RuleSet.parse(Self.rules(foreignData: "skip"), file: "rules.yaml").foreignData == .skip)
        #expect {
            try RuleSet.parse(Self.rules(foreignData: "keep"), file: "rules.yaml")
        } throws: { error in
            "\(error)".contains("rules.yaml:1:") && "\(error)".contains("foreign_data must be 'fail'")
        }
    }

    @Test func withSkipStagingGetsNoServerMappingForeignTableOrViewOnThem() throws {
        let scratch = try PostgresScratch("pgfdwskip")
        defer { scratch.drop() }
        let source = try makeSource(scratch)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules(foreignData: "skip"))
        defer { job.remove() }
        // The source really has the mappings (and their passwords).
        #expect(try scratch.rows("src", """
            SELECT count(*) FROM pg_user_mappings WHERE srvname = 'prod_link' AND array_to_string(umoptions, ',') LIKE '%S3cret%'
            """) == [["2"]])

        // The schema text that is applied to the shadow holds none of it.
        let snapshot = try PostgresSource(url: source)
        let definition = try snapshot.schemaDefinition()
        let notices = snapshot.notices
        snapshot.close()
        let schema = try PostgresSchemaPayload.from(definition)
        let applied = schema.preData + "\n" + schema.postData
        #expect(applied.contains("CREATE TABLE public.people") && applied.contains("CREATE VIEW public.local_emails"))
        for absent in [Self.password, "prod_link", "USER MAPPING", "remote_people", "remote_emails", "remote_email_count"] {
            #expect(!applied.contains(absent), "the applied schema holds \(absent)")
        }
        #expect(notices == ["foreign servers, user mappings and foreign tables are left out of staging: foreign table "
                                + "public.remote_people; and what reads them: materialized view public.remote_email_count "
                                + "(reads public.remote_people), view public.remote_emails (reads public.remote_people)"])

        let report = try PostgresRestoreTests.restore(job)
        #expect(report.outcome == "swapped")
        #expect(try scratch.rows("stage", """
            SELECT (SELECT count(*) FROM pg_foreign_server)::text, (SELECT count(*) FROM pg_user_mappings)::text,
                   (SELECT count(*) FROM pg_foreign_table)::text, (SELECT count(*) FROM pg_class WHERE relname LIKE 'remote%')::text
            """) == [["0", "0", "0", "0"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM local_emails") == [["50"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM people WHERE email LIKE '%@corp.example.org'") == [["0"]])
    }
}
