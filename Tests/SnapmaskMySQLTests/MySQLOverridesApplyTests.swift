import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// `overrides apply` on live staging takes the target's lock like a restore does.
@Suite struct MySQLOverridesApplyTests {
    @Test func overridesApplyTakesTheLock() throws {
        let scratch = try MySQLScratch("myoverlock")
        defer { scratch.drop() }
        let source = try scratch.url("src", create: true, sql: "CREATE TABLE flags (name varchar(10) PRIMARY KEY, enabled int);")
        _ = try scratch.url("stage", create: true, sql: "CREATE TABLE flags (name varchar(10) PRIMARY KEY, enabled int); "
                                + "INSERT INTO flags VALUES ('a', 0);")
        let job = try MySQLRestoreTests.job(scratch, rules: "tables:\n  flags: { columns: { name: keep, enabled: keep } }\n",
                                            overrides: "- table: flags\n  set: { enabled: 1 }\n", source: source)
        defer { job.remove() }
        let (database, _) = try job.database("app")
        let engine = MySQLEngine(job: database)
        let holder = try engine.openTarget()
        try holder.lock()
        #expect(throws: TargetLocked.self) { try engine.applyOverridesToStaging(database.overrides) }
        #expect(try scratch.rows("stage", "SELECT enabled FROM flags") == [["0"]])
        holder.unlock()
        holder.close()
        #expect(try engine.applyOverridesToStaging(database.overrides).map(\.rowsAffected) == [1])
        #expect(try scratch.rows("stage", "SELECT enabled FROM flags") == [["1"]])
    }
}
