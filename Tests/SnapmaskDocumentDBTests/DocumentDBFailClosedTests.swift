import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// Every document is checked against the rules while it streams, whatever its collection's rules
/// are, and a rule on a subtree, an array or a map covers everything under it. Shapes imitate the
/// MongoDB sample datasets (sample_mflix users and comments, sample_analytics customers).
@Suite(.serialized) struct DocumentDBFailClosedTests {
    /// sample_analytics-like customers: every masked rule sits on a subtree or an array.
    static func customers(_ count: Int) -> [String] {
        (1...count).map { n in
            #"{"_id": \#(n), "username": "user\#(n)", "contact": {"email": "c\#(n)@corp.example", "work": {"email": "w\#(n)@work.example"}}, "read_by": ["alice\#(n)", "bob\#(n)"], "secret": {"token": "tok-\#(n)-xyz", "pin": \#(1000 + n)}, "active": true}"#
        }
    }

    static let subtreeRules = """
        collections:
          customers:
            fields:
              _id: keep
              username: { transform: username, unique: true }
              contact: email
              read_by: lorem
              secret: null
              active: keep
        """

    @Test func rulesOnSubtreesAndArraysMaskEverythingUnderThem() throws {
        let scratch = try DocumentDBScratch("docsubtree")
        defer { scratch.drop() }
        try scratch.insert("src", "customers", Self.customers(120))
        let job = try DocumentDBJobs.job(scratch, rules: Self.subtreeRules)
        defer { job.remove() }
        let (engine, _, compiled) = try DocumentDBJobs.engine(job)
        #expect(SchemaCheck.problems(rules: compiled, schema: try engine.inspectSource()).isEmpty)

        let report = try DocumentDBJobs.restore(job)
        #expect(report.outcome == "swapped")
        // The report names the subtree rules as masked, and the leak check compared values under them.
        #expect(report.tables.first?.maskedColumns == ["username", "contact", "read_by", "secret"], "\(report.tables)")
        for rule in ["contact", "read_by", "secret", "username"] {
            let result = try #require(report.leakChecks.first { $0.column == rule }, "\(report.leakChecks)")
            #expect(result.sampled > 0 && result.leaks == 0 && result.method == .byKey, "\(result)")
        }
        let staged = try scratch.documents("stage", "customers").joined(separator: "\n")
        for n in [1, 60, 120] {
            for original in ["c\(n)@corp.example", "w\(n)@work.example", "alice\(n)", "bob\(n)", "tok-\(n)-xyz"] {
                #expect(!staged.contains("\"\(original)\""), "\(original) reached staging")
            }
        }
        // Structure stays: nested keys, array length; secret became null; booleans are kept.
        let first = try #require(try scratch.documents("stage", "customers", filter: #"{"_id": 1}"#).first)
        let key = try MaskingKey(TestJob.maskingKey)
        let email = try TransformerCatalog.compile(TransformSpec(name: "email"), key: key)
        let lorem = try TransformerCatalog.compile(TransformSpec(name: "lorem"), key: key)
        #expect(first.contains(#""contact" : { "email" : "\#(try email.mask("c1@corp.example")!)", "work" : { "email" : "\#(try email.mask("w1@work.example")!)" } }"#), "\(first)")
        #expect(first.contains(#""read_by" : [ "\#(try lorem.mask("alice1")!)", "\#(try lorem.mask("bob1")!)" ]"#), "\(first)")
        #expect(first.contains(#""secret" : null"#) && first.contains(#""active" : true"#), "\(first)")
    }

    /// A field the sample missed, in a collection whose rules are all `keep`: the masker still
    /// checks every document, and the run stops naming the collection and the path.
    @Test func aFieldTheSampleMissedStopsACollectionWhoseRulesAreAllKeep() throws {
        let scratch = try DocumentDBScratch("dockeepall")
        defer { scratch.drop() }
        var documents = (2...240).map { #"{"_id": \#($0), "name": "movie \#($0)", "year": \#(1900 + $0 % 120)}"# }
        documents.insert(#"{"_id": 1, "name": "oldest", "year": 1901, "ssn": "078-05-1120"}"#, at: 0)
        try scratch.insert("src", "movies", documents)
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: """
            collections:
              movies: { fields: { _id: keep, name: keep, year: keep } }
            """)
        defer { job.remove() }
        // The masker alone, on the batch holding the oldest document: it refuses it.
        let (engine, _, rules) = try DocumentDBJobs.engine(job, sampling: SchemaSampling(documents: 4))
        let plan = TablePlan(table: TableShape(name: "movies", columns: [], primaryKey: ["_id"]), rule: rules.table(named: "movies"))
        let batch = try scratch.rawDocuments("src", "movies").prefix(3)
        let masker = engine.makeMasker(for: plan)
        #expect(throws: DocumentMaskingError.self) {
            _ = try masker.mask(RowBatch(data: Array(batch.joined()), rowCount: 3, firstRow: 0))
        }
        // The whole restore: refused by the check when the sample sees the field, by the masker
        // when it does not; either way staging is untouched and the value never printed.
        do {
            _ = try DocumentDBJobs.restore(job, sampling: SchemaSampling(documents: 4))
            Issue.record("a document with an unruled field was copied")
        } catch {
            let message = "\(error)"
            #expect(message.contains("movies") && message.contains("ssn"), "\(message)")
            #expect(!message.contains("078-05"), "\(message)")
        }
        try scratch.expectStagingUntouched()
    }

    /// sample_mflix-like sessions: `read_by` maps phone numbers to when they read; 40 readers
    /// over 30 documents. `check` says the field names are data; a `keys:` rule hashes them.
    @Test func mapsKeyedByDataNeedAKeysRuleAndGetTheirNamesMasked() throws {
        let scratch = try DocumentDBScratch("docmap")
        defer { scratch.drop() }
        let documents = (1...30).map { n -> String in
            let readers = (0..<4).map { r in #""+1 415 555 01\#(10 + (n * 7 + r * 11) % 40)": {"at": \#(n * 10 + r), "device": "phone"}"# }
            return #"{"_id": \#(n), "title": "post \#(n)", "read_by": {\#(readers.joined(separator: ", "))}}"#
        }
        try scratch.insert("src", "posts", documents)
        let unruled = try DocumentDBJobs.job(scratch, rules: """
            collections:
              posts: { fields: { _id: keep, title: keep, "read_by": keep } }
            """)
        defer { unruled.remove() }
        let (engine, _, compiled) = try DocumentDBJobs.engine(unruled, sampling: SchemaSampling(documents: 0))
        let schema = try engine.inspectSource()
        let columns = try #require(schema.table(named: "posts")).columns.map(\.name)
        #expect(columns.contains("read_by") && columns.contains("read_by.*.at") && columns.count < 10,
                "the 40 names collapse into one map: \(columns)")
        let problems = SchemaCheck.problems(rules: compiled, schema: schema).map(\.description)
        #expect(problems.count == 1 && problems[0].contains("posts.read_by: 'read_by' looks like a map keyed by data")
                    && problems[0].contains("keys: hash"), "\(problems)")
        #expect(!problems.joined().contains("415 555"), "field names that are data are never printed")

        let job = try DocumentDBJobs.job(scratch, rules: """
            collections:
              posts:
                fields:
                  _id: keep
                  title: keep
                  read_by: { keys: hash, values: keep }
            """)
        defer { job.remove() }
        let report = try DocumentDBJobs.restore(job, sampling: SchemaSampling(documents: 0))
        #expect(report.outcome == "swapped")
        let keysCheck = try #require(report.leakChecks.first { $0.column == "read_by (field names)" }, "\(report.leakChecks)")
        #expect(keysCheck.sampled > 0 && keysCheck.leaks == 0)
        let staged = try scratch.documents("stage", "posts").joined(separator: "\n")
        #expect(!staged.contains("415 555"), "no phone number is left as a field name")
        let hash = try TransformerCatalog.compile(TransformSpec(name: "hash"), key: try MaskingKey(TestJob.maskingKey))
        let first = try #require(try scratch.documents("stage", "posts", filter: #"{"_id": 1}"#).first)
        #expect(first.contains(#""\#(try hash.mask("+1 415 555 0117")!)" : { "at" : { "$numberInt" : "10" }, "device" : "phone" }"#),
                "\(first)")
    }

    /// The preview labels paths covered by an enclosing rule with that rule, and a map with many
    /// field names is one line, not one per name.
    @Test func previewLabelsPathsWithTheirCoveringRuleAndCollapsesMaps() throws {
        let scratch = try DocumentDBScratch("docpreview")
        defer { scratch.drop() }
        let documents = Self.customers(3).enumerated().map { index, document -> String in
            let readers = (0..<600).map { #""u\#(index)_\#($0)": 1"# }.joined(separator: ", ")
            return String(document.dropLast()) + #", "seen": {\#(readers)}}"#
        }
        try scratch.insert("src", "customers", documents)
        let job = try DocumentDBJobs.job(scratch, rules: Self.subtreeRules.replacingOccurrences(
            of: "active: keep", with: "active: keep\n      seen: { keys: hash, values: keep }"))
        defer { job.remove() }
        let result = try CommandRunner.run(["preview", "--config", job.path, "--database", "messages", "--table", "customers",
                                            "--rows", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count < 20, "1,800 map keys make one line: \(lines.count) lines")
        #expect(lines.contains { $0.contains("contact.work.email") && $0.hasSuffix("(email, by contact)") }, "\(result.stdout)")
        #expect(lines.contains { $0.contains("read_by[]") && $0.hasSuffix("(lorem, by read_by)") }, "\(result.stdout)")
        #expect(lines.contains { $0.contains("seen ") && $0.hasSuffix("(field names: hash)") }, "\(result.stdout)")
        #expect(!result.stdout.contains("(no rule)"), "\(result.stdout)")
    }

    /// Users keyed by their email: `_id` is masked, so no document can be matched with its copy.
    /// The leak check then searches the sampled originals at each rule's path in the whole
    /// shadow collection, and an override that writes an original back is found.
    @Test func documentsKeyedByAMaskedIDAreCheckedByValue() throws {
        let scratch = try DocumentDBScratch("docidleak")
        defer { scratch.drop() }
        try scratch.insert("src", "users", (0..<40).map { #"{"_id": "user\#($0)@corp.example.org", "backup": "b\#($0)@corp.example.org", "plan": "pro"}"# })
        let rules = """
            collections:
              users:
                fields: { _id: { transform: email, unique: true }, backup: email, plan: keep }
            """
        let clean = try DocumentDBJobs.job(scratch, rules: rules)
        defer { clean.remove() }
        let report = try DocumentDBJobs.restore(clean)
        let checks = report.leakChecks.filter { $0.table == "users" }
        #expect(checks.count == 2 && checks.allSatisfy { $0.method == .byValue && $0.sampled == 40 && $0.leaks == 0 }, "\(checks)")

        let leaky = try DocumentDBJobs.job(scratch, rules: rules, overrides: """
            - collection: users
              set: { backup: "b7@corp.example.org" }
            """)
        defer { leaky.remove() }
        #expect {
            _ = try DocumentDBJobs.restore(leaky)
        } throws: { error in
            "\(error)".contains("original values found") && "\(error)".contains("users.backup") && !"\(error)".contains("b7@")
        }
    }
}
