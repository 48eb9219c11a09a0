import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskDocumentDB

/// `overrides apply` on live staging takes the target's lock like a restore does.
@Suite struct DocumentDBOverridesApplyTests {
    @Test func overridesApplyTakesTheLock() throws {
        let scratch = try DocumentDBScratch("docoverlock")
        defer { scratch.drop() }
        try scratch.insert("src", "flags", [#"{"_id": "a", "enabled": false}"#])
        try scratch.insert("stage", "flags", [#"{"_id": "a", "enabled": false}"#])
        let job = try DocumentDBJobs.job(scratch, rules: "collections:\n  flags: { fields: { _id: keep, enabled: keep } }\n",
                                         overrides: "- collection: flags\n  set: { enabled: true }\n")
        defer { job.remove() }
        let (engine, database, _) = try DocumentDBJobs.engine(job)
        let holder = try engine.openTarget()
        try holder.lock()
        #expect { try engine.applyOverridesToStaging(database.overrides) } throws: { "\($0)".contains("another snapmask run") }
        #expect(try scratch.documents("stage", "flags") == [#"{ "_id" : "a", "enabled" : false }"#])
        holder.unlock()
        holder.close()
        #expect(try engine.applyOverridesToStaging(database.overrides).map(\.rowsAffected) == [1])
        #expect(try scratch.documents("stage", "flags") == [#"{ "_id" : "a", "enabled" : true }"#])
    }
}
