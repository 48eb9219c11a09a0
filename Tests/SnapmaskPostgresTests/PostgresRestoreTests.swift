import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// Restores against the real PostgreSQL test server: what is kept is byte-identical, what is
/// masked holds no original, and the staging copy has the source's whole schema.
@Suite struct PostgresRestoreTests {
    static let sourceSQL = #"""
        CREATE EXTENSION IF NOT EXISTS citext;
        CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s complicated');
        CREATE DOMAIN address_line AS text CHECK (length(VALUE) < 200);
        CREATE TABLE kept (
            id int PRIMARY KEY, t text, b bytea, n numeric(30,10), ts timestamptz, tsn timestamp, d date,
            arr text[], iarr int[], j jsonb, js json, e mood, u uuid, ip inet, c cidr, bo boolean, f float8,
            i8 bigint, iv interval, ci citext, line address_line);
        INSERT INTO kept VALUES
          (1, E'tab\there\nnew line\r\\ backslash "quote" ''single''', '\x00ff10'::bytea, 12345678901234567890.0123456789,
           '2024-02-29 23:59:59.123456+05:30', '1999-12-31 23:59:59.999999', '0001-01-01',
           '{"a b","c,d","e\"f",NULL,""}', '{1,2,NULL}', '{"k": [1, 2.50, "x\ty"], "u": "é😀"}', '{"keep":  "spacing" }',
           'it''s complicated', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.1.5/24', '10.0.0.0/8', true, 'NaN',
           -9223372036854775808, '1 year 2 mons 3 days 04:05:06.789', 'MiXeD', E'\\N is not null'),
          (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (3, '', '\x'::bytea, 0, 'infinity', '-infinity', 'infinity', '{}', '{}', '[]', '""', 'happy',
           '00000000-0000-0000-0000-000000000000', '::1', '::/0', false, '-0', 0, '0', '', ''),
          (4, '日本語 Ελληνικά עברית 👩‍👩‍👧 ﷽ e\u0301', decode(repeat('00ff7f80', 64), 'hex'), -0.0000000001,
           '1970-01-01 00:00:00+00', '2038-01-19 03:14:08', '9999-12-31', '{"\\","\t"}', '{-1}', '{"a": null}', 'null',
           'sad', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::1/64', '2001:db8::/32', NULL, 1e-300,
           9223372036854775807, '-1 day', '🙂', 'x');
        INSERT INTO kept (id, t) SELECT g, repeat(chr(65 + g % 26), g % 50) || E'\t' || g FROM generate_series(5, 3000) g;

        CREATE TABLE users (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email text NOT NULL UNIQUE,
            name text,
            phone varchar(24),
            profile jsonb,
            label text GENERATED ALWAYS AS (name || ' <' || email || '>') STORED);
        COMMENT ON TABLE users IS 'people who use the app';
        COMMENT ON COLUMN users.email IS 'login';
        INSERT INTO users (email, name, phone, profile)
        SELECT 'user' || g || '@corp.example.org', 'First' || g || ' Last' || g, '+1 (415) 555-' || lpad(g::text, 4, '0'),
               jsonb_build_object('contact', jsonb_build_object('email', 'user' || g || '@corp.example.org',
                                  'phones', jsonb_build_array('555-' || lpad(g::text, 4, '0'))), 'theme', 'dark')
          FROM generate_series(1, 500) g;
        CREATE TABLE contacts (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), email text,
                               touched boolean DEFAULT false);
        INSERT INTO contacts (user_id, email) SELECT g, 'user' || g || '@corp.example.org' FROM generate_series(1, 500) g;
        CREATE INDEX contacts_user ON contacts (user_id);
        CREATE FUNCTION mark_touched() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := true; RETURN NEW; END $$;
        CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION mark_touched();
        CREATE VIEW user_emails AS SELECT u.id, u.email FROM users u;
        CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
        CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        INSERT INTO events SELECT g, date '2024-06-01' + g, 'event for user' || g || '@corp.example.org' FROM generate_series(1, 400) g;
        CREATE SCHEMA audit;
        CREATE TABLE audit.log (id serial PRIMARY KEY, detail text);
        INSERT INTO audit.log (detail) SELECT 'detail ' || g FROM generate_series(1, 50) g;
        """#

    static let rules = """
        unlisted: fail
        tables:
          public.kept:
            columns: { id: keep, t: keep, b: keep, n: keep, ts: keep, tsn: keep, d: keep, arr: keep, iarr: keep, j: keep,
                       js: keep, e: keep, u: keep, ip: keep, c: keep, bo: keep, f: keep, i8: keep, iv: keep, ci: keep, line: keep }
          public.users:
            columns:
              id: keep
              email: { transform: email, unique: true }
              name: full_name
              phone: { transform: phone, keep_last: 2 }
              profile: { transform: json, paths: { contact.email: email, "contact.phones[]": phone, theme: keep } }
              label: keep
          public.contacts:
            columns: { id: keep, user_id: keep, email: email, touched: keep }
          public.events:
            columns: { id: keep, at: keep, note: lorem }
          audit.log: { data: skip }
        """

    static func job(_ scratch: PostgresScratch, rules: String = rules, overrides: String? = nil) throws -> TestJob {
        try scratch.job(rules: rules, overrides: overrides)
    }

    static func restore(_ job: TestJob, jobs: Int = 2) throws -> RestoreReport {
        try job.restore("app", jobs: jobs)
    }

    @Test func keptValuesAreByteIdenticalAndMaskedValuesAreGone() throws {
        let scratch = try PostgresScratch("pgrestore")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch, overrides: """
            - table: public.contacts
              set: { email: "override@staging.test" }
              where: "id = 1"
            """)
        defer { job.remove() }
        let report = try Self.restore(job)
        #expect(report.outcome == "swapped")
        #expect(report.rowCountsVerified)
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 } && report.leakChecks.count >= 6)
        #expect(report.overrides.first?.rowsAffected == 1)

        // Every kept value, every type, byte for byte (compared as each row's text form).
        let sourceKept = try scratch.rows("src", "SELECT k::text FROM kept k ORDER BY id")
        let stagedKept = try scratch.rows("stage", "SELECT k::text FROM kept k ORDER BY id")
        #expect(sourceKept.count == 3000)
        #expect(sourceKept == stagedKept)
        let byteCheck = "SELECT md5(string_agg(b::text || t || coalesce(j::text, ''), '|' ORDER BY id)) FROM kept"
        #expect(try scratch.rows("src", byteCheck) == scratch.rows("stage", byteCheck))

        // No original email, name or phone survives anywhere.
        let originals = Set(try scratch.rows("src", "SELECT email FROM users").compactMap { $0[0] })
        let stagedEmails = try scratch.rows("stage", "SELECT email FROM users UNION ALL SELECT email FROM contacts")
            .compactMap { $0[0] }
        #expect(stagedEmails.count == 1000)
        #expect(originals.isDisjoint(with: stagedEmails))
        let profiles = try scratch.rows("stage", "SELECT profile::text FROM users").compactMap { $0[0] }.joined()
        #expect(!profiles.contains("@corp.example.org") && profiles.contains(#""theme": "dark""#))
        let notes = try scratch.rows("stage", "SELECT note FROM events").compactMap { $0[0] }.joined()
        #expect(!notes.contains("@corp.example.org"))
        let phones = try scratch.rows("stage", "SELECT phone FROM users WHERE id = 7")
        #expect(phones.first?.first??.hasSuffix("07") == true && phones.first?.first??.hasPrefix("+1 (") == true)

        // The same email masks the same in both tables (and inside the JSON), so joins hold.
        let joined = try scratch.rows("stage", """
            SELECT count(*) FROM users u JOIN contacts c ON c.user_id = u.id
             WHERE c.email = u.email AND u.profile #>> '{contact,email}' = u.email
            """)
        #expect(joined == [["499"]])

        // Generated columns are recomputed from the masked values.
        #expect(try scratch.rows("stage", "SELECT count(*) FROM users WHERE label <> name || ' <' || email || '>'") == [["0"]])
    }

    @Test func stagingHasTheWholeSchemaAndContinuesSequences() throws {
        let scratch = try PostgresScratch("pgschema")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        _ = try Self.restore(job, jobs: 3)

        // Loaded frozen (COPY ... FREEZE): as the restore leaves them, every page of every loaded
        // table (partitions included) is all-frozen, so nothing rewrites them for hint bits or an
        // anti-wraparound vacuum.
        _ = try scratch.rows("stage", "CREATE EXTENSION IF NOT EXISTS pg_visibility")
        #expect(try scratch.rows("stage", """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND n.nspname IN ('public', 'audit') AND c.relpages > 0
               AND (SELECT all_frozen FROM pg_visibility_map_summary(c.oid)) < c.relpages
            """) == [])
        #expect(try scratch.rows("stage", "SELECT count(*) >= 3 FROM pg_class WHERE relkind = 'r' AND relpages > 0 AND relnamespace = 'public'::regnamespace")
                    == [["t"]], "the check above looked at loaded tables")

        // Foreign keys exist and were validated against the loaded rows.
        #expect(try scratch.rows("stage", "SELECT conname, convalidated::text FROM pg_constraint WHERE contype = 'f'")
                    == [["contacts_user_id_fkey", "true"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM contacts c LEFT JOIN users u ON u.id = c.user_id WHERE u.id IS NULL")
                    == [["0"]])
        // Sequences (serial and identity) go on after the source's last value.
        #expect(try scratch.rows("stage", "INSERT INTO users (email) VALUES ('new@staging.test') RETURNING id") == [["501"]])
        #expect(try scratch.rows("stage", "INSERT INTO contacts (user_id, email) VALUES (1, 'x') RETURNING id") == [["501"]])
        // Triggers, views, functions, comments, indexes, partitions, other schemas.
        #expect(try scratch.rows("stage", "UPDATE contacts SET email = 'y' WHERE id = 2 RETURNING touched::text") == [["true"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM user_emails") == [["501"]])
        #expect(try scratch.rows("stage", "SELECT obj_description('users'::regclass)") == [["people who use the app"]])
        #expect(try scratch.rows("stage", "SELECT col_description('users'::regclass, 2)") == [["login"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM pg_indexes WHERE indexname = 'contacts_user'") == [["1"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM events_2024") == scratch.rows("src", "SELECT count(*) FROM events_2024"))
        #expect(try scratch.rows("stage", "SELECT count(*) FROM events") == [["400"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM audit.log") == [["0"]], "data: skip copies the schema only")
        #expect(try scratch.rows("stage", "SELECT extname FROM pg_extension WHERE extname = 'citext'") == [["citext"]])
        #expect(try scratch.rows("stage", "SELECT reltuples > 0 FROM pg_class WHERE relname = 'kept'") == [["t"]], "analyzed")
        // No shadow or old copy is left behind.
        #expect(try scratch.databases() == ["\(scratch.prefix)_src", "\(scratch.prefix)_stage"])
    }

    @Test func aSecondRestoreReplacesStagingAndEndsItsSessions() throws {
        let scratch = try PostgresScratch("pgswap")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        _ = try Self.restore(job)
        let session = try scratch.connect("stage")
        try scratch.connect("src").execute("INSERT INTO contacts (user_id, email) VALUES (3, 'late@corp.example.org')")
        _ = try Self.restore(job)
        #expect(!session.isHealthy || (try? session.execute("SELECT 1")) == nil, "staging sessions end at the swap")
        #expect(try scratch.rows("stage", "SELECT count(*) FROM contacts") == [["501"]])
    }

    /// An override that puts one original back among an array's masked elements: the leak check
    /// compares arrays element by element, so the one original among fakes stops the swap.
    @Test func anOriginalPutBackIntoAnArrayIsFound() throws {
        let scratch = try PostgresScratch("pgarrayleak")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, aliases text[]);
            INSERT INTO people SELECT g, ARRAY['alias' || g || '@x.org', 'other' || g || '@y.org'] FROM generate_series(1, 50) g;
            """)
        let job = try Self.job(scratch, rules: """
            tables:
              public.people:
                columns: { id: keep, aliases: { transform: email, array: true } }
            """, overrides: "- sql: put-back.sql\n")
        defer { job.remove() }
        try job.write("put-back.sql", "UPDATE people SET aliases[2] = 'other' || id || '@y.org';")
        #expect {
            _ = try Self.restore(job)
        } throws: { error in
            let text = "\(error)"
            return text.contains("original values found") && text.contains("public.people.aliases") && !text.contains("@y.org")
        }
        #expect(try scratch.databases().filter { $0.hasSuffix("_stage") }.isEmpty, "staging was never created")
    }

    /// A domain that only takes the company's addresses: the masked value breaks its CHECK, and
    /// the error says it is the rule that must change, and how.
    /// A table without a primary key (an audit log) whose rows cannot be matched with their
    /// copies: an `array: true` column is searched element by element in the whole column, and
    /// columns of types without an equality operator (json, xml, point), nulled, are compared as
    /// text. An override putting one original element back among fakes stops the swap.
    @Test(arguments: [false, true]) func anArrayWithoutAKeptKeyIsSearchedElementByElement(putBack: Bool) throws {
        let scratch = try PostgresScratch("pgarrayscan")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE audit (seq int, recipients text[], payload json, body xml, place point);
            INSERT INTO audit SELECT g, ARRAY['to' || g || '@x.org', 'cc' || g || '@y.org', NULL],
                json_build_object('ip', '10.0.0.' || g), ('<m>' || g || '</m>')::xml, point(g, g)
              FROM generate_series(1, 60) g;
            """)
        let job = try Self.job(scratch, rules: """
            tables:
              public.audit:
                columns:
                  seq: keep
                  recipients: { transform: email, array: true }
                  payload: "null"
                  body: "null"
                  place: "null"
            """, overrides: putBack ? "- sql: put-back.sql\n" : nil)
        defer { job.remove() }
        try job.write("put-back.sql", "UPDATE audit SET recipients[2] = 'cc' || seq || '@y.org' WHERE seq = 7;")
        guard putBack else {
            let report = try Self.restore(job)
            #expect(report.outcome == "swapped")
            let recipients = report.leakChecks.first { $0.column == "recipients" }
            #expect(recipients?.method == .byValue && recipients?.leaks == 0)
            #expect((recipients?.sampled ?? 0) > 60, "each row's two addresses are searched, not the arrays whole")
            #expect(Set(report.leakChecks.filter { $0.method == .byValue }.map(\.column)) == ["recipients", "payload", "body", "place"])
            return
        }
        #expect {
            _ = try Self.restore(job)
        } throws: { error in
            let text = "\(error)"
            return text.contains("original values found") && text.contains("public.audit.recipients") && !text.contains("@y.org")
        }
        #expect(try scratch.databases().filter { $0.hasSuffix("_stage") }.isEmpty, "staging was never created")
    }

    @Test func aCheckConstraintTheMaskedValuesBreakSaysWhatToChange() throws {
        let scratch = try PostgresScratch("pgcheckdomain")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE DOMAIN corp_email AS text CHECK (VALUE LIKE '%@corp.example.org');
            CREATE TABLE staff (id int PRIMARY KEY, email corp_email NOT NULL CONSTRAINT long_enough CHECK (length(email) > 5));
            INSERT INTO staff SELECT g, 'u' || g || '@corp.example.org' FROM generate_series(1, 20) g;
            """)
        let rules = { (email: String) in "tables:\n  public.staff:\n    columns: { id: keep, email: \(email) }\n" }
        let job = try Self.job(scratch, rules: rules("email"))
        defer { job.remove() }
        // `check` tries the constraints on masked rows first: the domain's breaks, the table's holds.
        let check = try CommandRunner.run(["check", "-c", job.path])
        #expect(check.status == 1 && check.stdout.contains(
            "public.staff.email: masked values break CHECK constraint corp_email_check in 20 of 20 sampled rows")
                && check.stdout.contains("domain:") && !check.stdout.contains("long_enough"), "\(check.stdout)\(check.stderr)")
        #expect {
            _ = try Self.restore(job)
        } throws: { error in
            let text = "\(error)"
            return text.contains("corp_email_check") && text.contains("breaks a CHECK constraint") && text.contains("domain:")
                && !text.contains("u1@corp")
        }
        #expect(try scratch.databases().filter { $0.hasSuffix("_stage") }.isEmpty, "staging was never created")
        try job.write("rules.yaml", rules("{ transform: email, domain: corp.example.org }"))
        #expect(try CommandRunner.run(["check", "-c", job.path]).status == 0)
        _ = try Self.restore(job)
        #expect(try scratch.rows("stage", "SELECT count(*) FROM staff WHERE email ~ '^u[0-9]+@'") == [["0"]])
    }

    /// Large objects hold bytes no rule can describe: none reaches staging, and the run says so.
    @Test func largeObjectsAreNeverCopiedAndTheRunSaysSo() throws {
        let scratch = try PostgresScratch("pglargeobject")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE docs (id int PRIMARY KEY, body oid);
            INSERT INTO docs VALUES (1, lo_from_bytea(0, convert_to('patient ssn 078-05-1120', 'UTF8')));
            """)
        let job = try Self.job(scratch, rules: "tables:\n  public.docs:\n    columns: { id: keep, body: keep }\n")
        defer { job.remove() }
        let report = try Self.restore(job)
        #expect(report.notices.contains { $0.hasPrefix("the source holds 1 large object (pg_largeobject); none is copied") },
                "\(report.notices)")
        #expect(try scratch.rows("stage", "SELECT count(*) FROM pg_largeobject_metadata") == [["0"]])
    }

    /// Two foreign keys of a cycle (store ↔ staff) added at once can deadlock; PostgreSQL ends one,
    /// and that one is run again. Made to happen here: another session holds `a` and then asks
    /// for `b` while the foreign key holds `b` and waits for `a`; the foreign key's session
    /// looks for deadlocks first (its deadlock_timeout is the shorter), is ended, and succeeds on
    /// its second attempt once the other session commits.
    @Test func aForeignKeyEndedByADeadlockIsAddedAgain() throws {
        let scratch = try PostgresScratch("pgfkdeadlock")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE a (id int PRIMARY KEY);
            CREATE TABLE b (id int PRIMARY KEY, a_id int);
            INSERT INTO a VALUES (1); INSERT INTO b VALUES (1, 1);
            """)
        let other = try scratch.connect("src"), adder = try scratch.connect("src")
        try other.execute("SET deadlock_timeout = '10s'")
        try adder.execute("SET deadlock_timeout = '1s'")
        try other.execute("BEGIN")
        try other.execute("LOCK TABLE a IN SHARE ROW EXCLUSIVE MODE")
        let box = PostgresSessionBox(adder)
        let adding = OutcomeBox<Int>.start {
            var attempts = 0
            try PostgresTarget.retryingDeadlocks {
                attempts += 1
                try box.connection.execute("ALTER TABLE b ADD CONSTRAINT b_a FOREIGN KEY (a_id) REFERENCES a")
            }
            return attempts
        }
        // The foreign key holds b and waits for a; a second later it looks for a deadlock, and
        // by then the other session waits for b.
        Thread.sleep(forTimeInterval: 0.2)
        try other.execute("LOCK TABLE b IN SHARE ROW EXCLUSIVE MODE")
        try other.execute("COMMIT")
        #expect(try adding.wait().get() == 2, "ended once by the deadlock, then added")
        #expect(try scratch.rows("src", "SELECT count(*) FROM pg_constraint WHERE conname = 'b_a'") == [["1"]])
    }
}
