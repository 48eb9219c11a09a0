import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// The rules lifecycle as a new user meets it: `scan --write` on a database nobody wrote rules
/// for, `check` refusing the lines marked for review, a restore that passes the leak check, the
/// coverage report, and then the schema moving on (drift, `scan --patch`, kept columns that
/// look personal).
@Suite(.serialized) struct ScanCommandTests {
    /// The demo fixtures of the three engines, each in a fresh source database.
    enum Fixture: String, CaseIterable, CustomTestStringConvertible {
        case postgres, mysql, documentdb
        var testDescription: String { rawValue }
    }

    struct Loaded {
        let job: TestJob
        let database: String
        let cleanup: () -> Void
        var rules: String { job.directory.appendingPathComponent("rules.yaml").path }
    }

    static func load(_ fixture: Fixture) throws -> Loaded {
        switch fixture {
        case .postgres:
            let scratch = try PostgresScratch("scanpg")
            let sql = try String(contentsOf: Repository.root.appendingPathComponent("fixtures/postgres/app.sql"), encoding: .utf8)
            _ = try scratch.url("src", create: true, sql: sql)
            let job = try scratch.job(rules: "")
            return Loaded(job: job, database: "app") { scratch.drop(); job.remove() }
        case .mysql:
            let scratch = try MySQLScratch("scanmy")
            let sql = try String(contentsOf: Repository.root.appendingPathComponent("fixtures/mysql/app.sql"), encoding: .utf8)
            _ = try scratch.url("src", create: true, sql: sql)
            let job = try scratch.job(rules: "")
            return Loaded(job: job, database: "app") { scratch.drop(); job.remove() }
        case .documentdb:
            let scratch = try DocumentDBScratch("scandoc")
            try scratch.loadFixture("src")
            let job = try scratch.job(rules: "")
            return Loaded(job: job, database: "messages") { scratch.drop(); job.remove() }
        }
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// `scan --write` over the job's rule file; what it wrote.
    static func scanned(_ job: TestJob, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> String {
        let rules = job.directory.appendingPathComponent("rules.yaml").path
        let scan = try CommandRunner.run(["scan", "-c", job.path, "--write", rules, "--force"])
        #expect(scan.status == 0, "\(scan.stderr)", sourceLocation: sourceLocation)
        return try String(contentsOfFile: rules, encoding: .utf8)
    }

    /// A rule file as a reviewer who accepts every suggestion leaves it: the review marks gone.
    static func reviewed(_ written: String) -> String {
        written.replacingOccurrences(of: #", review: "[^"]*""#, with: "", options: .regularExpression)
    }

    @Test(arguments: Fixture.allCases)
    func aScannedRuleFilePassesCheckOnceReviewedAndRestoresWithoutLeaks(_ fixture: Fixture) throws {
        let loaded = try Self.load(fixture)
        defer { loaded.cleanup() }
        try FileManager.default.removeItem(atPath: loaded.rules)

        let scan = try CommandRunner.run(["scan", "-c", loaded.job.path, "--write", loaded.rules])
        #expect(scan.status == 0, "\(scan.stderr)")
        #expect(scan.stdout.contains("wrote \(loaded.rules)") && scan.stdout.contains("to review"), "\(scan.stdout)")
        let written = try String(contentsOfFile: loaded.rules, encoding: .utf8)
        #expect(written.contains("review:"), "the fixtures hold secrets and free text that need a decision")
        let again = try CommandRunner.run(["scan", "-c", loaded.job.path, "--write", loaded.rules])
        #expect(again.status == 2 && again.stderr.contains("rules.yaml exists; use --patch"),
                "an existing rule file is never overwritten silently: \(again.stderr)")

        // As written, the rule file is refused for the lines that wait for a decision.
        let unreviewed = try CommandRunner.run(["check", "-c", loaded.job.path])
        #expect(unreviewed.status == 2, "\(unreviewed.stdout)")
        #expect(unreviewed.stderr.contains("rules.yaml:") && unreviewed.stderr.contains("review"), "\(unreviewed.stderr)")

        // The reviewer accepts every suggestion: the marks go, the rules pass.
        let reviewed = Self.reviewed(written)
        try loaded.job.write("rules.yaml", reviewed)
        let check = try CommandRunner.run(["check", "-c", loaded.job.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let report = loaded.job.directory.appendingPathComponent("report.json").path
        let restore = try CommandRunner.run(["restore", "-c", loaded.job.path, "--report", report])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("0 found in staging"), "\(restore.stdout)")
        #expect(restore.stdout.contains("0 kept though they look personal"), "\(restore.stdout)")

        // The coverage report: one line per column and path, an audit page, and JSON.
        let table = try CommandRunner.run(["report", "coverage", "--report", report])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("masked") && table.stdout.contains("kept, looks clean"))
        #expect(table.stdout.contains("email"), "an email column is masked as email")
        let summary = try CommandRunner.run(["report", "coverage", "--report", report, "--summary"])
        #expect(summary.stdout.contains("Rules: \(loaded.rules) (sha256 "), "\(summary.stdout)")
        #expect(summary.stdout.contains("0 kept although the sample looks personal"))
        let coverage = try #require(try Self.json(
            try CommandRunner.run(["report", "coverage", "--report", report, "--json"]).stdout) as? [[String: Any]])
        let entries = try #require(coverage.first?["entries"] as? [[String: Any]])
        let masked = entries.filter { $0["status"] as? String == "masked" }
        #expect(masked.count >= 8 && entries.count > masked.count)
        #expect(entries.allSatisfy { $0["rule"] != nil && $0["classification"] != nil })
    }

    /// Sakila's and Pagila's `staff`: `username varchar(16)`, where `username` can write 35
    /// characters. The suggestion carries the cut `check` asks for; under a unique index the
    /// cut would give up distinct outputs, so that one waits for a person.
    @Test(arguments: [Fixture.postgres, .mysql])
    func suggestionsFitTheirColumnsLength(_ fixture: Fixture) throws {
        let sql = """
            CREATE TABLE staff (staff_id int PRIMARY KEY, first_name varchar(45) NOT NULL, last_name varchar(45) NOT NULL,
              email varchar(30) UNIQUE, username varchar(16) NOT NULL);
            INSERT INTO staff VALUES (1, 'Mike', 'Hillyer', 'Mike.Hillyer@sakilastaff.com', 'Mike'),
              (2, 'Jon', 'Stephens', 'Jon.Stephens@sakilastaff.com', 'Jon');
            """
        let job: TestJob
        let cleanup: () -> Void
        switch fixture {
        case .postgres:
            let scratch = try PostgresScratch("scanlen")
            _ = try scratch.url("src", create: true, sql: sql)
            job = try scratch.job(rules: "")
            cleanup = { scratch.drop() }
        default:
            let scratch = try MySQLScratch("scanlen")
            _ = try scratch.url("src", create: true, sql: sql)
            job = try scratch.job(rules: "")
            cleanup = { scratch.drop() }
        }
        defer { cleanup(); job.remove() }
        let written = try Self.scanned(job)
        let line = { (column: String) in written.split(separator: "\n").first { $0.contains(" \(column): ") }.map(String.init) ?? "" }
        #expect(line("username").contains("transform: username, max_length: 16"), "\(written)")
        #expect(line("email").contains("max_length: 30") && line("email").contains("review:")
                    && !line("email").contains("unique: true"), "\(written)")

        // Every suggestion accepted: the lengths pass, and the cut under the unique index is the
        // one problem left, as its review mark warned.
        let reviewed = Self.reviewed(written)
        try job.write("rules.yaml", reviewed)
        let check = try CommandRunner.run(["check", "-c", job.path])
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("characters but the column is"), "\(check.stdout)")
        #expect(check.stdout.contains("email: column is under a unique index"), "\(check.stdout)")
        #expect(check.stdout.contains("(1)"), "\(check.stdout)")
    }

    /// Homes on a map: numeric latitude and longitude columns (and sample_restaurants'
    /// `address.coord[]`, GeoJSON `location.coordinates[]`) are suggested `coordinate`, a spatial
    /// column (Sakila's `address.location`) keep or null, each for review, since a shop's place is
    /// not personal and a home's is. Accepted, every coordinate moves, by at most 1000 m.
    @Test(arguments: Fixture.allCases)
    func coordinatesOfHomesAreMovedNotKept(_ fixture: Fixture) throws {
        let job: TestJob
        let cleanup: () -> Void
        let originals: () throws -> [Double]
        let copies: () throws -> [Double]
        switch fixture {
        case .postgres, .mysql:
            let sql = """
                CREATE TABLE homes (id int PRIMARY KEY, latitude decimal(9,6) NOT NULL, lng double precision,
                  spot \(fixture == .mysql ? "point" : "point NOT NULL"));
                INSERT INTO homes VALUES \((1...60).map { "(\($0), \(40 + Double($0) / 997), \(-74 - Double($0) / 1009), point(\($0), \($0)))" }
                    .joined(separator: ", "));
                """
            let rows: (String) throws -> [[String?]]
            if fixture == .postgres {
                let scratch = try PostgresScratch("scangeo")
                _ = try scratch.url("src", create: true, sql: sql)
                (job, cleanup) = (try scratch.job(rules: ""), { scratch.drop() })
                rows = { try scratch.rows($0, "SELECT latitude, lng FROM homes ORDER BY id") }
            } else {
                let scratch = try MySQLScratch("scangeo")
                _ = try scratch.url("src", create: true, sql: sql)
                (job, cleanup) = (try scratch.job(rules: ""), { scratch.drop() })
                rows = { try scratch.rows($0, "SELECT latitude, lng FROM homes ORDER BY id") }
            }
            originals = { try rows("src").flatMap { $0.compactMap { $0.flatMap(Double.init) } } }
            copies = { try rows("stage").flatMap { $0.compactMap { $0.flatMap(Double.init) } } }
        case .documentdb:
            let scratch = try DocumentDBScratch("scangeo")
            try scratch.insert("src", "homes", (1...60).map { n in
                #"{"_id": \#(n), "address": {"coord": [\#(-74 - Double(n) / 1009), \#(40 + Double(n) / 997)]}, "#
                    + #""location": {"type": "Point", "coordinates": [\#(-73 - Double(n) / 1013), \#(41 + Double(n) / 991)]}}"#
            })
            job = try scratch.job(rules: "")
            cleanup = { scratch.drop() }
            func coordinates(_ suffix: String) throws -> [Double] {
                try scratch.documents(suffix, "homes").flatMap { text -> [Double] in
                    // Canonical extended JSON: each double is { "$numberDouble": "…" }.
                    let document = try #require(try Self.json(text) as? [String: Any])
                    let arrays = [(document["address"] as? [String: Any])?["coord"], (document["location"] as? [String: Any])?["coordinates"]]
                    return arrays.flatMap { ($0 as? [[String: String]] ?? []).compactMap { $0["$numberDouble"].flatMap(Double.init) } }
                }
            }
            originals = { try coordinates("src") }
            copies = { try coordinates("stage") }
        }
        defer { cleanup(); job.remove() }
        let written = try Self.scanned(job)
        let lines = written.split(separator: "\n").filter { $0.contains("geolocation") }
        #expect(lines.count == (fixture == .documentdb ? 2 : 3) && lines.allSatisfy { $0.contains("review:") }, "\(written)")
        #expect(lines.filter { $0.contains("transform: coordinate") }.count == 2, "\(written)")
        if fixture != .documentdb {
            #expect(lines.contains { $0.contains("spot:") && $0.contains(fixture == .mysql ? "transform: null" : "transform: keep") },
                    "\(written)")
        }
        try job.write("rules.yaml", Self.reviewed(written))
        let restore = try CommandRunner.run(["restore", "-c", job.path])
        #expect(restore.status == 0, "\(restore.stderr)")
        let before = try originals(), after = try copies()
        #expect(before.count == (fixture == .documentdb ? 240 : 120) && after.count == before.count)
        for (original, copy) in zip(before, after) {
            #expect(original != copy && abs(original - copy) <= 1000 / 111_320 + 1e-9, "\(original) → \(copy)")
        }
    }

    /// MongoDB's sample_analytics `customers` and sample_airbnb `reviews`: `tier_and_details` is
    /// a map keyed by account ids and `reviews` an array of objects, each empty in some documents.
    /// Their empty values need no line of their own (the lines below lead the rules there; a
    /// `reviews: keep` would keep any field reviews gain later, and a second `tier_and_details`
    /// line would name the map twice). A field seen only null or empty still gets one, since its
    /// name is copied. The whole file, its review marks removed, restores without a leak.
    @Test func emptyAndNullFieldsGetTheRulesTheyNeed() throws {
        let scratch = try DocumentDBScratch("scanmap")
        defer { scratch.drop() }
        let accountIDs: [[String]] = (0..<60).map { (n: Int) -> [String] in
            (0..<(n % 4)).map { (k: Int) -> String in String(format: "%08x%08x", n * 7919 + k, (n + 1) * 104_729 + k) }
        }
        let customers = (0..<60).map { n in
            let tiers = accountIDs[n].map { id in
                #""\#(id)": {"tier": "Gold", "id": "\#(id)", "active": true, "benefits": ["car rental"]}"#
            }
            let reviews = n % 2 == 0 ? "[]" : #"[{"reviewer_name": "Ana Silva", "stars": \#(n % 5)}]"#
            return #"{"_id": \#(n), "username": "user\#(n)", "name": "Leslie Martinez", "email": "leslie\#(n)@gmail.com", "#
                + #""tier_and_details": {\#(tiers.joined(separator: ", "))}, "reviews": \#(reviews), "tags": [], "#
                + #""deleted_at": null, "backup_email": null}"#
        }
        try scratch.insert("src", "customers", customers)
        let job = try scratch.job(rules: "")
        defer { job.remove() }
        let written = try Self.scanned(job)
        #expect(written.components(separatedBy: "\n      tier_and_details:").count == 2, "\(written)")
        #expect(written.contains("tier_and_details: { keys: hash }"), "\(written)")
        let line = { (path: String) in written.split(separator: "\n").first { $0.hasPrefix("      \(path):") }.map(String.init) }
        #expect(line("reviews") == nil && line(#""reviews[].reviewer_name""#)?.contains("full_name") == true, "\(written)")
        #expect(line("tags")?.contains("transform: keep, review: \"seen only empty") == true, "\(written)")
        #expect(line("deleted_at")?.contains(": keep ") == true, "\(written)")
        #expect(line("backup_email")?.contains("transform: email, review:") == true, "\(written)")

        try job.write("rules.yaml", Self.reviewed(written))
        let check = try CommandRunner.run(["check", "-c", job.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let restore = try CommandRunner.run(["restore", "-c", job.path])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("0 found in staging"), "\(restore.stdout)")
        let staged = try scratch.documents("stage", "customers").joined()
        #expect(!staged.contains("@gmail.com") && !staged.contains("Ana Silva") && staged.contains("Gold"), "\(staged.prefix(400))")
        let keys = accountIDs.joined().filter { staged.contains("\"\($0)\" : {") || staged.contains("\"\($0)\": {") }
        #expect(keys.isEmpty && accountIDs.joined().contains { staged.contains($0) },
                "the map's field names are hashed, the ids under them kept as the suggestion says: \(keys)")
    }

    /// The same inside a JSON column: a key seen only null gets a line (its name is copied), an
    /// array sometimes empty is led to by the lines below it.
    @Test func emptyAndNullKeysOfAJSONColumnGetTheRulesTheyNeed() throws {
        let scratch = try PostgresScratch("scanjsonnull")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE TABLE orders (id int PRIMARY KEY, meta jsonb);
            INSERT INTO orders SELECT g, jsonb_build_object('theme', 'dark', 'cancelled_by', NULL,
                'items', CASE WHEN g % 2 = 0 THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('sku', 'A' || g)) END)
              FROM generate_series(1, 40) g;
            """)
        let job = try scratch.job(rules: "")
        defer { job.remove() }
        let written = try Self.scanned(job)
        #expect(written.contains("cancelled_by: keep") && written.contains("items[].sku") && !written.contains(" items:"),
                "\(written)")
        let check = try CommandRunner.run(["check", "-c", job.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let restore = try CommandRunner.run(["restore", "-c", job.path])
        #expect(restore.status == 0, "\(restore.stderr)")
    }

    /// An array column is judged by its elements (the suggestion masks each with `array: true`);
    /// hstore's text form ("k"=>"v") is read like prose, so an email among its keys shows.
    @Test func arrayAndHstoreColumnsAreJudgedByWhatTheyHold() throws {
        let scratch = try PostgresScratch("scanarray")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: """
            CREATE EXTENSION IF NOT EXISTS hstore;
            CREATE TABLE people (id int PRIMARY KEY, aliases text[], attrs hstore, tags text[]);
            INSERT INTO people SELECT g, ARRAY['alias' || g || '@x.org', 'other' || g || '@y.org'],
                hstore(ARRAY['nickname', 'ann' || g, 'backup' || g || '@mail.org', 'yes']), ARRAY['blue', 'green']
              FROM generate_series(1, 40) g;
            """)
        let job = try scratch.job(rules: "")
        defer { job.remove() }
        let written = try Self.scanned(job)
        #expect(written.contains("aliases: { transform: email, array: true }"), "\(written)")
        #expect(written.contains("attrs: { transform: null, review:"), "\(written)")
        #expect(written.contains("tags: keep"), "\(written)")
        try job.write("rules.yaml", Self.reviewed(written))
        let restore = try CommandRunner.run(["restore", "-c", job.path])
        #expect(restore.status == 0 && restore.stdout.contains("0 found in staging"), "\(restore.stdout)\(restore.stderr)")
        let staged = try scratch.connect("stage").execute("SELECT aliases::text, attrs::text FROM people").rows
        #expect(staged.count == 40 && staged.allSatisfy { !($0[0] ?? "").contains("@x.org") && $0[1] == nil }, "\(staged.prefix(2))")
    }

    static let sourceSQL = """
        CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, plan text NOT NULL, note text);
        INSERT INTO users SELECT g, 'user' || g || '@corp.example.org', (ARRAY['free','pro','team'])[1 + g % 3], NULL
          FROM generate_series(1, 120) g;
        CREATE TABLE sessions (id int PRIMARY KEY, user_id int REFERENCES users, user_agent text);
        INSERT INTO sessions SELECT g, g, 'Mozilla/5.0' FROM generate_series(1, 40) g;
        """

    @Test func driftIsGroupedWithSuggestedRulesAndCounted() throws {
        let scratch = try PostgresScratch("scandrift")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL + """
            ALTER TABLE users ADD COLUMN profile jsonb;
            UPDATE users SET profile = jsonb_build_object('theme', 'dark', 'contact', jsonb_build_object('email', 'p' || id || '@corp.example.org'));
            """)
        let job = try scratch.job(rules: "")
        defer { job.remove() }
        let rules = job.directory.appendingPathComponent("rules.yaml").path
        #expect(try CommandRunner.run(["scan", "-c", job.path, "--write", rules, "--force"]).status == 0)
        #expect(try CommandRunner.run(["check", "-c", job.path]).status == 0, "a fresh scan needs no review here")
        #expect(try CommandRunner.run(["scan", "-c", job.path, "--patch"]).stdout.contains("nothing") ,
                "with nothing missing the patch says so")

        // Production moves on: a column and a table appear, one disappears.
        try scratch.connect("src").execute("""
            ALTER TABLE users ADD COLUMN mobile text;
            UPDATE users SET mobile = '+1 415 555 ' || lpad(id::text, 4, '0');
            CREATE TABLE newsletter (id int PRIMARY KEY, address text);
            INSERT INTO newsletter SELECT g, 'reader' || g || '@example.net' FROM generate_series(1, 30) g;
            ALTER TABLE sessions DROP COLUMN user_agent;
            UPDATE users SET profile = profile || jsonb_build_object('backup', 'b' || id || '@corp.example.org');
            ALTER TABLE users ALTER COLUMN email TYPE varchar(12) USING left(email, 12);
            """)
        let metrics = job.directory.appendingPathComponent("check.prom").path
        let check = try CommandRunner.run(["check", "-c", job.path, "--metrics-file", metrics])
        #expect(check.status == 1)
        #expect(check.stdout.contains("new (3):") && check.stdout.contains("removed (1):") && check.stdout.contains("changed (1):"),
                "\(check.stdout)")
        #expect(check.stdout.contains("public.users.mobile: column has no rule"))
        #expect(check.stdout.contains("public.sessions.user_agent"))
        #expect(check.stdout.contains("public.users.profile: JSON path backup: path has no rule"))
        #expect(check.stdout.contains("add to the paths: of its rule") && check.stdout.contains("backup: email"),
                "a new JSON key gets its suggestion too: \(check.stdout)")
        #expect(check.stdout.contains("mobile: { transform: phone"), "the suggestion comes with the drift: \(check.stdout)")
        #expect(check.stdout.contains("address: email"), "named like an address, holding emails: \(check.stdout)")
        #expect(!check.stdout.contains("@corp.example.org") && !check.stdout.contains("@example.net"),
                "suggestions never quote a sampled value")

        let (samples, types) = try RunCommandTests.parseMetrics(metrics)
        #expect(samples[#"snapmask_unruled_columns{database="app"}"#] == 3)
        #expect(samples[#"snapmask_check_problems{database="app"}"#] == 5)
        #expect(samples[#"snapmask_last_check_success{database="app"}"#] == 0)
        #expect(types["snapmask_unruled_columns"] == "gauge")

        let json = try CommandRunner.run(["check", "-c", job.path, "--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try Self.json(json.stdout) as? [String: Any])
        let database = try #require((object["databases"] as? [[String: Any]])?.first)
        #expect(database["status"] as? String == "drift")
        let problems = try #require(database["problems"] as? [[String: Any]])
        #expect(problems.compactMap { $0["drift"] as? String }.sorted() == ["changed", "new", "new", "new", "removed"])
        #expect((database["suggestedRules"] as? String)?.contains("public.newsletter:") == true)

        // The patch holds only what the rule file lacks.
        let patch = try CommandRunner.run(["scan", "-c", job.path, "--patch"])
        #expect(patch.status == 0, "\(patch.stderr)")
        #expect(patch.stdout.contains("mobile:") && patch.stdout.contains("public.newsletter:"))
        #expect(patch.stdout.contains("backup: email") && !patch.stdout.contains("contact.email"), "\(patch.stdout)")
        #expect(!patch.stdout.contains("plan:") && !patch.stdout.contains("\n      email:"), "\(patch.stdout)")
    }

    @Test func keptColumnsThatLookPersonalWarnOrStopTheRun() throws {
        let scratch = try PostgresScratch("scankeep")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let rules = """
            tables:
              users:
                columns: { id: keep, email: keep, plan: keep, note: keep }
              sessions:
                columns: { id: keep, user_id: keep, user_agent: keep }
            """
        let job = try scratch.job(rules: rules)
        defer { job.remove() }

        let warned = try CommandRunner.run(["check", "-c", job.path])
        #expect(warned.status == 0, "\(warned.stdout)")
        #expect(warned.stdout.contains("public.users.email") && warned.stdout.contains("public.users.email (keep): email; 50 of 50"), "\(warned.stdout)")

        try job.write("rules.yaml", "strict_keep: true\n" + rules)
        let strict = try CommandRunner.run(["check", "-c", job.path, "--format", "json"])
        #expect(strict.status == 1)
        let database = try #require(((try Self.json(strict.stdout) as? [String: Any])?["databases"] as? [[String: Any]])?.first)
        #expect(database["status"] as? String == "kept personal data")
        #expect((database["keptPersonal"] as? [[String: Any]])?.compactMap { $0["column"] as? String } == ["email"])

        let restore = try CommandRunner.run(["restore", "-c", job.path])
        #expect(restore.status == 1)
        #expect(restore.stderr.contains("strict_keep") && restore.stderr.contains("public.users.email"), "\(restore.stderr)")
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"], "nothing was written")
    }

    @Test func aSnapshotCarriesItsCoverageSealed() throws {
        let setup = try SnapshotCommandTests.setup("scansnap")
        defer { SnapshotCommandTests.cleanup(setup) }
        let created = try CommandRunner.run(["snapshot", "create", "-c", setup.job.path, "--name", "app-cov"],
                                            environment: SnapshotCommandTests.snapshotSide)
        #expect(created.status == 0, "\(created.stderr)")

        let coverage = try CommandRunner.run(["report", "coverage", "-c", setup.job.path, "--snapshot", "latest", "--summary"],
                                             environment: SnapshotCommandTests.stagingSide)
        #expect(coverage.status == 0, "\(coverage.stderr)")
        #expect(coverage.stdout.contains("Masking coverage of database app (postgres)"), "\(coverage.stdout)")
        #expect(coverage.stdout.contains("email: 1"), "\(coverage.stdout)")

        let wrongKey = try CommandRunner.run(["report", "coverage", "-c", setup.job.path, "--snapshot", "latest"],
                                             environment: ["SNAPMASK_ARCHIVE_KEY": "b3RoZXItMzItYnl0ZXMtb2Yta2V5LS0tLS0tLS0tLS0="])
        #expect(wrongKey.status != 0, "a coverage page is read only from a snapshot whose seal holds: \(wrongKey.stdout)")
    }
}
