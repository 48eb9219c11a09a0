import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// JSON columns through a real MySQL restore, with the same cases as PostgreSQL's json and jsonb.
@Suite struct MySQLJSONTests {
    static let cases: [(input: String, output: String)] = [
        (#"{"list":[1,2,"x"]}"#, #"{"list":[1,2,"x"]}"#),
        (#"{"tags":[{"a":1},[2]]}"#, #"{"tags":[{"a":1},[2]]}"#),
        (#"{"contact":{"email":"a@b.io","work":"c@d.io"}}"#, #"{"contact":{"email":"EMAIL(a@b.io)","work":"EMAIL(c@d.io)"}}"#),
        (#"{"orders":[{"to":{"home":"e@f.io","old":["g@h.io",{"x":"i@j.io"}],"ok":true},"qty":2},{"to":null,"qty":1}]}"#,
         #"{"orders":[{"to":{"home":"EMAIL(e@f.io)","old":["EMAIL(g@h.io)",{"x":"EMAIL(i@j.io)"}],"ok":true},"qty":2},{"to":null,"qty":1}]}"#),
    ]

    static func expected(_ template: String) throws -> String {
        let email = try TransformerCatalog.compile(TransformSpec(name: "email"), key: try MaskingKey(TestJob.maskingKey))
        var text = template
        while let range = text.range(of: #"EMAIL\(([^)]*)\)"#, options: .regularExpression) {
            let original = String(text[range].dropFirst(6).dropLast())
            text.replaceSubrange(range, with: try email.mask(original)!)
        }
        return text
    }

    /// The same JSON value whatever the server's spelling (MySQL 8 reorders keys and adds spaces).
    static func normalized(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]),
                      as: UTF8.self)
    }

    static func sourceSQL(_ extra: [String] = []) -> String {
        let rows = (cases.map(\.input) + extra).enumerated().map { index, document in
            "(\(index + 1), '\(document.replacingOccurrences(of: "'", with: "''"))')"
        }
        return "CREATE TABLE docs (id int PRIMARY KEY, doc json);\nINSERT INTO docs VALUES \(rows.joined(separator: ", "));"
    }

    static let rules = """
        tables:
          docs:
            columns:
              id: keep
              doc: { transform: json, paths: { list: keep, "tags[]": keep, contact: email, "orders[].to": email, "orders[].qty": keep } }
        """

    @Test func subtreeRulesKeepTheStructure() throws {
        let scratch = try MySQLScratch("myjson")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL())
        let job = try MySQLRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let report = try MySQLRestoreTests.restore(job)
        #expect(report.outcome == "swapped")
        for (index, example) in Self.cases.enumerated() {
            let staged = try scratch.rows("stage", "SELECT doc FROM docs WHERE id = \(index + 1)").first?[0]
            #expect(try Self.normalized(staged) == Self.normalized(try Self.expected(example.output)), "case \(index + 1): \(staged ?? "NULL")")
        }
        let result = try #require(report.leakChecks.first { $0.column == "doc" && $0.path == "contact" }, "\(report.leakChecks)")
        #expect(result.sampled > 0 && result.leaks == 0)
    }

    @Test func aKeyNoPathCoversIsListedByCheckAndStopsTheRestore() throws {
        let scratch = try MySQLScratch("myjsonkey")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL([#"{"contact":{"email":"k@l.io"},"fax":"+1 415 555 0199"}"#]))
        let job = try MySQLRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let engine = MySQLEngine(job: database)
        var schema = try engine.inspectSource()
        try JSONColumnSampling.discover(in: &schema, rules: rules, sample: engine.sampleValues)
        let problems = SchemaCheck.problems(rules: rules, schema: schema).map(\.description)
        #expect(problems.count == 1 && problems[0].hasPrefix("docs.doc: JSON path fax: path has no rule (string); "
                                                                + "add `\"fax\": keep` (or a transformer) to the paths: of doc ("),
                "\(problems)")
        do {
            _ = try MySQLRestoreTests.restore(job)
            Issue.record("a JSON key without a rule reached staging")
        } catch {
            #expect("\(error)".contains("fax") && !"\(error)".contains("555 0199"), "\(error)")
        }
    }
}
