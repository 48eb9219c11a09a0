import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// The two libmysqlclient paths the engine is built on: LOAD DATA LOCAL fed from memory through
/// the infile handler, and parallel readers inside one snapshot.
@Suite struct MySQLLoadAndSnapshotTests {
    @Test(arguments: ["utf8mb4", "binary"]) func loadDataFromMemoryKeepsEveryByteAndEveryCharacter(characterSet: String) throws {
        let scratch = try MySQLScratch("myload")
        defer { scratch.drop() }
        let url = try scratch.url("db", create: true, sql: """
            CREATE TABLE t (id int PRIMARY KEY, txt text CHARACTER SET utf8mb4, bin varbinary(300), raw longblob)
            """)
        let table = TableShape(name: "t", columns: [
            ColumnShape(name: "id", typeName: "int", category: .number),
            ColumnShape(name: "txt", typeName: "text", category: .text),
            ColumnShape(name: "bin", typeName: "varbinary(300)", category: .binary),
            ColumnShape(name: "raw", typeName: "longblob", category: .binary),
        ], primaryKey: ["id"])
        let plan = TablePlan(table: table, rule: nil)
        let allBytes = (0..<256).map { UInt8($0) }
        let text = "tab\t nl\n cr\r bs\\ nul\u{0} 😀 𝄞 👩‍👩‍👧 \\N é"
        let hex = allBytes.map { String(format: "%02X", $0) }.joined()
        // Rows as the reader writes them: text escaped, binary as hex (loaded with UNHEX).
        var batches: [RowBatch] = []
        var data: [UInt8] = []
        var rows = 0
        let count = 20_000
        for id in 1...count {
            data += Array("\(id)\t".utf8)
            DelimitedText.appendEscaped(text + String(id), to: &data, dialect: .mysql)
            data += Array("\t\(hex)\t".utf8)
            if id % 1000 == 0 { DelimitedText.appendNull(to: &data) } else { data += Array(String(repeating: hex, count: id % 7).utf8) }
            data.append(UInt8(ascii: "\n"))
            rows += 1
            if data.count > 300_000 {
                batches.append(RowBatch(data: data, rowCount: rows, firstRow: id - rows))
                data = []
                rows = 0
            }
        }
        batches.append(RowBatch(data: data, rowCount: rows, firstRow: count - rows))
        #expect(batches.count > 10, "several batches, each split over several callbacks")

        let connection = try MySQLConnection(url: url, localInfile: true)
        #expect(try MySQLTarget.loadCharacterSet("t", on: connection) == "binary")
        let writer = try MySQLLoadWriter(connection: connection, plan: plan, characterSet: characterSet)
        for batch in batches { try writer.write(batch) }
        #expect(try writer.finish() == count)

        let check = try scratch.connect("db")
        #expect(try check.query("SELECT COUNT(*), SUM(bin = UNHEX('\(hex)')), SUM(raw IS NULL) FROM t")
                    == [["\(count)", "\(count)", "\(count / 1000)"]])
        #expect(try check.query("SELECT txt, HEX(bin), LENGTH(raw) FROM t WHERE id = 13")
                    == [[text + "13", hex, "\(256 * 6)"]])
        #expect(try check.query("SELECT COUNT(*) FROM t WHERE txt = CONCAT(\(check.literal(text)), id)") == [["\(count)"]])
    }

    @Test func readerEscapesExactlyAsTheMaskerDecodes() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 7, 100, 5000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                + [0x00, 0x09, 0x0a, 0x0d, 0x5c, 0x4e, 0x5c]
            var buffer = RowBuffer(capacity: 4)
            bytes.withUnsafeBufferPointer { buffer.appendEscaped($0.baseAddress!, count: $0.count) }
            var expected: [UInt8] = []
            bytes.withUnsafeBufferPointer { DelimitedText.appendEscaped($0, to: &expected, dialect: .mysql) }
            #expect(buffer.bytes == expected)
            #expect(!buffer.bytes.contains(0x09) && !buffer.bytes.contains(0x0a) && !buffer.bytes.contains(0x00))
        }
    }

    @Test func abandonedLoadEndsItsStatement() throws {
        let scratch = try MySQLScratch("myabandon")
        defer { scratch.drop() }
        let url = try scratch.url("db", create: true, sql: "CREATE TABLE t (id int PRIMARY KEY)")
        let plan = TablePlan(table: TableShape(name: "t", columns: [ColumnShape(name: "id", typeName: "int", category: .number)]),
                             rule: nil)
        do {
            let writer = try MySQLLoadWriter(connection: try MySQLConnection(url: url, localInfile: true), plan: plan)
            try writer.write(RowBatch(data: Array("1\n2\n".utf8), rowCount: 2, firstRow: 0))
            // Dropped without finish(), as when another table fails: the statement must end.
        }
        // The server clears a session's statement just after it answers the client, so a busy
        // server may still show it for a moment; a statement left running would stay.
        let ended = try eventually(within: 5) {
            try scratch.rows("db", """
                SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'LOAD DATA%'
                """) == [["0"]]
        }
        #expect(ended, "the abandoned LOAD DATA is still running")
    }

    @Test func refusedLoadFailsTheWritesInsteadOfBlockingThem() throws {
        let scratch = try MySQLScratch("myrefused")
        defer { scratch.drop() }
        let url = try scratch.url("db", create: true)
        let plan = TablePlan(table: TableShape(name: "missing", columns: [ColumnShape(name: "id", typeName: "int", category: .number)]),
                             rule: nil)
        let writer = try MySQLLoadWriter(connection: try MySQLConnection(url: url, localInfile: true), plan: plan)
        #expect {
            for first in stride(from: 0, to: 100, by: 10) {
                try writer.write(RowBatch(data: Array("1\n".utf8), rowCount: 1, firstRow: first))
            }
            _ = try writer.finish()
        } throws: { error in
            "\(error)".contains("loading missing into the shadow copy") && "\(error)".contains("doesn't exist")
        }
    }

    /// Rows committed after the snapshot started are seen by no reader, whichever connection of
    /// the pool it gets; rows of one table read at different times are the same moment's.
    @Test func parallelReadersShareOneSnapshot() throws {
        let scratch = try MySQLScratch("mysnap")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: """
            CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY);
            INSERT INTO a VALUES (1), (2); INSERT INTO b VALUES (1);
            """)
        #expect(try MySQLSource(url: url, readers: 8).snapshotConnections == 3, "no more connections than tables")
        let source = try MySQLSource(url: url, readers: 3)
        defer { source.close() }
        #expect(source.snapshotConnections == 3)
        #expect(source.notices.first?.contains("3 connections sharing one snapshot") == true, "\(source.notices)")
        try scratch.connect("src").executeScript("INSERT INTO a VALUES (3); INSERT INTO b VALUES (2); DELETE FROM a WHERE id = 1;")
        let plan = try #require(RestorePlan.make(rules: try rules(for: ["a", "b", "c"]), schema: source.schema).table(named: "a"))
        // Three readers at once: each holds its own connection.
        let readers = try (0..<3).map { _ in try source.makeReader(for: plan) }
        for reader in readers {
            #expect(String(decoding: try #require(try reader.next()).data, as: UTF8.self) == "1\n2\n")
        }
        readers.forEach { $0.close() }
        // The pool's connections are back and still in the snapshot.
        let sample = try source.sampleRows(plan, keyColumns: ["id"], column: "id", limit: 10)
        #expect(sample.map(\.value).sorted() == ["1", "2"])
    }

    /// The leak check's originals come from anywhere in the table, differ from run to run, and
    /// honour where:, also when it keeps fewer rows than the table's estimate suggests.
    @Test func leakCheckSamplesAreDrawnAtRandomFromTheWholeTable() throws {
        let scratch = try MySQLScratch("mysample")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: "CREATE TABLE people (id int PRIMARY KEY, email varchar(100));\n"
            + "INSERT INTO people VALUES " + (1...10_000).map { "(\($0), 'person\($0)@corp.example.org')" }.joined(separator: ", ")
            + ";\nANALYZE TABLE people;")
        // Each run has a source of its own.
        func sample(where condition: String? = nil) throws -> [Int] {
            let source = try MySQLSource(url: url, readers: 1)
            defer { source.close() }
            // Large enough an estimate that the estimate-sized pick is tried before the full shuffle.
            #expect(try #require(source.schema.table(named: "people")).estimatedRows > 400)
            let job = try MySQLRestoreTests.job(scratch, rules: """
                tables:
                  people:
                    \(condition.map { "where: \"\($0)\"" } ?? "")
                    columns: { id: keep, email: { transform: email, unique: true } }
                """, source: url)
            defer { job.remove() }
            let plan = try #require(RestorePlan.make(rules: try job.database("app").rules, schema: source.schema)
                                        .table(named: "people"))
            let rows = try source.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 100)
            #expect(rows.allSatisfy { $0.value == "person\($0.key[0] ?? "?")@corp.example.org" })
            return rows.compactMap { $0.key[0].flatMap { Int($0) } }
        }
        let first = try sample(), second = try sample()
        #expect(first.count == 100 && Set(first).count == 100)
        #expect(Set(first) != Set(second), "two samples differ")
        #expect(first.contains { $0 > 1000 } && second.contains { $0 > 1000 }, "rows beyond the first 1,000 are reached")
        let even = try sample(where: "id % 2 = 0")
        #expect(even.count == 100 && even.allSatisfy { $0 % 2 == 0 } && even.contains { $0 > 1000 })
        let few = try sample(where: "id <= 150")
        #expect(few.count == 100 && few.allSatisfy { $0 <= 150 }, "\(few.count) rows")
    }

    /// Within one run, a large table's columns are sampled from one set of rows picked once (read
    /// by key, not by scanning the table per column); a column empty in most of those rows is
    /// still sampled in full, from the whole table.
    @Test func leakCheckSamplesOfOneTableShareOnePickOfRows() throws {
        let scratch = try MySQLScratch("mysamplekeys")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: "CREATE TABLE people (id int PRIMARY KEY, email varchar(100), "
            + "nickname varchar(40));\nINSERT INTO people VALUES "
            + (1...10_000).map { "(\($0), 'person\($0)@corp.example.org', \($0 % 20 == 0 ? "'nick\($0)'" : "NULL"))" }
                .joined(separator: ", ")
            + ";\nANALYZE TABLE people;")
        let source = try MySQLSource(url: url, readers: 1)
        defer { source.close() }
        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              people: { columns: { id: keep, email: { transform: email, unique: true }, nickname: username } }
            """, source: url)
        defer { job.remove() }
        let plan = try #require(RestorePlan.make(rules: try job.database("app").rules, schema: source.schema)
                                    .table(named: "people"))
        var keys = Set<String>()
        for _ in 0..<6 {
            let rows = try source.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 100)
            #expect(rows.count == 100 && rows.allSatisfy { $0.value == "person\($0.key[0] ?? "?")@corp.example.org" })
            keys.formUnion(rows.compactMap { $0.key[0] })
        }
        #expect(keys.count <= 400, "six samples of 100 come from one pick of 400 rows, not six scans: \(keys.count)")
        #expect(keys.contains { Int($0)! > 1000 }, "rows beyond the first 1,000 are reached")
        let sparse = try source.sampleRows(plan, keyColumns: ["id"], column: "nickname", limit: 100)
        #expect(sparse.count == 100 && sparse.allSatisfy { $0.value == "nick\($0.key[0] ?? "?")" })
    }

    /// An integer key is sampled without reading the table: ids are drawn between its smallest
    /// and largest value and the existing ones kept, so every row has the same chance (two blocks
    /// of ids with a gap between them get a half each). Where too few drawn ids would exist (a
    /// where: that keeps few rows, a pick too large for the table) the scan picks instead. The
    /// JSON paths and the coverage report sample from the same drawn rows.
    @Test func samplesOfAnIntegerKeyAreDrawnEvenlyFromTheWholeKeyRange() throws {
        let scratch = try MySQLScratch("mydrawn")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: """
            SET SESSION max_recursive_iterations = 100000;
            CREATE TABLE people (id bigint PRIMARY KEY, email varchar(100), profile json);
            INSERT INTO people WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 10000)
              SELECT IF(g <= 5000, g, g + 15000), CONCAT('person', IF(g <= 5000, g, g + 15000), '@corp.example.org'),
                     JSON_OBJECT('id', IF(g <= 5000, g, g + 15000), 'contact', JSON_OBJECT('email', 'x@corp.example.org'))
                FROM n;
            ANALYZE TABLE people;
            """)
        let source = try MySQLSource(url: url, readers: 1)
        defer { source.close() }
        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              people:
                columns: { id: keep, email: { transform: email, unique: true }, profile: { transform: json, paths: { id: keep, contact.email: email } } }
            """, source: url)
        defer { job.remove() }
        let plan = try #require(RestorePlan.make(rules: try job.database("app").rules, schema: source.schema)
                                    .table(named: "people"))
        let exists = { (id: Int) in (1...5000).contains(id) || (20001...25000).contains(id) }
        for _ in 0..<3 {
            let drawn = try #require(try source.withConnection {
                try source.drawnKeys(plan, key: "id", filter: nil, count: 400, on: $0)
            }).compactMap { $0[0].flatMap { Int($0) } }
            #expect(drawn.count == 400 && Set(drawn).count == 400 && drawn.allSatisfy(exists))
            let low = drawn.filter { $0 <= 5000 }.count
            #expect((140...260).contains(low), "each block holds half the rows and gets about half the pick: \(low) of 400")
        }
        #expect(try source.withConnection {
            try source.drawnKeys(plan, key: "id", filter: "(id <= 150)", count: 400, on: $0)
        } == nil, "a where: that keeps 150 rows: too few drawn ids exist, the scan picks")
        #expect(try source.withConnection { try source.drawnKeys(plan, key: "id", filter: nil, count: 9000, on: $0) } == nil,
                "more ids than one statement looks up: the scan picks")

        let profiles = try source.sampleRows(plan, keyColumns: [], column: "profile", limit: 200)
        #expect(profiles.count == 200 && profiles.allSatisfy { $0.key.isEmpty })
        let profileIDs = profiles.compactMap { row in
            (try? JSONSerialization.jsonObject(with: Data(row.value.utf8)) as? [String: Any])?["id"] as? Int
        }
        #expect(profileIDs.count == 200 && profileIDs.allSatisfy(exists) && profileIDs.contains { $0 > 20000 })
        let columns = try source.sampleColumns(plan, columns: ["email"], limit: 50)
        let emails = try #require(columns["email"])
        let emailIDs = emails.compactMap { Int($0.dropFirst("person".count).prefix { $0.isNumber }) }
        #expect(emailIDs.count == 50 && emailIDs.allSatisfy(exists) && emailIDs.contains { $0 > 20000 })
        let leak = try source.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 100)
        #expect(leak.count == 100 && leak.allSatisfy { $0.value == "person\($0.key[0] ?? "?")@corp.example.org" })
    }

    /// The snapshot keeps the rows, not the definition: columns renamed after the rules were
    /// checked (email and notes swapped, an instant change) would put emails under notes' keep.
    /// Every read and sample first locks the table and compares its columns with the checked ones.
    @Test func aTableAlteredAfterTheCheckIsNotRead() throws {
        let scratch = try MySQLScratch("myaltered")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: """
            CREATE TABLE people (id int PRIMARY KEY, email varchar(100), notes varchar(100));
            INSERT INTO people VALUES (1, 'secret@corp.example.org', 'harmless');
            CREATE TABLE other (id int PRIMARY KEY);
            """)
        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              people: { columns: { id: keep, email: email, notes: keep } }
              other: { columns: { id: keep } }
            """, source: url)
        defer { job.remove() }
        let rules = try job.database("app").rules
        for (readers, change, what) in [
            (2, "RENAME COLUMN email TO notes, RENAME COLUMN notes TO email", "moved or changed: notes, email"),
            (1, "ADD COLUMN ssn varchar(20), DROP COLUMN notes", "added: ssn; dropped: notes"),
        ] {
            try scratch.connect("src").query("DROP TABLE IF EXISTS people")
            try scratch.connect("src").executeScript("""
                CREATE TABLE people (id int PRIMARY KEY, email varchar(100), notes varchar(100));
                INSERT INTO people VALUES (1, 'secret@corp.example.org', 'harmless');
                """)
            let source = try MySQLSource(url: url, readers: readers)
            defer { source.close() }
            let plan = try #require(RestorePlan.make(rules: rules, schema: source.schema).table(named: "people"))
            try scratch.connect("src").query("ALTER TABLE people \(change)")
            let expected = "reading people from the source: the columns of people changed after the rules were checked "
                + "against them (\(what)); none of its rows were read"
            #expect {
                _ = try source.makeReader(for: plan).next()
            } throws: { error in
                "\(error)".hasPrefix(expected)
            }
            #expect(throws: MySQLError.self) { try source.sampleRows(plan, keyColumns: ["id"], column: "email", limit: 5) }
            // The refused read gave its connection back: the snapshot is still usable for other tables.
            let other = try #require(RestorePlan.make(rules: rules, schema: source.schema).table(named: "other"))
            let reader = try source.makeReader(for: other)
            #expect(try reader.next() == nil)
            reader.close()
        }
    }

    @Test func withoutLockPrivilegesTablesAreReadOneAfterAnotherInOneSnapshot() throws {
        let scratch = try MySQLScratch("mynolock")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE a (id int PRIMARY KEY, email varchar(100)); CREATE TABLE b (id int PRIMARY KEY, email varchar(100));
            INSERT INTO a VALUES (1, 'a1@corp.example.org'), (2, 'a2@corp.example.org');
            INSERT INTO b VALUES (1, 'b1@corp.example.org');
            """)
        _ = try scratch.url("stage", create: true)
        let reader = try scratch.account("reader", suffix: "src", grants: ["SELECT, SHOW VIEW ON `\(scratch.name("src"))`.*"])
        // The reader cannot write either: its sessions are read-only and it has no grant for it.
        let session = try MySQLSource.connect(reader, purpose: "test")
        #expect(throws: MySQLError.self) { try session.query("INSERT INTO a VALUES (9, 'x')") }

        let source = try MySQLSource(url: reader, readers: 3)
        #expect(source.snapshotConnections == 1)
        #expect(source.notices.first?.contains("ONE connection") == true, "\(source.notices)")
        source.close()

        let job = try MySQLRestoreTests.job(scratch, rules: """
            tables:
              a: { columns: { id: keep, email: email } }
              b: { columns: { id: keep, email: email } }
            """, source: reader)
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try MySQLRestoreTests.restore(job, jobs: 3, observer: observer)
        #expect(report.outcome == "swapped")
        #expect(observer.phases.contains { $0.contains("ONE connection") })
        // The report says which consistency the run got, and why, as the log does.
        let notice = try #require(report.notices.first, "\(report.notices)")
        #expect(notice.contains("may neither LOCK TABLES nor FLUSH TABLES WITH READ LOCK (RELOAD)"), "\(notice)")
        #expect(notice.contains("reading \(scratch.name("src")) on ONE connection, table after table, inside one consistent snapshot"))
        #expect(try String(decoding: report.json(), as: UTF8.self).contains("ONE connection, table after table"))
        #expect(report.summary.contains("note: the source account may neither LOCK TABLES"))
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM a UNION ALL SELECT COUNT(*) FROM b") == [["2"], ["1"]])
    }

    @Test func withReloadButNoLockTablesTheSnapshotsAreTakenUnderAGlobalReadLock() throws {
        let scratch = try MySQLScratch("myftwrl")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1);
            """)
        let reader = try scratch.account("reload", suffix: "src", grants: ["SELECT ON `\(scratch.name("src"))`.*", "RELOAD ON *.*"])
        let source = try MySQLSource(url: reader, readers: 2)
        defer { source.close() }
        #expect(source.snapshotConnections == 2)
        #expect(source.notices.first?.contains("under FLUSH TABLES WITH READ LOCK") == true, "\(source.notices)")
        // The global read lock is gone again: the server takes writes.
        try scratch.connect("src").query("INSERT INTO b VALUES (1)")
    }

    @Test func readOnlySourceSessionsRefuseWrites() throws {
        let scratch = try MySQLScratch("myro")
        defer { scratch.drop() }
        let url = try scratch.url("src", create: true, sql: "CREATE TABLE a (id int PRIMARY KEY)")
        let session = try MySQLSource.connect(url, purpose: "test")
        #expect(throws: MySQLError.self) { try session.query("INSERT INTO a VALUES (1)") }
        #expect(try scratch.rows("src", "SELECT COUNT(*) FROM a") == [["0"]])
    }

    func rules(for tables: [String]) throws -> CompiledRules {
        let job = try TestJob(databases: """
            app:
              engine: mysql
              source: mysql://root@127.0.0.1:1/x
              target: mysql://root@127.0.0.1:2/y
              rules: rules.yaml
            """, files: ["rules.yaml": "tables:\n" + tables.map { "  \($0): { columns: { id: keep } }" }.joined(separator: "\n")])
        defer { job.remove() }
        return try job.database("app").rules
    }
}

/// The text rewrites that make views, routines and triggers portable.
@Suite struct MySQLSQLTextTests {
    @Test func definerAndSourceDatabaseAreTakenOut() {
        let view = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS "
            + "select `app`.`users`.`id` AS `id`,'`app`.`x`' AS `s` from `app`.`users` where `app`.`users`.`app` = 'app.'"
        #expect(MySQLSchemaObjects.portable(view, database: "app")
                    == "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select `users`.`id` AS `id`,'`app`.`x`' "
                    + "AS `s` from `users` where `users`.`app` = 'app.'")
        let trigger = "CREATE DEFINER=`some``one`@`%` TRIGGER t BEFORE INSERT ON app.users FOR EACH ROW "
            + "SET NEW.x = (SELECT COUNT(*) FROM app . other) -- app.users\n"
        #expect(MySQLSchemaObjects.portable(trigger, database: "app")
                    == "CREATE TRIGGER t BEFORE INSERT ON users FOR EACH ROW SET NEW.x = (SELECT COUNT(*) FROM app . other) -- app.users\n")
        #expect(MySQLSQLText.withoutDefiner("CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1") == "CREATE PROCEDURE p() SELECT 1")
        #expect(MySQLSQLText.orReplace("CREATE VIEW v AS SELECT 1") == "CREATE OR REPLACE VIEW v AS SELECT 1")
    }

    @Test func scriptsSplitAsTheMySQLClientSplitsThem() {
        let script = "-- only a comment;\n# and another;\n/* and a block; */\n\nSELECT 'a;b'  ;\n"
            + "/*!40101 SET NAMES utf8mb4 */;\ndelimiter $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END$$\n"
            + "DELIMITER ;\nSELECT `we;ird` FROM x --no comment without a space\n;SELECT 1"
        let statements = MySQLSQLText.statements(script)
        #expect(statements.map(\.text) == [
            "SELECT 'a;b'", "/*!40101 SET NAMES utf8mb4 */", "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END",
            "SELECT `we;ird` FROM x --no comment without a space", "SELECT 1",
        ])
        #expect(statements.map(\.line) == [5, 6, 8, 10, 11])
        #expect(MySQLSQLText.statements("-- nothing; here\n /* at all; */ ;; ").isEmpty)
    }

    @Test func aWhereMustStayOneConditionHoweverBackslashesAreRead() {
        for fine in ["created_at > now() - interval 180 day", #"note LIKE '%\_%' AND name <> "it''s""#,
                     "id IN (SELECT user_id FROM orders WHERE (total > 10)) -- recent (", "`we)ird` = ')' /* ( */"] {
            #expect(MySQLSQLText.conditionProblem(fine) == nil, "\(fine)")
        }
        let refused = [
            "id > 0) UNION SELECT 1, 2 FROM accounts WHERE (1": "it closes a parenthesis it did not open",
            "id > 0; DROP TABLE x": "it holds a ; (a second statement)",
            "id > 0 /*!) UNION SELECT 1, 2 FROM accounts WHERE (1 */": "it holds a /*! ... */ comment, which the server runs",
            "(id > 0": "it leaves a parenthesis open",
            "note = 'open": "it leaves a string or quoted name open",
            "id > 0 /* open": "it leaves a comment open",
            // One string where backslashes escape; under NO_BACKSLASH_ESCAPES the quote ends it early.
            #"note = 'a\') UNION SELECT 1, 2 FROM accounts -- '"#: "it closes a parenthesis it did not open",
            // The same with double quotes, which ANSI_QUOTES turns into names without escapes.
            #"note = "a\") UNION SELECT 1, 2 FROM accounts -- ""#: "it closes a parenthesis it did not open",
        ]
        for (condition, problem) in refused {
            #expect(MySQLSQLText.conditionProblem(condition) == problem, "\(condition)")
        }
    }

    @Test func secondaryIndexesAndForeignKeysWaitForTheData() {
        let create = """
            CREATE TABLE `orders` (
              `id` int(11) NOT NULL AUTO_INCREMENT,
              `seq` int(11) NOT NULL,
              `user_id` bigint(20) NOT NULL,
              `note` text DEFAULT 'KEY `x` (`y`),',
              `doc` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`doc`)),
              PRIMARY KEY (`id`,`seq`),
              UNIQUE KEY `orders_seq` (`seq`),
              KEY `orders_id` (`id`),
              KEY `orders_user` (`user_id`),
              FULLTEXT KEY `orders_note` (`note`),
              CONSTRAINT `orders_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE,
              CONSTRAINT `positive` CHECK (`seq` > 0)
            ) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """
        let split = MySQLSchemaObjects.split(create, table: "orders", autoIncrementColumn: "id", hasPrimaryKey: true,
                                             foreignKeys: [:])
        #expect(split.deferredIndexes == ["UNIQUE KEY `orders_seq` (`seq`)", "KEY `orders_user` (`user_id`)"])
        #expect(split.foreignKeys.map(\.name) == ["orders_user_fk"])
        #expect(split.foreignKeys.first?.clause
                    == "CONSTRAINT `orders_user_fk` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE")
        #expect(split.createSQL == """
            CREATE TABLE `orders` (
              `id` int(11) NOT NULL AUTO_INCREMENT,
              `seq` int(11) NOT NULL,
              `user_id` bigint(20) NOT NULL,
              `note` text DEFAULT 'KEY `x` (`y`),',
              `doc` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`doc`)),
              PRIMARY KEY (`id`,`seq`),
              KEY `orders_id` (`id`),
              FULLTEXT KEY `orders_note` (`note`),
              CONSTRAINT `positive` CHECK (`seq` > 0)
            ) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """)
    }
}

extension MySQLSQLText {
    /// `CREATE ... VIEW` → `CREATE OR REPLACE ... VIEW`.
    fileprivate static func orReplace(_ sql: String) -> String {
        guard sql.uppercased().hasPrefix("CREATE "), !sql.uppercased().hasPrefix("CREATE OR REPLACE ") else { return sql }
        return "CREATE OR REPLACE " + sql.dropFirst("CREATE ".count)
    }
}
