import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// Restores against the real MySQL test server (MariaDB here): what is kept is byte-identical,
/// what is masked holds no original, and staging has the source's whole schema.
@Suite struct MySQLRestoreTests {
    /// Every byte value once, as hex.
    static let allBytes = (0..<256).map { String(format: "%02X", $0) }.joined()

    static let keptColumns = """
        id int NOT NULL PRIMARY KEY, t text, vc varchar(200), ch char(10), lat varchar(50) CHARACTER SET latin1,
        b blob, vb varbinary(300), bn binary(4), lb longblob, n decimal(30,10), f float, dbl double, i8 bigint,
        u8 bigint unsigned, dt datetime(6), ts timestamp(6) NULL DEFAULT NULL, d date, tm time(3), y year,
        j json, e enum('happy','sad','it''s complicated'), st set('a','b','c'), bt bit(10), b1 bit(1), bo tinyint(1),
        tt tinytext
        """

    /// Each kept column as comparable text: bytes as hex, numbers and times as the server prints
    /// them in UTC, FLOAT at full precision.
    static let keptComparison = """
        SELECT id, HEX(t), HEX(vc), HEX(ch), HEX(lat), HEX(b), HEX(vb), HEX(bn), MD5(lb), LENGTH(lb), CAST(n AS CHAR),
               f * 1e0, dbl, i8, u8, dt, ts, UNIX_TIMESTAMP(ts), d, tm, y, HEX(j), HEX(e), HEX(st), HEX(bt), HEX(b1), bo, HEX(tt)
          FROM kept ORDER BY id
        """

    static let sourceSQL: String = {
        var sql = #"""
            SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';
            SET time_zone = '+05:30';
            CREATE TABLE kept (\#(keptColumns)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
            INSERT INTO kept VALUES
              (1, 'tab\there\nnew line\r\\ backslash "quote" ''single'' \\N is not null', 'é😀 4-byte 𝄞 ok', 'char',
               'Ærøskøbing £ ÿ', UNHEX('\#(allBytes)'), UNHEX('00FF0A090D5C4E'), UNHEX('00FF0A09'),
               UNHEX(REPEAT('\#(allBytes)', 64)), 12345678901234567890.0123456789, 0.123456789, 0.1e0 + 0.2e0,
               -9223372036854775808, 18446744073709551615, '2024-02-29 23:59:59.123456', '2024-02-29 23:59:59.123456',
               '0001-01-01', '-838:59:59.000', 1901, '{"k": [1, 2.50, "x\\ty"], "u": "é😀", "n": null}',
               'it''s complicated', 'a,c', b'1010101010', b'1', 1, 'tiny\ttext'),
              (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
              (3, '', '', '', '', '', '', UNHEX('00000000'), '', 0, 16777217, 2.2250738585072014e-308, 0, 0,
               '0000-00-00 00:00:00', '1970-01-01 05:30:01', '0000-00-00', '00:00:00', 0, '[]', 'happy', '', b'0',
               b'0', 0, ''),
              (4, '日本語 Ελληνικά עברית 👩‍👩‍👧 ﷽ e\#u{0301} \0 nul', '\\\\', '  pad', 'x', UNHEX(REPEAT('00FF7F80', 64)),
               UNHEX('FF'), UNHEX('FFFFFFFF'), NULL, -0.0000000001, 3.40282e38, 1.7976931348623157e308,
               9223372036854775807, 0, '9999-12-31 23:59:59.999999', '2038-01-19 08:44:07.999999', '9999-12-31',
               '838:59:59.999', 2155, '{"a": "\\u00e9 \\"q\\" \\\\ \\n"}', 'sad', 'a,b,c', b'1111111111', b'0', 0,
               '\\N');
            """#
        sql += "\nINSERT INTO kept (id, t, f) VALUES "
        sql += (5...3000).map { n in
            "(\(n), '\(String(repeating: Character(UnicodeScalar(65 + n % 26)!), count: n % 50))\\t\(n)', \(Double(n) / 7))"
        }.joined(separator: ", ") + ";\n"
        sql += """
            CREATE TABLE users (
                id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
                email varchar(255) NOT NULL,
                name varchar(200),
                phone varchar(24),
                profile json,
                label varchar(500) GENERATED ALWAYS AS (CONCAT(name, ' <', email, '>')) STORED,
                UNIQUE KEY users_email (email)
            ) COMMENT 'people who use the app';
            CREATE TABLE contacts (
                id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
                user_id bigint NOT NULL,
                email varchar(255),
                touched tinyint(1) NOT NULL DEFAULT 0,
                KEY contacts_user (user_id),
                CONSTRAINT contacts_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
            );
            CREATE TABLE events (id int NOT NULL, at date NOT NULL, note text, PRIMARY KEY (id, at))
                PARTITION BY RANGE (YEAR(at)) (PARTITION p2024 VALUES LESS THAN (2025), PARTITION pmax VALUES LESS THAN MAXVALUE);
            CREATE TABLE audit_log (id int AUTO_INCREMENT PRIMARY KEY, detail text) DEFAULT CHARSET=latin1;
            INSERT INTO audit_log (detail) VALUES ('detail 1'), ('detail 2');
            CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts FOR EACH ROW SET NEW.touched = 1;
            CREATE VIEW user_emails AS SELECT u.id, u.email FROM users u;
            CREATE VIEW user_email_count AS SELECT COUNT(*) AS n FROM user_emails;
            CREATE FUNCTION user_label(wanted bigint) RETURNS varchar(500) READS SQL DATA
                RETURN (SELECT label FROM users WHERE id = wanted);
            CREATE PROCEDURE touch_contact(wanted int) MODIFIES SQL DATA
                UPDATE contacts SET email = CONCAT('touched ', email) WHERE id = wanted;

            """
        sql += "INSERT INTO users (email, name, phone, profile) VALUES " + (1...500).map { n in
            let phone = String(format: "%04d", n)
            return "('user\(n)@corp.example.org', 'First\(n) Last\(n)', '+1 (415) 555-\(phone)', "
                + "'{\"contact\": {\"email\": \"user\(n)@corp.example.org\", \"phones\": [\"555-\(phone)\"]}, \"theme\": \"dark\"}')"
        }.joined(separator: ", ") + ";\n"
        sql += "INSERT INTO contacts (user_id, email) VALUES "
            + (1...501).map { "(\(($0 - 1) % 500 + 1), 'user\(($0 - 1) % 500 + 1)@corp.example.org')" }.joined(separator: ", ") + ";\n"
        // The counter is ahead of the rows: staging must go on from the counter, not from max(id).
        sql += "DELETE FROM contacts WHERE id = 501;\n"
        sql += "INSERT INTO events VALUES " + (1...400).map { n in
            "(\(n), DATE_ADD('2024-06-01', INTERVAL \(n) DAY), 'event for user\(n)@corp.example.org')"
        }.joined(separator: ", ") + ";\n"
        return sql
    }()

    static let rules = """
        unlisted: fail
        tables:
          kept:
            columns: { id: keep, t: keep, vc: keep, ch: keep, lat: keep, b: keep, vb: keep, bn: keep, lb: keep, n: keep,
                       f: keep, dbl: keep, i8: keep, u8: keep, dt: keep, ts: keep, d: keep, tm: keep, y: keep, j: keep,
                       e: keep, st: keep, bt: keep, b1: keep, bo: keep, tt: keep }
          users:
            columns:
              id: keep
              email: { transform: email, unique: true }
              name: full_name
              phone: { transform: phone, keep_last: 2 }
              profile: { transform: json, paths: { contact.email: email, "contact.phones[]": phone, theme: keep } }
              label: keep
          contacts:
            columns: { id: keep, user_id: keep, email: email, touched: keep }
          events:
            columns: { id: keep, at: keep, note: lorem }
          audit_log: { data: skip }
        """

    static func job(_ scratch: MySQLScratch, rules: String = rules, overrides: String? = nil,
                    source: ConnectionString? = nil) throws -> TestJob {
        try scratch.job(rules: rules, overrides: overrides, source: source)
    }

    static func restore(_ job: TestJob, jobs: Int = 2, observer: RecordingObserver = RecordingObserver()) throws -> RestoreReport {
        try job.restore("app", jobs: jobs, observer: observer)
    }

    @Test func keptValuesAreByteIdenticalAndMaskedValuesAreGone() throws {
        let scratch = try MySQLScratch("myrestore")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch, overrides: """
            - table: contacts
              set: { email: "override@staging.test" }
              where: "id = 1"
            """)
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try Self.restore(job, observer: observer)
        #expect(report.outcome == "swapped")
        #expect(report.rowCountsVerified)
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 } && report.leakChecks.count >= 5, "\(report.leakChecks)")
        #expect(report.overrides.first?.rowsAffected == 1)
        #expect(observer.phases.contains { $0.contains("sharing one snapshot") }, "\(observer.phases)")
        #expect(report.notices.contains { $0.contains("sharing one snapshot") }, "\(report.notices)")

        // Every kept value of every type, byte for byte.
        let sourceKept = try scratch.rows("src", Self.keptComparison)
        let stagedKept = try scratch.rows("stage", Self.keptComparison)
        #expect(sourceKept.count == 3000)
        #expect(sourceKept == stagedKept)
        if sourceKept != stagedKept {
            for (source, staged) in zip(sourceKept, stagedKept) where source != staged {
                Issue.record("row \(source[0] ?? "?") differs:\n  source \(source)\n  staged \(staged)")
                break
            }
        }
        // The awkward values really are what the test means them to be.
        let awkward = try scratch.rows("stage", "SELECT HEX(b) = '\(Self.allBytes)', LENGTH(lb), CHAR_LENGTH(vc) FROM kept WHERE id = 1")
        #expect(awkward == [["1", "16384", "14"]])
        #expect(try scratch.rows("stage", "SELECT t IS NULL, b IS NULL, t = '', b = '' FROM kept WHERE id IN (2, 3) ORDER BY id")
                    == [["1", "1", nil, nil], ["0", "0", "1", "1"]])
        #expect(try scratch.rows("stage", "SELECT ts FROM kept WHERE id = 1") == [["2024-02-29 18:29:59.123456"]],
                "TIMESTAMP read and written in UTC: no shift")
        // Column types, character sets and collations as in the source.
        let columns = """
            SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE, COLUMN_DEFAULT, EXTRA
              FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION
            """
        #expect(try scratch.rows("src", columns) == scratch.rows("stage", columns))

        // No original email, name or phone survives anywhere.
        let originals = Set(try scratch.rows("src", "SELECT email FROM users").compactMap { $0[0] })
        let stagedEmails = try scratch.rows("stage", "SELECT email FROM users UNION ALL SELECT email FROM contacts")
            .compactMap { $0[0] }
        #expect(stagedEmails.count == 1000)
        #expect(originals.isDisjoint(with: stagedEmails))
        let profiles = try scratch.rows("stage", "SELECT profile FROM users").compactMap { $0[0] }.joined()
        #expect(!profiles.contains("@corp.example.org") && profiles.contains(#""theme": "dark""#))
        let notes = try scratch.rows("stage", "SELECT note FROM events").compactMap { $0[0] }.joined()
        #expect(!notes.contains("@corp.example.org"))
        let phones = try scratch.rows("stage", "SELECT phone FROM users WHERE id = 7")
        #expect(phones.first?.first??.hasSuffix("07") == true && phones.first?.first??.hasPrefix("+1 (") == true)

        // The same email masks the same in both tables and inside the JSON, so joins hold.
        let joined = try scratch.rows("stage", """
            SELECT COUNT(*) FROM users u JOIN contacts c ON c.user_id = u.id
             WHERE c.email = u.email AND JSON_UNQUOTE(JSON_EXTRACT(u.profile, '$.contact.email')) = u.email
            """)
        #expect(joined == [["499"]])
        // Generated columns are recomputed from the masked values.
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM users WHERE label <> CONCAT(name, ' <', email, '>')") == [["0"]])
    }

    @Test func stagingHasTheWholeSchemaAndContinuesAutoIncrement() throws {
        let scratch = try MySQLScratch("myschema")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        _ = try Self.restore(job, jobs: 3)

        // Foreign keys and indexes exist, and the rows hold together.
        #expect(try scratch.rows("stage", """
            SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = DATABASE()
            """) == [["contacts_user_fk", "users"]])
        let indexes = """
            SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1, 2, 4
            """
        #expect(try scratch.rows("src", indexes) == scratch.rows("stage", indexes))
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM contacts c LEFT JOIN users u ON u.id = c.user_id WHERE u.id IS NULL")
                    == [["0"]])
        // AUTO_INCREMENT goes on where the source's counter is (contacts deleted its last row).
        let stage = try scratch.connect("stage")
        try stage.query("INSERT INTO users (email) VALUES ('new@staging.test')")
        #expect(try stage.scalar("SELECT LAST_INSERT_ID()") == "501")
        try stage.query("INSERT INTO contacts (user_id, email) VALUES (1, 'x')")
        #expect(try stage.scalar("SELECT LAST_INSERT_ID()") == "502")
        // Triggers, views (also a view on a view), routines, comments, partitions, data: skip.
        try stage.query("UPDATE contacts SET email = 'y' WHERE id = 2")
        #expect(try stage.query("SELECT touched FROM contacts WHERE id = 2") == [["1"]])
        #expect(try stage.query("SELECT COUNT(*) FROM user_emails") == [["501"]])
        #expect(try stage.query("SELECT n FROM user_email_count") == [["501"]])
        #expect(try stage.query("SELECT user_label(7) = (SELECT label FROM users WHERE id = 7)") == [["1"]])
        try stage.query("CALL touch_contact(3)")
        #expect(try stage.scalar("SELECT email LIKE 'touched %' FROM contacts WHERE id = 3") == "1")
        let definitions = try stage.query("""
            SELECT ROUTINE_NAME, DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1
            """)
        #expect(definitions.map { $0[0] } == ["touch_contact", "user_label"])
        let viewText = try stage.query("SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()")
            .compactMap { $0[0] }.joined()
        #expect(!viewText.contains(scratch.name("src")), "views refer to staging, not to the source database")
        #expect(try stage.query("SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users'")
                    == [["people who use the app"]])
        #expect(try stage.query("SELECT COUNT(*) FROM events PARTITION (p2024)")
                    == scratch.rows("src", "SELECT COUNT(*) FROM events PARTITION (p2024)"))
        #expect(try stage.query("SELECT COUNT(*), MAX(id) FROM audit_log") == [["0", nil]], "data: skip copies the schema only")
        #expect(try scratch.rows("stage", "SHOW CREATE TABLE audit_log").first?[1]?.contains("CHARSET=latin1") == true)
        // No shadow or old copy is left behind.
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")])
    }

    @Test func aSecondRestoreReplacesStagingAtOnceAndEndsItsSessions() throws {
        let scratch = try MySQLScratch("myswap")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try Self.job(scratch)
        defer { job.remove() }
        _ = try Self.restore(job)
        // Something only the old staging has: it must be gone after the next restore.
        try scratch.connect("stage").executeScript("""
            CREATE TABLE staging_only (id int PRIMARY KEY); CREATE VIEW staging_view AS SELECT 1 AS one;
            CREATE TRIGGER users_stamp BEFORE INSERT ON users FOR EACH ROW SET NEW.name = 'stamped';
            """)
        let session = try scratch.connect("stage")
        try scratch.connect("src").query("INSERT INTO contacts (user_id, email) VALUES (3, 'late@corp.example.org')")
        _ = try Self.restore(job)
        #expect((try? session.query("SELECT 1")) == nil, "staging sessions end at the swap")
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM contacts") == [["501"]])
        let tables = try scratch.rows("stage", """
            SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1
            """).compactMap { $0[0] }.sorted()
        #expect(tables == ["audit_log", "contacts", "events", "kept", "user_email_count", "user_emails", "users"])
        #expect(try scratch.rows("stage", "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")
                    == [["contacts_touch"]])
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")])
    }

    /// Names are quoted as identifiers everywhere and as a string literal in LOAD DATA's file name,
    /// where a quote and a trailing backslash (which would escape the closing quote) must survive.
    @Test func tableNamesWithQuotesAndBackslashesRestore() throws {
        let scratch = try MySQLScratch("myname")
        defer { scratch.drop() }
        let name = #"o'brien \ "x"\"#
        let quoted = "`" + name + "`"
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE \(quoted) (id int PRIMARY KEY, email varchar(100), note text);
            INSERT INTO \(quoted) VALUES (1, 'one@corp.example.org', 'it''s \\\\ fine'), (2, 'two@corp.example.org', NULL);
            """)
        _ = try scratch.url("stage", create: true)
        let job = try Self.job(scratch, rules: """
            tables:
              '\(name.replacingOccurrences(of: "'", with: "''"))':
                columns: { id: keep, email: { transform: email, unique: true }, note: keep }
            """)
        defer { job.remove() }
        let report = try Self.restore(job)
        #expect(report.outcome == "swapped")
        #expect(report.tables.map(\.name) == [name])
        #expect(report.leakChecks.map(\.sampled) == [2])
        #expect(try scratch.rows("stage", "SELECT id, note FROM \(quoted) ORDER BY id")
                    == [["1", #"it's \ fine"#], ["2", nil]])
        let emails = try scratch.rows("stage", "SELECT email FROM \(quoted) ORDER BY id").compactMap { $0[0] }
        #expect(emails.count == 2 && !emails.contains { $0.hasSuffix("@corp.example.org") }, "\(emails)")
    }

    @Test func theSameEmailMasksTheSameInPostgresAndMySQL() throws {
        let emails = ["ada.lovelace@quikapp.com", "Grace.Hopper@QuikApp.com", "zoë@example.co.uk"]
        let rules = """
            tables:
              TABLE:
                columns:
                  id: keep
                  email: { transform: email, unique: true }
                  profile: { transform: json, paths: { contact.email: email } }
            """
        let mysql = try MySQLScratch("mycross")
        defer { mysql.drop() }
        let values = emails.enumerated().map { index, email in
            "(\(index + 1), '\(email)', '{\"contact\": {\"email\": \"\(email)\"}}')"
        }.joined(separator: ", ")
        let mysqlSource = try mysql.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(255), profile json);
            INSERT INTO people VALUES \(values);
            """)
        let mysqlJob = try Self.job(mysql, rules: rules.replacingOccurrences(of: "TABLE", with: "people"), source: mysqlSource)
        defer { mysqlJob.remove() }
        _ = try Self.restore(mysqlJob)

        let postgres = try PostgresScratch("mycross")
        defer { postgres.drop() }
        let postgresSource = try postgres.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email text, profile jsonb);
            INSERT INTO people VALUES \(values);
            """)
        let postgresTarget = try postgres.url("stage")
        let postgresJob = try TestJob(databases: """
            app:
              engine: postgres
              source: \(postgresSource.raw)
              target: \(postgresTarget.raw)
              rules: rules.yaml
            """, files: ["rules.yaml": rules.replacingOccurrences(of: "TABLE", with: "public.people")])
        defer { postgresJob.remove() }
        let report = try CrossEngine.restorePostgres(postgresJob)
        #expect(report.outcome == "swapped")

        let fromMySQL = try mysql.rows("stage", """
            SELECT id, email, JSON_UNQUOTE(JSON_EXTRACT(profile, '$.contact.email')) FROM people ORDER BY id
            """)
        let fromPostgres = try postgres.rows("stage", "SELECT id::text, email, profile #>> '{contact,email}' FROM people ORDER BY id")
        #expect(fromMySQL.count == 3)
        #expect(fromMySQL == fromPostgres)
        #expect(Set(fromMySQL.compactMap { $0[1] }).isDisjoint(with: emails))
        #expect(fromMySQL.allSatisfy { $0[1] == $0[2] })
    }

    /// A CHECK that only takes the company's addresses: the masked values break it, and the
    /// error says it is the rule that must change, and how.
    /// Byte columns nulled (a photo, a spatial point, BIT flags), with and without a kept key:
    /// originals that are not UTF-8 are compared byte for byte, so an override that puts one
    /// back is found, by key and in the whole column alike.
    @Test(arguments: [false, true]) func bytesPutBackAreFoundByteForByte(putBack: Bool) throws {
        let scratch = try MySQLScratch("mybytes")
        defer { scratch.drop() }
        let columns = "photo blob, place point, flags bit(12)"
        let values = "UNHEX(CONCAT('FFD8', LPAD(HEX(seq), 4, '0'))), POINT(seq, -seq), seq * 37"
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE files (id int PRIMARY KEY, \(columns));
            CREATE TABLE log (seq int, \(columns));
            INSERT INTO files SELECT seq, \(values) FROM seq_1_to_40;
            INSERT INTO log SELECT seq, \(values) FROM seq_1_to_40;
            """)
        let nulled = "photo: \"null\", place: \"null\", flags: \"null\""
        let job = try Self.job(scratch, rules: "tables:\n  files:\n    columns: { id: keep, \(nulled) }\n"
                                   + "  log:\n    columns: { seq: keep, \(nulled) }\n",
                               overrides: putBack ? "- sql: put-back.sql\n" : nil)
        defer { job.remove() }
        let restored = "photo = UNHEX('FFD80007'), place = POINT(7, -7), flags = 259"
        try job.write("put-back.sql", "UPDATE files SET \(restored) WHERE id = 7; UPDATE log SET \(restored) WHERE seq = 7;")
        guard putBack else {
            let report = try Self.restore(job)
            #expect(report.outcome == "swapped" && report.leakChecks.count == 6)
            #expect(report.leakChecks.allSatisfy { $0.sampled == 40 && $0.leaks == 0 }, "\(report.leakChecks)")
            return
        }
        #expect {
            _ = try Self.restore(job)
        } throws: { error in
            let text = "\(error)"
            return ["files.photo", "files.place", "files.flags", "log.photo", "log.place", "log.flags"].allSatisfy(text.contains)
        }
    }

    @Test func aCheckConstraintTheMaskedValuesBreakSaysWhatToChange() throws {
        let scratch = try MySQLScratch("mycheck")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE staff (id int PRIMARY KEY, email varchar(100) NOT NULL,
              CONSTRAINT corp_only CHECK (email LIKE '%@corp.example.org'), CONSTRAINT filled CHECK (id > 0 AND email <> ''));
            INSERT INTO staff VALUES (1, 'u1@corp.example.org'), (2, 'u2@corp.example.org'), (3, 'u3@corp.example.org');
            """)
        let rules = { (email: String) in "tables:\n  staff:\n    columns: { id: keep, email: \(email) }\n" }
        let job = try Self.job(scratch, rules: rules("email"))
        defer { job.remove() }
        // `check` tries the constraints on masked rows first: corp_only breaks, filled holds.
        let check = try CommandRunner.run(["check", "-c", job.path])
        #expect(check.status == 1 && check.stdout.contains("staff.email: masked values break CHECK constraint corp_only in 3 of 3")
                    && !check.stdout.contains("filled"), "\(check.stdout)\(check.stderr)")
        #expect {
            _ = try Self.restore(job)
        } throws: { error in
            let text = "\(error)"
            return text.contains("corp_only") && text.contains("breaks a CHECK constraint") && text.contains("domain:")
        }
        try job.write("rules.yaml", rules("{ transform: email, domain: corp.example.org }"))
        #expect(try CommandRunner.run(["check", "-c", job.path]).status == 0)
        _ = try Self.restore(job)
        let staged = try scratch.connect("stage").query("SELECT email FROM staff").compactMap { $0[0] }
        #expect(staged.count == 3 && staged.allSatisfy { $0.hasSuffix("@corp.example.org") }
                    && Set(staged).isDisjoint(with: (1...3).map { "u\($0)@corp.example.org" }), "\(staged)")
    }
}
