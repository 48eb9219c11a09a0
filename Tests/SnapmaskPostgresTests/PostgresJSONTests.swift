import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// JSON columns (json and jsonb) through a real restore: a rule on an object or an array keeps its
/// structure, every key needs a rule, and `check` finds the keys no rule covers in a sample.
@Suite struct PostgresJSONTests {
    /// The documents of the JSON cases: (input, expected output with `EMAIL(x)` for email's fake of x).
    static let cases: [(input: String, output: String)] = [
        (#"{"list":[1,2,"x"]}"#, #"{"list":[1,2,"x"]}"#),
        (#"{"tags":[{"a":1},[2]]}"#, #"{"tags":[{"a":1},[2]]}"#),
        (#"{"contact":{"email":"a@b.io","work":"c@d.io"}}"#, #"{"contact":{"email":"EMAIL(a@b.io)","work":"EMAIL(c@d.io)"}}"#),
        (#"{"orders":[{"to":{"home":"e@f.io","old":["g@h.io",{"x":"i@j.io"}],"ok":true},"qty":2},{"to":null,"qty":1}]}"#,
         #"{"orders":[{"to":{"home":"EMAIL(e@f.io)","old":["EMAIL(g@h.io)",{"x":"EMAIL(i@j.io)"}],"ok":true},"qty":2},{"to":null,"qty":1}]}"#),
    ]

    static let paths = #"{ list: keep, "tags[]": keep, contact: email, "orders[].to": email, "orders[].qty": keep }"#

    /// Replaces `EMAIL(x)` with the fake the masking key gives x.
    static func expected(_ template: String) throws -> String {
        let email = try TransformerCatalog.compile(TransformSpec(name: "email"), key: try MaskingKey(TestJob.maskingKey))
        var text = template
        while let range = text.range(of: #"EMAIL\(([^)]*)\)"#, options: .regularExpression) {
            let original = String(text[range].dropFirst(6).dropLast())
            text.replaceSubrange(range, with: try email.mask(original)!)
        }
        return text
    }

    static func sourceSQL(_ extra: [String] = []) -> String {
        let rows = (cases.map(\.input) + extra).enumerated().map { index, document in
            let literal = document.replacingOccurrences(of: "'", with: "''")
            return "(\(index + 1), '\(literal)', '\(literal)')"
        }
        return "CREATE TABLE docs (id int PRIMARY KEY, jb jsonb, js json);\n"
            + "INSERT INTO docs VALUES \(rows.joined(separator: ", "));"
    }

    static let rules = """
        tables:
          public.docs:
            columns:
              id: keep
              jb: { transform: json, paths: \(paths) }
              js: { transform: json, paths: \(paths) }
        """

    @Test func subtreeRulesKeepTheStructureInJsonAndJsonb() throws {
        let scratch = try PostgresScratch("pgjson")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL())
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let report = try PostgresRestoreTests.restore(job)
        #expect(report.outcome == "swapped")
        for (index, example) in Self.cases.enumerated() {
            let expected = try Self.expected(example.output)
            // json keeps the text as written; jsonb compares as values.
            let rows = try scratch.rows("stage", "SELECT js::text, (jb = '\(expected)'::jsonb)::text, jb::text FROM docs "
                                            + "WHERE id = \(index + 1)")
            #expect(rows.first?[0] == expected, "json case \(index + 1)")
            #expect(rows.first?[1] == "true", "jsonb case \(index + 1): \(rows)")
        }
        // The leak check looked inside the documents, per path rule.
        for path in ["contact", "orders[].to"] {
            let result = try #require(report.leakChecks.first { $0.column == "jb" && $0.path == path }, "\(report.leakChecks)")
            #expect(result.sampled > 0 && result.leaks == 0 && result.method == .byKey)
        }
    }

    /// A key that no path covers: `check` lists it with the line to add; the restore refuses it
    /// and never prints its value.
    @Test func aKeyNoPathCoversIsListedByCheckAndStopsTheRestore() throws {
        let scratch = try PostgresScratch("pgjsonkey")
        defer { scratch.drop() }
        // `deleted` is null wherever it appears: nothing to mask, but its name would be copied.
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL([#"{"contact":{"email":"k@l.io"},"fax":"+1 415 555 0199"}"#,
                                                                      #"{"contact":{"email":"m@n.io"},"deleted":null}"#]))
        let job = try PostgresRestoreTests.job(scratch, rules: Self.rules)
        defer { job.remove() }
        let (database, rules) = try job.database("app")
        let engine = PostgresEngine(job: database)
        var schema = try engine.inspectSource()
        try JSONColumnSampling.discover(in: &schema, rules: rules, sample: engine.sampleValues)
        let problems = SchemaCheck.problems(rules: rules, schema: schema).map(\.description)
        #expect(problems.count == 4, "\(problems)")
        for column in ["jb", "js"] {
            #expect(problems.contains { $0.hasPrefix("public.docs.\(column): JSON path fax: path has no rule (string); "
                                                      + "add `\"fax\": keep` (or a transformer) to the paths: of \(column) (") },
                    "\(problems)")
            #expect(problems.contains { $0.hasPrefix("public.docs.\(column): JSON path deleted: path has no rule (null)") },
                    "\(problems)")
        }
        do {
            _ = try PostgresRestoreTests.restore(job)
            Issue.record("a JSON key without a rule reached staging")
        } catch {
            #expect("\(error)".contains("fax") && !"\(error)".contains("555 0199"), "\(error)")
        }
        #expect(try scratch.databases().filter { $0.hasSuffix("_stage") }.isEmpty, "staging was never created")
    }
}
