import Foundation
import Snapmask
import SnapmaskPostgres
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// Restores against the MongoDB-wire test server: kept values are byte-identical, masked paths
/// hold no original, staging gets the source's indexes and options, the overrides and the filter.
@Suite(.serialized) struct DocumentDBRestoreTests {
    @Test func theShippedRulesRestoreTheFixtureMaskedIntoStaging() throws {
        let scratch = try DocumentDBScratch("docrestore")
        defer { scratch.drop() }
        try scratch.loadFixture("src")
        try scratch.markStaging()
        let job = try DocumentDBJobs.job(scratch, rules: try DocumentDBJobs.shipped("rules/documentdb/messages.yaml"),
                                         overrides: try DocumentDBJobs.shipped("rules/overrides/documentdb/messages.yaml"))
        defer { job.remove() }
        let report = try DocumentDBJobs.restore(job)
        #expect(report.outcome == "swapped")
        #expect(report.rowCountsVerified)
        #expect(report.leakChecks.count >= 10 && report.leakChecks.allSatisfy { $0.leaks == 0 }, "\(report.leakChecks)")
        #expect(report.leakChecks.contains { $0.column == "recipients[].email" && $0.sampled > 0 })
        #expect(report.overrides.map(\.rowsAffected) == [200, 1, 200, 20])

        // Staging now has the source's collections (the old marker collection is gone), no shadow, no lock.
        #expect(try scratch.collections("stage") == ["audit_events", "devices", "messages", "notifications", "snapmask_locks",
                                                     "users", "webhooks"])
        #expect(try scratch.documents("stage", "snapmask_locks").isEmpty)

        // No original e-mail address, phone number or name survives anywhere, arrays included.
        let users = try scratch.documents("src", "users")
        let originals = users.flatMap { document -> [String] in
            let user = try! JSONSerialization.jsonObject(with: Data(document.utf8)) as! [String: Any]
            let name = user["name"] as! [String: Any]
            return [(user["email"] as! String).lowercased(), user["phone"] as! String,
                    "\(name["first"] as! String) \(name["last"] as! String)"]
        }
        for collection in ["users", "messages", "notifications"] {
            let staged = try scratch.documents("stage", collection).joined(separator: "\n").lowercased()
            let found = originals.filter { staged.contains($0.lowercased()) && $0 != "Admin QuikApp" }
            #expect(found.isEmpty, "\(collection) still holds \(found.prefix(5))")
        }
        // Kept values and every type around the masked ones are as they were.
        let sourceMessages = try scratch.documents("src", "messages")
        let stagedMessages = try scratch.documents("stage", "messages")
        #expect(sourceMessages.count == 200 && stagedMessages.count == 200)
        for (source, staged) in zip(sourceMessages, stagedMessages) {
            for kept in [#""attachments" : \[ \{ "file_id"[^\]]*?"size" : \{ "\$numberLong" : "\d+" \}"#,
                         #""sha256" : \{ "\$binary" : \{[^}]*\} \}"#, #""sent_at" : \{ "\$date" : \{[^}]*\} \}"#,
                         #""priority" : \{ "\$numberInt" : "\d" \}"#, #""spam_score" : \{ "\$numberDouble" : "[^"]*" \}"#,
                         #""read_at" : (null|\{ "\$date" : \{[^}]*\} \})"#, #""thread_id" : \{ "\$oid" : "\w+" \}"#] {
                let pattern = try Regex(kept)
                #expect(source.matches(of: pattern).map { String($0.output[0].substring ?? "") }
                            == staged.matches(of: pattern).map { String($0.output[0].substring ?? "") })
            }
        }
        // Masked values keep their types: dates, Decimal128, UUIDs.
        let stagedUsers = try scratch.documents("stage", "users").joined()
        #expect(stagedUsers.components(separatedBy: #""birth_date" : { "$date" : { "$numberLong" : "#).count == 201)
        #expect(stagedUsers.components(separatedBy: #""credit_balance" : { "$numberDecimal" : "#).count == 201)
        #expect(stagedUsers.components(separatedBy: #""avatar" : null"#).count == 201)
        #expect(try scratch.documents("src", "users").joined().components(separatedBy: #""deleted_at" : null"#).count
                    == stagedUsers.components(separatedBy: #""deleted_at" : null"#).count, "null stays null, missing stays missing")
        let devices = try scratch.documents("stage", "devices").joined()
        #expect(devices.components(separatedBy: #""subType" : "04""#).count == 201)
        #expect(!devices.contains(#""push_enabled" : true"#), "override: no push from staging")

        // The same email masks the same way in every collection: joins by email still hold.
        let adaFake = try #require(try scratch.documents("stage", "users", filter: #"{"user_no": 1}"#).first)
        let adaEmail = try #require(adaFake.firstMatch(of: try Regex(#""email" : "([^"]+)""#))?.output[1].substring)
        #expect(try !scratch.documents("stage", "messages", filter: "{\"sender.email\": \"\(adaEmail)\"}").isEmpty)

        // Indexes and options came along; the filter and data: skip were honored.
        let client = try scratch.client()
        for collection in ["users", "messages", "notifications", "devices", "webhooks"] {
            // Every index with all its options (unique, compound key order, TTL, partial filter,
            // sparse), the namespace aside.
            func indexes(_ database: String) throws -> String {
                try client.command("{\"listIndexes\": \"\(collection)\"}", database: scratch.database(database))
                    .replacing(try Regex(#""ns" : "[^"]*",? ?"#), with: "")
            }
            #expect(try indexes("stage") == indexes("src"), "indexes of \(collection)")
            #expect(try indexes("src").contains(#""name" : "_id_""#))
        }
        let notificationIndexes = try client.command(#"{"listIndexes": "notifications"}"#, database: scratch.database("stage"))
        #expect(notificationIndexes.contains(#""expireAfterSeconds" : 157680000"#) && notificationIndexes.contains(#""sparse" : true"#))
        let messageIndexes = try client.command(#"{"listIndexes": "messages"}"#, database: scratch.database("stage"))
        #expect(messageIndexes.contains(#""partialFilterExpression" : { "read" : false }"#)
                    && messageIndexes.contains(#""key" : { "thread_id" : 1, "sent_at" : -1 }"#))
        let listing = try client.command(#"{"listCollections": 1}"#, database: scratch.database("stage"))
        #expect(listing.contains(#""capped" : true"#) && listing.contains(#""$jsonSchema""#))
        #expect(try scratch.documents("stage", "audit_events").isEmpty)
        #expect(try scratch.documents("stage", "notifications").count
                    == scratch.documents("src", "notifications", filter: #"{"created_at": {"$gte": {"$date": "2025-12-15T00:00:00Z"}}}"#).count)
        #expect(try scratch.documents("stage", "notifications").count < 200)
        // Overrides.
        #expect(try scratch.documents("stage", "webhooks", filter: #"{"enabled": true}"#).isEmpty)
        #expect(try scratch.documents("stage", "users", filter: #"{"email": "admin@staging.quikapp.test"}"#).count == 1)
    }

    @Test func everyBSONTypeRoundTripsByteForByte() throws {
        let scratch = try DocumentDBScratch("doctypes")
        defer { scratch.drop() }
        var documents = [#"""
            {"_id": {"$oid": "650000000000000000000001"}, "i32": {"$numberInt": "-2147483648"}, "i64": {"$numberLong": "9223372036854775807"},
             "dbl": {"$numberDouble": "-0.0"}, "nan": {"$numberDouble": "NaN"}, "inf": {"$numberDouble": "-Infinity"},
             "dec": {"$numberDecimal": "1234.5000"}, "decnan": {"$numberDecimal": "NaN"},
             "date": {"$date": {"$numberLong": "-14182940000"}}, "far": {"$date": {"$numberLong": "253402300799999"}},
             "bin0": {"$binary": {"base64": "AP8=", "subType": "00"}}, "bin2": {"$binary": {"base64": "AQID", "subType": "02"}},
             "bin3": {"$binary": {"base64": "MDEyMzQ1Njc4OWFiY2RlZg==", "subType": "03"}},
             "uuid": {"$binary": {"base64": "AAAAAAAAQACAAAAAAAAAAQ==", "subType": "04"}},
             "bin80": {"$binary": {"base64": "eHl6", "subType": "80"}}, "t": true, "f": false, "null": null,
             "nested": {"a": {"b": [1, {"c": null}, [], {}]}}, "arr": [1, "two", {"$numberLong": "3"}, 4.0, null],
             "empty": {}, "emptyarr": [], "ts": {"$timestamp": {"t": 1700000000, "i": 5}},
             "re": {"$regularExpression": {"pattern": "^a.*b$", "options": "imsx"}}, "min": {"$minKey": 1}, "max": {"$maxKey": 1},
             "code": {"$code": "function(){return 1}"}, "s": "é😀 \u0000 inside", "oid0": {"$oid": "000000000000000000000000"}}
            """#, #"{"_id": "string-id", "only_here": 1}"#, #"{"_id": {"k": "v", "n": 1}, "x": 1}"#,
            #"{"_id": {"$numberLong": "5"}, "a": [null, null]}"#, #"{"_id": 1.5}"#]
        documents += (0..<250).map { #"{"_id": {"$numberInt": "\#($0 + 10)"}, "n": {"$numberDouble": "\#($0).25"}, "s": "row \#($0)"}"# }
        try scratch.insert("src", "kept", documents)
        let fields = ["_id", "i32", "i64", "dbl", "nan", "inf", "dec", "decnan", "date", "far", "bin0", "bin2", "bin3", "uuid",
                      "bin80", "t", "f", "null", "nested", "arr", "empty", "emptyarr", "ts", "re", "min", "max", "code", "s",
                      "oid0", "only_here", "x", "a", "n"]
        let job = try DocumentDBJobs.job(scratch, rules: "collections:\n  kept:\n    fields:\n"
                                             + fields.map { "      \"\($0)\": keep" }.joined(separator: "\n"))
        defer { job.remove() }
        let report = try DocumentDBJobs.restore(job, tuning: DocumentDBTuning(cursorBatchSize: 50, batchBytes: 4096))
        #expect(report.tables.first?.rowsWritten == 255)
        let source = try scratch.rawDocuments("src", "kept")
        let staged = try scratch.rawDocuments("stage", "kept")
        #expect(source.count == 255)
        #expect(source == staged, "every document byte for byte")
    }

    @Test func theSameEmailMasksAsInPostgreSQL() throws {
        let scratch = try DocumentDBScratch("docpg")
        defer { scratch.drop() }
        let pg = try PostgresScratch("docpg")
        defer { pg.drop() }
        let people = [("ada.lovelace@quikapp.com", "+1 (415) 555-0101"), ("Grace.Hopper@QuikApp.com", "(212) 555-0199"),
                      ("alan.turing@quikapp.com", "+44 20 7946 0958")]
        _ = try pg.url("src", create: true, sql: "CREATE TABLE users (id int PRIMARY KEY, email text, phone text);"
                       + people.enumerated().map { "INSERT INTO users VALUES (\($0.offset), '\($0.element.0)', '\($0.element.1)');" }
                           .joined())
        try scratch.insert("src", "users", people.enumerated().map {
            #"{"_id": \#($0.offset), "email": "\#($0.element.0)", "contact": {"phones": ["\#($0.element.1)"]}, "cc": ["\#($0.element.0)"]}"#
        })
        let pgJob = try TestJob(databases: """
            app:
              engine: postgres
              source: \(try pg.url("src").raw)
              target: \(try pg.url("stage").raw)
              rules: rules.yaml
            """, files: ["rules.yaml": """
            tables:
              users: { columns: { id: keep, email: email, phone: { transform: phone, keep_last: 2 } } }
            """])
        defer { pgJob.remove() }
        let (pgDatabase, pgRules) = try pgJob.database("app")
        _ = try RestoreRunner(database: pgDatabase, engine: PostgresEngine(job: pgDatabase), rules: pgRules,
                              options: RestoreOptions(jobs: 1), observer: RecordingObserver()).run()
        let docJob = try DocumentDBJobs.job(scratch, rules: """
            collections:
              users:
                fields:
                  _id: keep
                  email: email
                  "contact.phones[]": { transform: phone, keep_last: 2 }
                  "cc[]": email
            """)
        defer { docJob.remove() }
        _ = try DocumentDBJobs.restore(docJob)

        let pgRows = try pg.rows("stage", "SELECT email, phone FROM users ORDER BY id")
        let documents = try scratch.documents("stage", "users")
        #expect(pgRows.count == 3 && documents.count == 3)
        for (row, document) in zip(pgRows, documents) {
            let email = try #require(row[0]), phone = try #require(row[1])
            #expect(!people.contains { $0.0 == email })
            #expect(document.contains(#""email" : "\#(email)""#) && document.contains(#""cc" : [ "\#(email)" ]"#),
                    "\(document) vs \(email)")
            #expect(document.contains(#""phones" : [ "\#(phone)" ]"#), "\(document) vs \(phone)")
        }
    }

    @Test func aSecondRestoreReplacesStagingCollectionByCollection() throws {
        let scratch = try DocumentDBScratch("docagain")
        defer { scratch.drop() }
        try scratch.insert("src", "a", (1...20).map { #"{"_id": \#($0), "email": "p\#($0)@corp.example"}"# })
        try scratch.insert("src", "b", [#"{"_id": 1, "v": 1}"#])
        let rules = "collections:\n  a: { fields: { _id: keep, email: email } }\n  b: { fields: { _id: keep, v: keep } }\n"
        let job = try DocumentDBJobs.job(scratch, rules: rules)
        defer { job.remove() }
        _ = try DocumentDBJobs.restore(job)
        #expect(try scratch.documents("stage", "a").count == 20)
        try scratch.insert("src", "a", [#"{"_id": 21, "email": "late@corp.example"}"#])
        try scratch.command("src", #"{"drop": "b"}"#)
        let second = try DocumentDBJobs.job(scratch, rules: "collections:\n  a: { fields: { _id: keep, email: email } }\n")
        defer { second.remove() }
        _ = try DocumentDBJobs.restore(second)
        #expect(try scratch.documents("stage", "a").count == 21)
        #expect(try scratch.collections("stage") == ["a", "snapmask_locks"], "b, gone from the source, is gone from staging")
    }
}
