import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// Materialized views are rebuilt in the shadow from the masked (and overridden) rows, in
/// dependency order, so staging's views hold data and none of it is original.
@Suite struct PostgresMaterializedViewTests {
    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, plan text NOT NULL);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', CASE WHEN g % 3 = 0 THEN 'pro' ELSE 'free' END
          FROM generate_series(1, 300) g;
        CREATE MATERIALIZED VIEW user_directory AS SELECT id, email FROM users;
        CREATE UNIQUE INDEX user_directory_id ON user_directory (id);
        -- Reads the view above (through a plain view), and sorts before it by name.
        CREATE VIEW directory_domains AS SELECT split_part(email, '@', 2) AS domain FROM user_directory;
        CREATE MATERIALIZED VIEW domain_counts AS SELECT domain, count(*) AS users FROM directory_domains GROUP BY domain;
        CREATE MATERIALIZED VIEW a_plans AS SELECT plan, count(*) AS users FROM users GROUP BY plan;
        CREATE MATERIALIZED VIEW never_filled AS SELECT email FROM users WITH NO DATA;
        """

    static let rules = """
        tables:
          public.users:
            columns: { id: keep, email: { transform: email, unique: true }, plan: keep }
        """

    @Test func materializedViewsAreBuiltFromTheMaskedRows() throws {
        let scratch = try PostgresScratch("pgmatview")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules, overrides: """
            - table: public.users
              set: { email: "first@staging.test" }
              where: "id = 1"
            """)
        defer { job.remove() }
        let originals = Set(try scratch.rows("src", "SELECT email FROM users").compactMap { $0[0] })
        #expect(try PostgresRestoreTests.restore(job).outcome == "swapped")

        let staged = try scratch.rows("stage", "SELECT id::text, email FROM user_directory ORDER BY id")
        #expect(staged.count == 300)
        #expect(originals.isDisjoint(with: staged.compactMap { $0[1] }), "an original email is in a materialized view")
        #expect(staged == (try scratch.rows("stage", "SELECT id::text, email FROM users ORDER BY id")),
                "built from staging's own rows")
        #expect(staged.first == ["1", "first@staging.test"], "built after the overrides")
        let domains = try scratch.rows("stage", "SELECT domain, users::text FROM domain_counts ORDER BY domain")
        #expect(!domains.isEmpty && !domains.contains { $0[0] == "corp.example.org" })
        #expect(domains.compactMap { Int($0[1] ?? "") }.reduce(0, +) == 300)
        #expect(try scratch.rows("stage", "SELECT plan, users::text FROM a_plans ORDER BY plan") == [["free", "200"], ["pro", "100"]])
        // Unpopulated in the source, unpopulated in staging.
        #expect(try scratch.rows("stage", "SELECT relispopulated::text FROM pg_class WHERE relname = 'never_filled'") == [["false"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM pg_indexes WHERE indexname = 'user_directory_id'") == [["1"]])
    }

    @Test func theSourceListsPopulatedViewsDependenciesFirst() throws {
        let scratch = try PostgresScratch("pgmatorder")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let snapshot = try PostgresSource(url: source)
        defer { snapshot.close() }
        let views = try PostgresSchemaPayload.from(try snapshot.schemaDefinition()).materializedViews
        #expect(views == [["public", "a_plans"], ["public", "user_directory"], ["public", "domain_counts"]])
    }
}
