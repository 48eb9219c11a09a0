import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// `check` discovers the field paths of each collection by sampling and fails closed.
@Suite struct DocumentDBCheckTests {
    func problems(_ scratch: DocumentDBScratch, rules: String, sampling: SchemaSampling = SchemaSampling()) throws -> [String] {
        let job = try DocumentDBJobs.job(scratch, rules: rules)
        defer { job.remove() }
        let (engine, _, compiled) = try DocumentDBJobs.engine(job, sampling: sampling)
        return SchemaCheck.problems(rules: compiled, schema: try engine.inspectSource()).map(\.description)
    }

    @Test func theShippedRulesMatchTheFixture() throws {
        let scratch = try DocumentDBScratch("doccheckok")
        defer { scratch.drop() }
        try scratch.loadFixture("src")
        #expect(try problems(scratch, rules: try DocumentDBJobs.shipped("rules/documentdb/messages.yaml")) == [])
    }

    @Test func everyKindOfMismatchIsListedWithCollectionAndPath() throws {
        let scratch = try DocumentDBScratch("doccheck")
        defer { scratch.drop() }
        try scratch.insert("src", "people", [
            #"{"_id": 1, "email": "a@b.c", "born": {"$date": "1980-01-01T00:00:00Z"}, "profile": {"theme": "dark", "x": {"y": 1}}, "r": [{"email": "d@e.f", "phone": "555"}], "nick": "ann", "none": null, "gone": null, "tags": []}"#,
            #"{"_id": 2, "email": "g@h.i", "born": {"$date": "1981-01-01T00:00:00Z"}, "ssn": "078-05-1120", "mixed": 5, "r": [], "nick": "bob"}"#,
            #"{"_id": 3, "email": "j@k.l", "mixed": "five", "contact": null, "r": [{"email": "m@n.o"}], "nick": "cy"}"#,
        ])
        try scratch.command("src", #"{"createIndexes": "people", "indexes": [{"key": {"nick": 1}, "name": "nick_unique", "unique": true}]}"#)
        try scratch.insert("src", "unruled", [#"{"_id": 1}"#])
        let found = try problems(scratch, rules: """
            collections:
              people:
                fields:
                  _id: null
                  email: email
                  born: email
                  profile: keep
                  "r[].email": email
                  nick: first_name
                  none: keep
                  mixed: phone
                  contact.email: email
                  rare_field_never_sampled: keep
              missing: { data: skip }
            """)
        let expected = [
            "unruled: collection has no rule",
            "missing: the rule names a collection the source does not have",
            "people._id: the null transformer cannot write this path",
            "people._id: path is under the document key but null cannot promise distinct outputs",
            "people.born: email cannot mask the values found here (date)",
            "people.r[].phone: field path has no rule (string)",
            "people.ssn: field path has no rule (string)",
            // Null or empty, but its name would still be copied: the restore asks for a rule, so check does.
            "people.gone: field path has no rule (null)",
            "people.tags: field path has no rule (empty array)",
            "people.nick: path is under a unique index on (nick) but first_name cannot promise distinct outputs",
        ]
        for prefix in expected {
            #expect(found.contains { $0.hasPrefix(prefix) }, "missing: \(prefix)\nfound: \(found)")
        }
        #expect(found.count == expected.count, "\(found)")
    }

    @Test func aNewFieldInProductionFailsTheCheck() throws {
        let scratch = try DocumentDBScratch("docnewfield")
        defer { scratch.drop() }
        try scratch.loadFixture("src", only: ["devices"])
        let rules = """
            collections:
              devices:
                fields: { _id: keep, user_id: keep, platform: keep, token: { transform: hash, unique: true }, push_id: uuid,
                          push_enabled: keep, app_version: keep, last_seen: keep }
            """
        #expect(try problems(scratch, rules: rules) == [])
        try scratch.insert("src", "devices", [#"{"_id": "new", "user_id": 1, "platform": "ios", "token": "t", "owner": {"email": "x@y.z"}}"#])
        #expect(try problems(scratch, rules: rules) == [
            "devices.owner.email: field path has no rule (string); add `\"owner.email\": keep` if it holds no personal data, "
                + "a transformer, or a rule on an enclosing path"])
    }
}
